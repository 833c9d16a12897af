"""The monthly report: every section and number against the warehouse, nothing loaded
from another host, everything from the data escaped; then opened in headless Chromium."""

import json
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipelines import fr
from tests.conftest import ARTEFACTS, ROOT, connect

SECTIONS = {"synthese": "1. Synthèse", "volume": "3. Volume par ministère",
            "startups": "4. Usage réservé aux Startups d'État",
            "refus": "5. Refus par titulaire, tourniquet et plafonds", "qualite": "6. Qualité des données"}

# Every chart the template places draws one plotly figure: the expected count comes from the template.
CHARTS_IN_TEMPLATE = len(re.findall(r"\{\{ chart\(charts\.", (ROOT / "pipelines" / "report" / "templates" /
                                                               "report.html.j2").read_text(encoding="utf-8")))


def with_flagged(con):
    """The MONTANT_ATYPIQUE contract (findings.findings): orders whose amount is flagged and not reviewed."""
    con.execute("CREATE OR REPLACE TEMP VIEW flagged AS SELECT coalesce(numero_bc, subject) AS numero_bc "
                "FROM findings.findings WHERE rule = 'MONTANT_ATYPIQUE' AND active AND status = 'open'")
    return con
SEVERITY_ORDER = ["critique", "alerte", "info"]


class Tables(HTMLParser):
    """Collects each table's rows (by id), data-valeur attributes, and every URL."""

    def __init__(self):
        super().__init__()
        self.tables, self.values, self.urls, self.ids = {}, {}, [], set()
        self.details = {}  # table id -> texts of the detail rows (long explanations under a row)
        self._table, self._row, self._cell, self._detail = None, None, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for name in ("src", "href"):
            if a.get(name):
                self.urls.append(a[name])
        if "data-valeur" in a:
            self.values[a.get("id") or a.get("class")] = a["data-valeur"]
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
            self.details[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
            self._detail = a.get("class") == "vigie-detail"
        elif tag == "td" and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                (self.details if self._detail else self.tables)[self._table].append(
                    " ".join(self._row) if self._detail else self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


@pytest.fixture(scope="module")
def report(demo_db):
    path = demo_db.parent / "rapports" / "2026-10" / "rapport_conformite_2026-10.html"
    assert path.exists()
    html = path.read_text(encoding="utf-8")
    parsed = Tables()
    parsed.feed(html)
    return path, html, parsed


def rows(parsed, table_id):
    body = parsed.tables[table_id]
    return [] if body == [["Aucune ligne."]] else body


def test_every_section_is_there_with_a_chart_and_its_table(report):
    path, html, parsed = report
    for section_id, title in SECTIONS.items():
        assert section_id in parsed.ids
        assert f"<h2>{title}</h2>" in unescape(html)
        section = html.split(f'id="{section_id}"')[1].split("</section>")[0]
        assert "plotly-graph-div" in section and "<table" in section
    assert (path.parent / "plotly.min.js").stat().st_size > 1_000_000
    assert html.count('class="plotly-graph-div"') == CHARTS_IN_TEMPLATE


def test_numbers_match_the_warehouse(report, demo_db):
    _, html, parsed = report
    con = with_flagged(connect(demo_db))
    for agreement_id, orders, amount in con.execute(
            "SELECT agreement_id, count(*) FILTER (WHERE montant_ht >= 0), coalesce(sum(montant_ht), 0) "
            "FROM mart.orders_enriched WHERE date_bc >= DATE '2026-10-01' AND date_bc < DATE '2026-11-01' "
            "AND numero_bc NOT IN (SELECT numero_bc FROM flagged) GROUP BY 1").fetchall():
        kpi = html.split(f'id="synthese-{agreement_id}"')[1].split("</div>")[0]
        assert f'data-valeur="{orders}"' in kpi
        assert fr.money(amount, 0) + " HT" in kpi
    for severity, n in con.execute("SELECT severity, count(*) FROM findings.findings WHERE active AND status = 'open' "
                                   "GROUP BY 1").fetchall():
        assert parsed.values[f"constats-{severity}"] == str(n)
    expected_counts = {
        "tableau-hors-startups": "SELECT count(*) FROM findings.findings WHERE active AND rule IN "
                                 "('HORS_STARTUP', 'EXCEPTION_DINUM', 'PHASE_NON_ELIGIBLE')",
        "tableau-refus": "SELECT count(*) FROM mart.holder_refusals",
        "tableau-quarantaine": "SELECT count(*) FROM raw.inbox_quarantine",
        "tableau-fichiers": "SELECT count(*) FROM raw.inbox_files",
        "tableau-tourniquet": "SELECT count(*) FROM findings.findings WHERE active AND rule = 'TOURNIQUET'",
        "tableau-accords": "SELECT count(*) FROM ref.agreements",
        "tableau-decp-lecture": "SELECT count(*) FROM stg.decp__load_quality",
        "tableau-decp-revue": "SELECT count(*) FROM mart.decp_review",
        "tableau-phases-ecartees": "SELECT count(*) FROM stg.betagouv__quarantine",
        "tableau-validation": "SELECT count(DISTINCT suite) FROM validation.results",
        "tableau-ministeres": "SELECT count(DISTINCT (agreement_id, buyer_ministry)) FROM mart.orders_enriched "
                              "WHERE date_bc >= DATE '2026-10-01' AND date_bc < DATE '2026-11-01'",
    }
    for table_id, query in expected_counts.items():
        assert len(rows(parsed, table_id)) == con.execute(query).fetchone()[0], table_id
    # refusals per holder, with whom to write to (in the row under it)
    refusal_rows = {r[1]: r for r in rows(parsed, "tableau-refus")}
    details = [" ".join(d.split()) for d in parsed.details["tableau-refus"]]
    for holder, total, contact in con.execute("SELECT holder_name, total, contact_email FROM mart.holder_refusals").fetchall():
        assert refusal_rows[holder][7] == str(total)
        assert f"Écrire à : {contact or 'contact non publié'}" in details
    # the share of amounts going to listed Startups d'État
    share = {r[0]: r for r in rows(parsed, "tableau-part-startups")}
    listed, total = con.execute(
        "SELECT sum(montant_ht) FILTER (WHERE startup_id IS NOT NULL AND startup_listed_at_date), "
        "sum(montant_ht) FROM mart.orders_enriched WHERE agreement_id = 'acim-2021'").fetchone()
    assert share["ACIM 2021"][-1] == fr.percent(float(listed) / float(total))


def test_unknowns_are_said_not_invented(report):
    _, html, parsed = report
    agreements = {r[0]: r for r in rows(parsed, "tableau-accords")}
    assert "titulaires non publiés" in agreements["Support logiciels libres"][-1]
    assert "période non publiée" in agreements["Expertise logiciels libres"][-1]
    assert "montant maximum non publié" in agreements["ACIM 2021"][-1]
    assert agreements["ACIM 2026"][-1] == "—"


def test_no_other_host_is_ever_referenced(report):
    path, html, parsed = report
    for url in parsed.urls:
        assert not re.match(r"^(https?:)?//", url), url
    assert re.findall(r"<script[^>]+src=\"([^\"]+)\"", html) == ["plotly.min.js"]
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html
    assert not re.search(r"https?://", html.split("<style>")[0])


def test_data_is_escaped(workspace, cli):
    (workspace / "inbox" / "piege.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\n"
        "XSS-1;03/10/2026;<img src=x onerror=alert(1)>;<script>alert('vigie')</script>;OCTO;1 000\n", encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        cli(*argv)
    code, out, _ = cli("report", "--month", "2026-10", "--output", str(workspace / "rapport"))
    assert code == 0
    html = (workspace / "rapport" / "rapport_conformite_2026-10.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;vigie&#39;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "\\u003cscript\\u003e" in html or "&lt;script&gt;" in html


def test_filter_on_one_agreement(demo_copy, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    code, out, _ = cli("report", "--month", "2026-10", "--agreement", "acim-2021", "--output", str(tmp_path))
    assert code == 0
    html = (tmp_path / "rapport_conformite_2026-10_acim-2021.html").read_text(encoding="utf-8")
    assert 'id="synthese-acim-2021"' in html and 'id="synthese-acim-2026"' not in html
    assert "accord-cadre acim-2021 seulement" in html
    code, _, err = cli("report", "--month", "2026-10", "--agreement", "inconnu", "--output", str(tmp_path))
    assert code == 2 and "Accord-cadre inconnu" in err


def test_a_month_without_orders_still_reports(demo_copy, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    code, out, _ = cli("report", "--month", "2019-01", "--output", str(tmp_path))
    assert code == 0
    html = (tmp_path / "rapport_conformite_2019-01.html").read_text(encoding="utf-8")
    assert "janvier 2019" in html
    parsed = Tables()
    parsed.feed(html)
    assert parsed.tables["tableau-ministeres"] == [["Aucune ligne."]]
    orders = re.findall(r'class="vigie-nb-commandes" data-valeur="([^"]*)"', html)  # one per agreement, not the last
    assert orders == ["0"] * html.count('class="vigie-kpi" id="synthese-') and orders
    assert "Aucune donn\\u00e9e pour cette p\\u00e9riode." in html  # the empty charts say so


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]
AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"

# Every table, at this viewport, within its container and within the page's main column.
OVERFLOWS = """() => [...document.querySelectorAll('table')].map(t => {
    const box = (t.closest('.fr-table') || t.parentElement).getBoundingClientRect();
    const main = document.querySelector('main').getBoundingClientRect();
    const r = t.getBoundingClientRect();
    return {id: t.id, right: r.right, box: box.right, main: main.right, scroll: t.scrollWidth,
            width: (t.closest('.fr-table') || t.parentElement).clientWidth};
  }).filter(x => x.right > x.box + 1 || x.right > x.main + 1 || x.scroll > x.width + 1)"""


def launch(p):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(chromium).exists(), "Chromium manque : .ci/run l'installe (paquet Debian chromium)"
    return p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)


@pytest.mark.browser
def test_the_report_draws_in_headless_chromium(report):
    from playwright.sync_api import sync_playwright

    path, _, _ = report
    ARTEFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console, requests = [], []
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        charts = page.locator(".plotly-graph-div")
        assert charts.count() == CHARTS_IN_TEMPLATE
        page.wait_for_function(
            "[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('svg.main-svg'))",
            timeout=60_000)
        for i in range(charts.count()):
            assert charts.nth(i).locator("svg.main-svg").count() >= 1
            assert charts.nth(i).bounding_box()["height"] > 100
        # the whole report at 1400 px, kept as an artefact of the run
        page.screenshot(path=str(ARTEFACTS / "rapport_2026-10.png"), full_page=True)
        browser.close()
    assert [c for c in console if c[0] in ("error", "pageerror")] == []
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    assert (ARTEFACTS / "rapport_2026-10.png").stat().st_size > 50_000


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 1024])
def test_no_table_is_wider_than_its_column(report, width):
    from playwright.sync_api import sync_playwright

    path, _, parsed = report
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(path.as_uri())
        page.wait_for_function("document.fonts.status === 'loaded'")
        checked = page.evaluate("() => document.querySelectorAll('table').length")
        overflows = page.evaluate(OVERFLOWS)
        browser.close()
    assert checked == len(parsed.tables) and checked > 20
    assert overflows == []


@pytest.mark.browser
def test_axe_finds_no_serious_or_critical_wcag_violation(report):
    from playwright.sync_api import sync_playwright

    path, _, _ = report
    assert AXE.exists(), "axe-core manque : `make test` l'installe (tests/browser, npm ci)"
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(path.as_uri())
        page.wait_for_function(
            "[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('svg.main-svg'))",
            timeout=60_000)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})""")
        # charts are reachable with the keyboard: pressing Tab from the top reaches the first one
        focused = ""
        for _ in range(200):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.tagName + '#' + document.activeElement.id")
            if focused.startswith("FIGURE"):
                break
        browser.close()
    assert result["testEngine"]["version"] == "4.14.1"
    assert len(result["passes"]) > 10  # axe did check the page
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert focused == "FIGURE#graphique-1-figure"


@pytest.mark.browser
def test_pdf_is_printed_from_the_same_html(demo_copy, cli, monkeypatch, tmp_path, demo_db):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    code, out, err = cli("report", "--month", "2026-10", "--output", str(tmp_path), "--pdf")
    assert code == 0, err
    pdf = tmp_path / "rapport_conformite_2026-10.pdf"
    assert pdf.exists() and str(pdf) in out
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                             check=True).stdout).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert pages >= 5
    for n in range(1, pages + 1):
        assert f"Page {n} sur {pages}" in text
    assert text.count("\f") == pages
    flat = " ".join(text.split())
    for title in SECTIONS.values():
        assert title in flat
    con = connect(demo_db)
    pages_text = [" ".join(page.split()) for page in text.split("\f")]
    for finding_id, message in con.execute(
            "SELECT finding_id, message FROM findings.findings WHERE active AND status = 'open'").fetchall():
        assert finding_id in flat
        # no cut rows: a finding and the start of its explanation are on the same page
        page = next(p for p in pages_text if finding_id in p)
        assert " ".join(message.split())[:40] in page, finding_id
    assert "à 00:00" not in text

def section(html, section_id):
    return html.split(f'<section class="vigie-section" id="{section_id}">')[1].split("</section>")[0]


def test_table_of_contents_matches_the_numbered_headings(report):
    _, html, _ = report
    toc = re.findall(r'<a class="fr-summary__link" href="#([a-z]+)" data-numero="(\d+)">([^<]+)</a>', html)
    headings = re.findall(r'<section class="vigie-section" id="([a-z]+)">\s*<h2>(\d+)\. ([^<]+)</h2>', html)
    assert len(toc) == 7
    assert [(i, n, unescape(t)) for i, n, t in toc] == [(i, n, unescape(t)) for i, n, t in headings]
    assert [int(n) for _, n, _ in headings] == list(range(1, len(headings) + 1))


def test_every_open_finding_is_listed_by_severity_then_rule(report, demo_db):
    _, html, parsed = report
    con = connect(demo_db)
    listed = section(html, "constats").split('id="constats-revus"')[0]
    ids = re.findall(r'data-constat="([^"]+)"', listed)
    # new: first seen during the month reported on, as the « Apparus pendant le mois » column
    expected = con.execute("SELECT finding_id, severity, rule, timezone('Europe/Paris', first_seen_at)::DATE "
                           "BETWEEN DATE '2026-10-01' AND DATE '2026-10-31' "
                           "FROM findings.findings WHERE active AND status = 'open'").fetchall()
    assert sorted(ids) == sorted(f[0] for f in expected) and len(ids) >= 30
    by_id = {f[0]: f for f in expected}
    # grouped: severities in order, each rule's findings together
    order = [(SEVERITY_ORDER.index(by_id[i][1]), by_id[i][2]) for i in ids]
    assert order == sorted(order)
    for finding_id, _, _, new in expected:  # new ones are highlighted, the others not
        block = listed.split(f'data-constat="{finding_id}"')[1].split("</tbody>")[0]
        assert ("nouveau</span>" in block) == new
        assert "<td" in block and "vigie-detail" in block
    messages = [m for (m,) in con.execute("SELECT message FROM findings.findings WHERE active AND status = 'open'").fetchall()]
    text = " ".join(" ".join(d.split()) for t, d in parsed.details.items() if t.startswith("constats-") for d in d)
    for m in messages:
        assert " ".join(m.split()) in text


def test_findings_count_per_rule_and_severity_links_to_its_list(report, demo_db):
    _, html, parsed = report
    con = connect(demo_db)
    counts = dict(((r, s), n) for r, s, n in con.execute(
        "SELECT rule, severity, count(*) FROM findings.findings WHERE active AND status = 'open' GROUP BY ALL").fetchall())
    grid = section(html, "synthese").split('id="tableau-constats-regles"')[1].split("</table>")[0]
    links = re.findall(r'<a href="#([^"]+)" data-regle="([^"]+)" data-gravite="([^"]+)">(\d+)</a>', grid)
    assert {(r, s): int(n) for _, r, s, n in links} == counts
    for anchor, _, _, n in links:
        assert anchor in parsed.ids
        assert parsed.tables[anchor] and len(parsed.tables[anchor]) == int(n)


def test_reviewed_findings_say_who_and_why(demo_copy, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    con = connect(demo_copy)
    finding_id = con.execute("SELECT finding_id FROM findings.findings WHERE active AND rule = 'TITULAIRE_INVALIDE' "
                             "ORDER BY 1 LIMIT 1").fetchone()[0]
    con.close()
    code, _, err = cli("review", finding_id, "--reason", "Bon de commande annulé par l'acheteur", "--by", "Camille Martin")
    assert code == 0, err
    code, _, _ = cli("report", "--month", "2026-10", "--output", str(tmp_path))
    assert code == 0
    html = (tmp_path / "rapport_conformite_2026-10.html").read_text(encoding="utf-8")
    opened, reviewed = section(html, "constats").split('id="constats-revus"')
    assert f'data-constat="{finding_id}"' not in opened
    block = reviewed.split(f'data-constat="{finding_id}"')[1].split("</tbody>")[0]
    assert "Camille Martin" in block and "Bon de commande annulé par l'acheteur" in unescape(block)
    assert "24/11/2026" in block  # reviewed on the pinned day
    con = connect(demo_copy)
    events = con.execute("SELECT event FROM findings.events WHERE finding_id = ? ORDER BY event_at",
                         [finding_id]).fetchall()
    con.close()
    history = unescape(block).split("Historique : ")[1].split("<")[0]
    assert len(history.split(" ; ")) == len(events) and "revu" in [e for (e,) in events]
    assert history.startswith("ouvert le ") and "revu le 24/11/2026" in history


TYPO = "1400000011"  # the demo's 152 340 000 € order (a typo: extra zeros), July 2026, ACIM 2026 lot 1


def typo_amount(db, numero_bc):
    """The typo's amount, as the demo's export gives it (the rule MONTANT_ATYPIQUE flags it)."""
    con = connect(db)
    amount = con.execute("SELECT montant_ht FROM mart.orders_enriched WHERE numero_bc = ?", [numero_bc]).fetchone()[0]
    con.close()
    return float(amount)


def test_true_totals_set_an_unreviewed_atypical_amount_aside(demo_copy, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    typo = typo_amount(demo_copy, TYPO)
    con = with_flagged(connect(demo_copy))
    # a negative HT counts only on a row flagged correctif (a credit note); otherwise it is
    # a MONTANT_INCOHERENT data error, left out like the rules leave it out
    ytd_orders, ytd_amount = con.execute(
        "SELECT count(*) FILTER (WHERE montant_ht >= 0), sum(montant_ht) FILTER (WHERE montant_ht >= 0 OR correctif) "
        "FROM mart.orders_enriched "
        "WHERE agreement_id = 'acim-2026' AND date_bc >= DATE '2026-01-01' AND date_bc < DATE '2026-11-01' "
        "AND numero_bc NOT IN (SELECT numero_bc FROM flagged)").fetchone()
    july_orders, july_amount = con.execute(
        "SELECT count(*) FILTER (WHERE montant_ht >= 0), sum(montant_ht) FILTER (WHERE montant_ht >= 0 OR correctif) "
        "FROM mart.orders_enriched "
        "WHERE agreement_id = 'acim-2026' AND date_bc >= DATE '2026-07-01' AND date_bc < DATE '2026-08-01' "
        "AND numero_bc NOT IN (SELECT numero_bc FROM flagged)").fetchone()
    lot_consumed, lot_max = con.execute(
        "SELECT sum(o.montant_ht) FILTER (WHERE o.montant_ht >= 0 OR o.correctif), max(l.maximum_ht) "
        "FROM mart.orders_enriched o JOIN ref.agreement_lots l "
        "ON l.agreement_id = o.agreement_id AND l.lot = o.lot WHERE o.agreement_id = 'acim-2026' AND o.lot = 1 "
        "AND o.numero_bc NOT IN (SELECT numero_bc FROM flagged)").fetchone()
    flagged = con.execute("SELECT numero_bc, montant_ht FROM mart.orders_enriched WHERE numero_bc IN (SELECT numero_bc FROM flagged)").fetchall()
    flag_ids, messages = zip(*con.execute("SELECT finding_id, message FROM findings.findings "
                                          "WHERE rule = 'MONTANT_ATYPIQUE' AND active AND status = 'open' "
                                          "AND coalesce(numero_bc, subject) = ?", [TYPO]).fetchall(), strict=True)
    negative = con.execute("SELECT count(*) FROM mart.orders_enriched WHERE montant_ht < 0 "
                           "AND agreement_id = 'acim-2026' AND date_bc < DATE '2026-11-01'").fetchone()[0]
    con.close()
    assert negative >= 1  # the demo has a negative row: neither counted nor (without correctif) summed
    assert TYPO in [n for n, _ in flagged] and flag_ids  # the rule flagged the typo in the demo
    code, _, _ = cli("report", "--month", "2026-10", "--output", str(tmp_path))
    assert code == 0
    html = (tmp_path / "rapport_conformite_2026-10.html").read_text(encoding="utf-8")
    parsed = Tables()
    parsed.feed(html)
    synthese = {r[0]: r for r in rows(parsed, "tableau-synthese")}
    assert synthese["ACIM 2026"][5] == fr.number(ytd_orders)
    assert synthese["ACIM 2026"][6] == fr.money(ytd_amount, 0)
    trend = {(r[0], r[1]): r for r in rows(parsed, "tableau-tendance")}
    assert trend[("juillet 2026", "ACIM 2026")][2:] == [fr.number(july_orders), fr.money(july_amount, 0)]
    lots = {(r[0], r[1]): r for r in rows(parsed, "tableau-plafonds")}
    assert lots[("ACIM 2026", "1")][4] == fr.money(lot_consumed, 0)
    assert lots[("ACIM 2026", "1")][5] == fr.percent(float(lot_consumed) / float(lot_max))
    # shown, with a visible note of how much was set aside and why
    note = html.split('id="avis-montants-ecartes"')[1].split("</div>")[0]
    # the July typo is not October's: said « au total », not as the month's
    assert f"au total, jusqu'à fin octobre 2026 : 1 commande ({fr.money(typo, 0)} HT)" in unescape(note)
    assert "MONTANT_ATYPIQUE" in note
    assert sorted(r[1] for r in rows(parsed, "tableau-montants-ecartes")) == sorted(n for n, _ in flagged)
    # the demo raises MONTANT_ATYPIQUE on the typo itself: the note shows its findings' explanation
    details = " ".join(" ".join(d.split()) for d in parsed.details["tableau-montants-ecartes"])
    assert all(" ".join(m.split()) in details for m in messages)
    # once reviewed, the amount counts again
    for finding_id in flag_ids:
        code, _, _ = cli("review", finding_id, "--reason", "Montant vérifié auprès de l'acheteur", "--by", "Camille Martin")
        assert code == 0
    code, _, _ = cli("report", "--month", "2026-10", "--output", str(tmp_path))
    html = (tmp_path / "rapport_conformite_2026-10.html").read_text(encoding="utf-8")
    parsed = Tables()
    parsed.feed(html)
    assert TYPO not in [r[1] for r in rows(parsed, "tableau-montants-ecartes")] if "tableau-montants-ecartes" in \
        parsed.tables else True
    synthese = {r[0]: r for r in rows(parsed, "tableau-synthese")}
    assert synthese["ACIM 2026"][6] == fr.money(float(ytd_amount) + typo, 0)
    assert synthese["ACIM 2026"][5] == fr.number(ytd_orders + 1)


def test_dates_statuses_words_and_ticks_are_french(report):
    _, html, parsed = report
    assert "à 00:00" not in html and "Inconnu" not in html
    statuses = {r[2] for r in rows(parsed, "tableau-fichiers")}
    assert statuses and statuses <= {"chargé", "rejeté", "doublon (déjà lu)"}
    assert not re.search(r"(?<![\d\u202f])1 (désistements|constats|commandes|refus justifiés)\b", html)
    ticks = [t for block in re.findall(r'"ticktext":(\[[^\]]*\])', html) for t in json.loads(block)]
    assert ticks and all(re.fullmatch(r"-?\d[\d\u202f]*(,\d)?\u00a0(k€|M€|€)", t) for t in ticks), ticks
    assert any(t.endswith("k€") for t in ticks)
    trend = section(html, "volume").split('id="graphique-4"')[1].split("</script>")[0]
    months = [m for block in re.findall(r'"x":(\[[^\]]*\])', trend) for m in json.loads(block)]
    assert "juil. 2026" in months and "nov. 2025" in months and len(set(months)) == 12
    assert "2026-07" not in trend


def test_a_month_outside_every_agreement_says_so(demo_copy, cli, monkeypatch, tmp_path, report):
    _, html, _ = report
    assert 'id="avis-hors-accords"' not in html
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    assert cli("report", "--month", "2019-01", "--output", str(tmp_path))[0] == 0
    html = (tmp_path / "rapport_conformite_2019-01.html").read_text(encoding="utf-8")
    notice = html.split('id="avis-hors-accords"')[1].split("</div>")[0]
    assert "Janvier 2019 est hors de tout accord-cadre suivi" in notice
    assert html.index('id="avis-hors-accords"') < html.index('id="synthese"')


def test_dsfr_header_footer_and_charts_with_their_table(report):
    _, html, parsed = report
    header = html.split('<header role="banner" class="fr-header">')[1].split("</header>")[0]
    assert '<p class="fr-logo">République<br>française</p>' in header
    assert 'fr-header__service-title">Vigie' in header
    assert 'class="fr-footer' in html and "licence etalab-2.0" in html
    assert "font-family:Marianne" in html.replace(" ", "") or "Marianne" in html.split("<style>")[1]
    assert "@media print" in html and "counter(pages)" in html
    figures = re.findall(r'<figure class="vigie-chart" id="([^"]+)" tabindex="0" role="figure" aria-label="[^"]+">'
                         r'.*?<a href="#([^"]+)">', html, re.S)
    assert len(figures) == CHARTS_IN_TEMPLATE
    for _, table_id in figures:
        assert table_id in parsed.tables


def test_pdf_without_chromium_says_so_in_french(demo_copy, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    monkeypatch.setenv("VIGIE_CHROMIUM", str(tmp_path / "pas-de-chromium"))
    code, _, err = cli("report", "--month", "2026-10", "--output", str(tmp_path), "--pdf")
    assert code == 2
    assert "Chromium est introuvable" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.pdf"))


# ------------------------------------------------------------------ periods, credit notes, wording


@pytest.fixture(scope="module")
def monthly(demo_db, tmp_path_factory):
    """Reports of several months from the demo warehouse (the clock pinned to 24 November 2026)."""
    from tests.conftest import run_vigie

    folder = tmp_path_factory.mktemp("mois")
    out = {}
    for month in ("2026-04", "2026-07", "2026-09", "2026-10", "2026-11", "2031-01"):
        done = run_vigie("report", "--month", month, "--output", str(folder), env={"VIGIE_DB": str(demo_db)})
        assert done.returncode == 0, done.stderr
        html = (folder / f"rapport_conformite_{month}.html").read_text(encoding="utf-8")
        parsed = Tables()
        parsed.feed(html)
        out[month] = (unescape(html), parsed)
    return out


def _text(html: str) -> str:
    # ordinary whitespace only: the narrow and non-breaking spaces of French numbers stay
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_set_aside_amounts_say_which_period_they_cover(monthly, demo_db):
    con = connect(demo_db)
    set_aside = con.execute(
        "SELECT o.date_bc, o.montant_ht FROM findings.findings f JOIN mart.orders_enriched o ON o.numero_bc = f.numero_bc "
        "WHERE f.rule = 'MONTANT_ATYPIQUE' AND f.active AND f.status = 'open'").fetchall()
    con.close()
    assert len(set_aside) == 1 and set_aside[0][0].month == 7  # the demo's July typo
    when, amount = set_aside[0]
    july = _text(monthly["2026-07"][0].split('id="avis-montants-ecartes"')[1].split("</div>")[0])
    assert f"{fr.money(amount, 0)} HT écartés des totaux de juillet 2026" in july
    for month, of_label, label in (("2026-10", "d'octobre 2026", "octobre 2026"),
                                   ("2026-11", "de novembre 2026", "novembre 2026"),
                                   ("2031-01", "de janvier 2031", "janvier 2031")):
        note = _text(monthly[month][0].split('id="avis-montants-ecartes"')[1].split("</div>")[0])
        assert f"Aucun montant écarté des totaux {of_label}" in note, month
        assert f"{fr.money(amount, 0)} HT écartés des totaux" not in note  # not presented as the month's
        assert f"au total, jusqu'à fin {label}" in note
        assert f"1 commande ({fr.money(amount, 0)} HT)" in note.split("au total")[1]
    assert "depuis janvier 2031 : 0 commande ;" in _text(monthly["2031-01"][0].split('id="avis-montants-ecartes"')[1])
    # an order dated after the month is not listed in its report
    assert 'id="avis-montants-ecartes"' not in monthly["2026-04"][0]


def test_corrected_orders_are_counted_in_their_own_month(monthly, demo_db):
    con = connect(demo_db)
    corrected = con.execute("SELECT strftime(date_bc, '%Y-%m'), count(*) FROM mart.orders WHERE versions > 1 GROUP BY 1"
                            ).fetchall()
    con.close()
    assert corrected == [("2026-04", 1)]  # the demo's April order read in two versions
    assert "1 bon de commande d'avril 2026 a été corrigé" in _text(monthly["2026-04"][0])
    for month in ("2026-09", "2026-10", "2026-11", "2031-01"):
        assert "corrigé" not in _text(section(monthly[month][0], "synthese")), month


def test_a_month_not_over_or_in_the_future_says_so_at_the_top(monthly):
    future, _ = monthly["2031-01"]
    assert "Janvier 2031 n'a pas encore commencé" in _text(future.split('id="avis-mois-futur"')[1].split("</div>")[0])
    assert future.index('id="avis-mois-futur"') < future.index('id="synthese"')
    current, _ = monthly["2026-11"]  # VIGIE_NOW is 24 November 2026
    assert "Novembre 2026 n'est pas terminé" in _text(current.split('id="avis-mois-en-cours"')[1].split("</div>")[0])
    assert current.index('id="avis-mois-en-cours"') < current.index('id="synthese"')
    for month in ("2026-09", "2026-10"):
        assert 'id="avis-mois-futur"' not in monthly[month][0] and 'id="avis-mois-en-cours"' not in monthly[month][0]


def test_new_findings_are_those_that_appeared_during_the_month(monthly, demo_db):
    con = connect(demo_db)
    for month, start, end in (("2026-10", "2026-10-01", "2026-11-01"), ("2026-11", "2026-11-01", "2026-12-01")):
        appeared = con.execute(
            "SELECT count(*) FROM findings.findings WHERE active AND status = 'open' "
            "AND timezone('Europe/Paris', first_seen_at)::DATE >= ?::DATE "
            "AND timezone('Europe/Paris', first_seen_at)::DATE < ?::DATE", [start, end]).fetchone()[0]
        html, parsed = monthly[month]
        column = sum(int(r[3].replace("\u202f", "")) for r in rows(parsed, "tableau-gravites"))
        badges = section(html, "constats").count('</code> <span class="fr-badge fr-badge--sm fr-badge--new">nouveau')
        assert column == badges == appeared, month
        said = re.search(r"dont (\d+) apparus? pendant", _text(section(html, "synthese")))
        assert (int(said.group(1)) if said else 0) == appeared, month
    con.close()


def test_negative_rows_without_correctif_are_not_credit_notes(monthly, demo_db):
    con = connect(demo_db)
    negative = con.execute("SELECT numero_bc, date_bc, correctif FROM mart.orders_enriched WHERE montant_ht < 0").fetchall()
    flagged = {n for (n,) in con.execute("SELECT numero_bc FROM findings.findings WHERE rule = 'MONTANT_INCOHERENT'"
                                         " AND active").fetchall()}
    sept_orders, sept_amount = con.execute(
        "SELECT count(*), coalesce(sum(montant_ht), 0) FROM mart.orders_enriched WHERE agreement_id = 'acim-2026' "
        "AND montant_ht >= 0 AND date_bc >= DATE '2026-09-01' AND date_bc < DATE '2026-10-01'").fetchone()
    counted = con.execute(
        "SELECT count(*) FROM mart.orders_enriched o WHERE agreement_id = 'acim-2026' AND montant_ht >= 0 "
        "AND numero_bc NOT IN (SELECT numero_bc FROM findings.findings WHERE rule = 'MONTANT_ATYPIQUE' AND active "
        "AND status = 'open')").fetchone()[0]
    con.close()
    assert negative and all(not c for _, _, c in negative)  # the demo's negative row has no correctif flag
    assert {n for n, _, _ in negative} <= flagged  # ... so the rules call it MONTANT_INCOHERENT
    html, _ = monthly["2026-09"]
    assert 'id="avis-avoirs"' not in html
    kpi = html.split('id="synthese-acim-2026"')[1].split("</div>")[0]
    assert f'data-valeur="{sept_orders}"' in kpi and fr.money(sept_amount, 0) + " HT" in kpi
    # section 7 counts orders as the summary and the DECP table do, and says what it leaves out
    _, parsed = monthly["2026-10"]
    agreements = {r[0]: r for r in rows(parsed, "tableau-accords")}
    decp = {r[0]: r for r in rows(parsed, "tableau-decp")}
    assert agreements["ACIM 2026"][5] == decp["ACIM 2026"][1] == fr.number(counted)
    assert "montant négatif sans correctif" in agreements["ACIM 2026"][6]
    assert "montant atypique écarté" in agreements["ACIM 2026"][6]


def test_a_credit_note_alone_in_a_month_is_said_as_a_credit_note(workspace, cli):
    (workspace / "inbox" / "avoir.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Marché;Lot;Correctif\n"
        "AV-1;15/09/2026;Ministère des Armées;Application mobile de gestion des congés;OCTO;-12 000;2026;1;oui\n"
        "AV-2;05/10/2026;Ministère des Armées;Application mobile de gestion des congés;OCTO;30 000;2026;1;\n",
        encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        assert cli(*argv)[0] in (0, 1)
    assert cli("report", "--month", "2026-10", "--output", str(workspace / "r"))[0] == 0
    text = _text(unescape((workspace / "r" / "rapport_conformite_2026-10.html").read_text(encoding="utf-8")))
    assert (f"par rapport à septembre 2026 (aucune commande, 1 avoir de {fr.money(-12000, 0)} HT)") in text
    assert f"(1 commande, {fr.money(-12000, 0)} HT)" not in text
    # the month-on-month chart draws amounts ordered: the credit note is no negative bar
    chart = (workspace / "r" / "rapport_conformite_2026-10.html").read_text(encoding="utf-8").split(
            'id="graphique-1"')[1].split("</script>")[0]
    bars = [v for block in re.findall(r'"y":(\[[^\]]*\])', chart) for v in json.loads(block)]
    assert bars and min(bars) >= 0 and 30000 in bars
    assert "avoir de" in chart
    assert cli("report", "--month", "2026-09", "--output", str(workspace / "r"))[0] == 0
    html = unescape((workspace / "r" / "rapport_conformite_2026-09.html").read_text(encoding="utf-8"))
    assert "1 avoir (bon de commande correctif au montant négatif) daté de septembre 2026" in _text(html)


@pytest.mark.parametrize(("label", "expected"), [("avril 2026", "d'avril 2026"), ("août 2026", "d'août 2026"),
                                                 ("octobre 2026", "d'octobre 2026"), ("mars 2026", "de mars 2026")])
def test_de_is_elided_before_a_vowel(label, expected):
    from pipelines.report.figures import of

    assert of(label) == expected


def test_french_wording_of_months_agreements_and_expectations(monthly, demo_db):
    html, parsed = monthly["2026-10"]
    text = _text(html)
    assert "commandes de octobre" not in text and "Rapport de octobre" not in text
    assert "sur des commandes d'octobre 2026" in text
    assert "PLAFOND non évaluée" not in text.replace("règle PLAFOND non évaluée", "")
    con = connect(demo_db)
    failed = con.execute("SELECT DISTINCT expectation_type FROM validation.results WHERE NOT success").fetchall()
    con.close()
    assert failed
    shown = [r[2] for r in rows(parsed, "tableau-validation-echecs")]
    assert shown and not any(s.startswith("expect_") for s in shown)
    assert not any(kind in section(html, "qualite") for (kind,) in failed)
