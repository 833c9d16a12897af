"""The monthly report: every section and number against the warehouse, nothing loaded
from another host, everything from the data escaped; then opened in headless Chromium."""

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipelines import fr
from tests.conftest import ARTEFACTS, connect

SECTIONS = {"synthese": "1. Synthèse", "volume": "2. Volume par ministère",
            "startups": "3. Usage réservé aux Startups d'État",
            "refus": "4. Refus par titulaire, tourniquet et plafonds", "qualite": "5. Qualité des données"}


class Tables(HTMLParser):
    """Collects each table's rows (by id), data-valeur attributes, and every URL."""

    def __init__(self):
        super().__init__()
        self.tables, self.values, self.urls, self.ids = {}, {}, [], set()
        self._table, self._row, self._cell = None, None, None

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
        elif tag == "tr" and self._table:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[self._table].append(self._row)
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
        assert title in html
        section = html.split(f'id="{section_id}"')[1].split("</section>")[0]
        assert "plotly-graph-div" in section and "<table" in section
    assert (path.parent / "plotly.min.js").stat().st_size > 1_000_000
    assert html.count('class="plotly-graph-div"') == 11


def test_numbers_match_the_warehouse(report, demo_db):
    _, html, parsed = report
    con = connect(demo_db)
    for agreement_id, orders, amount in con.execute(
            "SELECT agreement_id, count(*), sum(montant_ht) FROM mart.orders_enriched "
            "WHERE date_bc >= DATE '2026-10-01' AND date_bc < DATE '2026-11-01' GROUP BY 1").fetchall():
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
        "tableau-quarantaine": "SELECT count(*) FROM raw.quarantine",
        "tableau-fichiers": "SELECT count(*) FROM raw.inbox_files",
        "tableau-tourniquet": "SELECT count(*) FROM findings.findings WHERE active AND rule = 'TOURNIQUET'",
        "tableau-accords": "SELECT count(*) FROM ref.agreements",
        "tableau-validation": "SELECT count(DISTINCT suite) FROM validation.results",
        "tableau-ministeres": "SELECT count(DISTINCT (agreement_id, buyer_ministry)) FROM mart.orders_enriched "
                              "WHERE date_bc >= DATE '2026-10-01' AND date_bc < DATE '2026-11-01'",
    }
    for table_id, query in expected_counts.items():
        assert len(rows(parsed, table_id)) == con.execute(query).fetchone()[0], table_id
    # refusals per holder, with whom to write to
    refusal_rows = {r[1]: r for r in rows(parsed, "tableau-refus")}
    for holder, total, contact in con.execute("SELECT holder_name, total, contact_email FROM mart.holder_refusals").fetchall():
        assert refusal_rows[holder][7] == str(total)
        assert refusal_rows[holder][-1] == (contact or "contact non publié")
    # the share of amounts going to listed Startups d'État
    share = {r[0]: r for r in rows(parsed, "tableau-part-startups")}
    listed, total = con.execute(
        "SELECT sum(montant_ht) FILTER (WHERE startup_id IS NOT NULL AND (startup_in_current_list OR startup_listed_at_date)), "
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
    assert orders == ["0"] * html.count('id="synthese-') and orders
    assert "Aucune donn\\u00e9e pour cette p\\u00e9riode." in html  # the empty charts say so


@pytest.mark.browser
def test_the_report_draws_in_headless_chromium(report):
    from playwright.sync_api import sync_playwright

    path, _, _ = report
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(chromium).exists(), "Chromium manque : make test l'installe (paquet Debian chromium)"
    ARTEFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        console, requests = [], []
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        charts = page.locator(".plotly-graph-div")
        assert charts.count() == 11
        page.wait_for_function(
            "[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('svg.main-svg'))",
            timeout=60_000)
        for i in range(charts.count()):
            assert charts.nth(i).locator("svg.main-svg").count() >= 1
            assert charts.nth(i).bounding_box()["height"] > 100
        page.screenshot(path=str(ARTEFACTS / "rapport_2026-10.png"), full_page=True)
        browser.close()
    assert [c for c in console if c[0] in ("error", "pageerror")] == []
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    assert (ARTEFACTS / "rapport_2026-10.png").stat().st_size > 50_000
