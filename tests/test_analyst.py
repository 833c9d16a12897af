"""The analyst's day (issue 18), through the command line: run offline, read why each file was
refused, teach a name, review with one's name, open the findings in Excel."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.findings import EXPORT_COLUMNS, HEADERS_FR, neutralise
from pipelines.sources.orders import keep_aside
from pipelines.sources.orders.importer import FileResult
from tests.conftest import SNAPSHOT, connect, run_vigie

HEADER = "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT\n"
UNREACHABLE = "http://127.0.0.1:9/api/v2.7"  # a closed port: never the internet


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


@pytest.fixture
def offline_ws(workspace, monkeypatch):
    """A newcomer's machine: no network, nothing loaded yet."""
    monkeypatch.setenv("VIGIE_BETAGOUV_API", UNREACHABLE)
    inbox = workspace / "inbox"
    (inbox / "commandes_sans_montant.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire\nZ-1;03/10/2026;DINUM;Visio;OCTO\n", encoding="utf-8")
    (inbox / "mille.csv").write_text(
        HEADER + "P-1;03/10/2026;Ministère du Travail;1000 premiers jours;OCTO;12 000,50\n"
                 "P-2;03/10/2026;Ministère du Travail;Visio;OCTO;abc\n", encoding="utf-8")
    return workspace


def test_the_newcomers_day(offline_ws, cli, monkeypatch, tmp_path):
    db = offline_ws / "data" / "vigie.duckdb"
    # 1. run offline on a new warehouse: the embedded snapshot, data.gouv.fr skipped and said so
    code, out, err = cli("run", "--offline")
    assert code == 1  # a refused file is something to look at
    assert "instantané embarqué de beta.gouv.fr" in out and "662 startups" in out
    assert "data.gouv.fr n'est pas interrogé" in out
    # 2. each refused file named with its reason; each quarantined row count per file
    assert "commandes_sans_montant.csv : colonne obligatoire absente : « montant HT »" in out
    assert "mille.csv : 1 ligne(s) sur 2" in out and "montant illisible « abc »" in out
    kept = offline_ws / "data" / "fichiers_rejetes" / "commandes_sans_montant.csv"
    assert kept.read_bytes() == (offline_ws / "inbox" / "commandes_sans_montant.csv").read_bytes()
    assert "colonne obligatoire absente" in kept.with_name(kept.name + ".raison.txt").read_text(encoding="utf-8")
    code, out, _ = cli("status")
    assert "rejeté" in out and "chargé" in out and " rejete" not in out and " charge\n" not in out
    # 3. « 1000 premiers jours » is two startups: taught, the finding closes with that reason
    con = connect(db)
    # v2: an ambiguous name is RAPPROCHEMENT_A_REVOIR (not a critique), saying the command to run
    fid, startup, message = con.execute(
        "SELECT finding_id, startup, message FROM findings.findings WHERE numero_bc = 'P-1' "
        "AND active AND rule = 'RAPPROCHEMENT_A_REVOIR'").fetchone()
    con.close()
    assert startup == "1000 premiers jours"
    assert 'vigie alias startup "1000 premiers jours" 1000.jours --reason' in message
    code, _, err = cli("alias", "startup", "1000 premiers jours", "1000.jour", "--reason", "x")
    assert code == 2 and "1000.jours" in err and "1000.premiers.jours.blues" in err
    monkeypatch.setenv("VIGIE_REVIEWER", "Camille Martin")
    code, out, _ = cli("alias", "startup", "1000 premiers jours", "1000.jours", "--reason", "l'application, pas Blues")
    assert code == 0 and "Camille Martin" in out
    code, out, _ = cli("check")
    assert code == 0 and "1 clos par un rapprochement" in out
    code, out, _ = cli("findings", "--status", "all")
    row = {r["finding_id"]: r for r in read_csv(out)}[fid]
    assert row["status"] == "reviewed" and row["reviewed_by"] == "Camille Martin"
    assert "l'application, pas Blues" in row["review_reason"]
    code, out, _ = cli("findings", "--status", "open")
    assert fid not in out
    con = connect(db)
    assert con.execute("SELECT startup_id, method FROM core.startup_resolution WHERE raw_value = "
                       "'1000 premiers jours'").fetchone() == ("1000.jours", "alias")
    assert ("clos",) in con.execute("SELECT event FROM findings.events WHERE finding_id = ?", [fid]).fetchall()
    other = con.execute("SELECT finding_id FROM findings.findings WHERE active AND status = 'open' "
                        "ORDER BY finding_id LIMIT 1").fetchone()[0]
    con.close()
    # 4. review with one's name; a second review replaces the reason and keeps the history
    code, out, _ = cli("review", other, "--reason", "vu avec le ministère")
    assert code == 0 and "revu par Camille Martin" in out
    code, out, _ = cli("review", other, "--reason", "commande annulée", "--by", "Dominique")
    assert code == 0 and "« vu avec le ministère », par Camille Martin" in out
    con = connect(db)
    assert con.execute("SELECT reviewed_by, review_reason FROM findings.findings WHERE finding_id = ?",
                       [other]).fetchone() == ("Dominique", "commande annulée")
    assert con.execute("SELECT decided_by, reason FROM findings.reviews WHERE finding_id = ? AND action = 'revu' "
                       "ORDER BY decided_at, reason DESC", [other]).fetchall() == [
        ("Camille Martin", "vu avec le ministère"), ("Dominique", "commande annulée")]
    con.close()
    code, out, _ = cli("findings", "--status", "reviewed")
    assert {r["finding_id"] for r in read_csv(out)} == {fid, other}
    # 5. the findings in Excel: amounts as numbers in euros, dates as dates
    target = tmp_path / "constats.xlsx"
    code, _, err = cli("findings", "--format", "xlsx", "--output", str(target))
    assert code == 0 and target.exists()
    check_workbook(target, db)
    # 6. an alias taken back: the finding it closed opens again, its closure kept in history
    code, _, _ = cli("alias", "--remove", "startup", "1000 PREMIERS jours")
    assert code == 0
    cli("check")
    con = connect(db)
    assert con.execute("SELECT active, status FROM findings.findings WHERE finding_id = ?", [fid]).fetchone() == (
        True, "open")
    assert [a for (a,) in con.execute("SELECT action FROM findings.reviews WHERE finding_id = ? ORDER BY decided_at",
                                      [fid]).fetchall()] == ["rapprochement", "rouvert"]


def check_workbook(path: Path, db: Path) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    assert wb.sheetnames[0] == "Tous les constats"
    ws = wb["Tous les constats"]
    headers = [c.value for c in ws[1]]
    assert headers == [HEADERS_FR[c] for c in EXPORT_COLUMNS]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    con = connect(db)
    expected = dict(con.execute("SELECT numero_bc, amount_ht FROM findings.findings WHERE numero_bc = 'P-1' "
                                "AND amount_ht IS NOT NULL").fetchall())
    count = len(con.execute("SELECT finding_id FROM findings.findings WHERE active").fetchall())
    con.close()
    assert ws.max_row - 1 >= count
    amount_col = headers.index("Montant HT") + 1
    date_col = headers.index("Date du bon de commande") + 1
    bc_col = headers.index("N° de bon de commande") + 1
    rows = [r for r in ws.iter_rows(min_row=2) if r[bc_col - 1].value == "P-1"]
    assert rows
    amount = rows[0][amount_col - 1]
    assert isinstance(amount.value, float) and Decimal(str(amount.value)) == expected["P-1"]
    assert "€" in amount.number_format and "0.00" in amount.number_format
    when = rows[0][date_col - 1]
    assert isinstance(when.value, datetime | date) and when.value.date() == date(2026, 10, 3)
    assert when.number_format == "dd/mm/yyyy"
    severities = {r[headers.index("Gravité")].value for r in ws.iter_rows(min_row=2)}
    titles = {"critique": "Critiques", "alerte": "Alertes", "info": "Informations"}
    assert set(wb.sheetnames[1:]) == {titles[s] for s in severities}


def test_a_new_warehouse_without_network_says_so_at_once_and_names_the_blocking_expectation(workspace, monkeypatch):
    env = {"VIGIE_DB": str(workspace / "data" / "vigie.duckdb"), "VIGIE_INBOX": str(workspace / "inbox"),
           "VIGIE_BETAGOUV_API": UNREACHABLE, "VIGIE_DATAGOUV_API": "http://127.0.0.1:9/api/1",
           "VIGIE_CONFIG": str(workspace / "slow.toml")}
    # the defaults would retry: a new warehouse must not
    (workspace / "slow.toml").write_text("[http]\nattempts = 4\nbackoff_seconds = 30\n", encoding="utf-8")
    started = datetime.now()
    result = run_vigie("run", env=env, cwd=workspace, timeout=200)
    assert (datetime.now() - started).total_seconds() < 60  # four attempts would wait 30 + 60 + 120 s
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "l'entrepôt est neuf" in result.stderr and "vigie run --offline" in result.stderr
    assert UNREACHABLE in result.stderr and "VIGIE_BETAGOUV_API" in result.stderr
    blocking = [line for line in result.stderr.splitlines() if line.startswith("vigie : Validation bloquante")][0]
    assert "startups (table mart.startups)" in blocking and "au moins 100 ligne(s)" in blocking
    assert "elle en contient 0" in blocking and "?" not in blocking and "[0]" not in blocking


def test_validate_lists_real_examples(demo_copy, cli, monkeypatch):
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    con = connect(demo_copy, read_only=False)
    con.execute("UPDATE raw.inbox_orders SET date_bc = DATE '1999-01-01' WHERE numero_bc = '1400000001'")
    con.close()
    code, out, _ = cli("validate")
    line = [x for x in out.splitlines() if "[BLOQUANT]" in x][0]
    assert code == 1 and "colonne date_bc" in line and "1 valeur(s) en cause" in line and "1999-01-01" in line
    assert "?" not in line


@pytest.mark.parametrize("text", ["a;=1+1", "x,@SUM(A1:A9)", "=HYPERLINK(\"x\")", "ok\t+1", " -2+3", 'a; "=1+1'])
def test_formula_like_text_is_neutralised_after_any_separator(text):
    cell = neutralise(text)
    for separator in (",", ";", "\t"):
        for part in cell.split(separator):
            assert not part.strip(" \"'\t").startswith(("=", "+", "-", "@")) or part.strip(" \"\t").startswith("'")


def test_exported_csv_opens_in_french_excel_and_neutralises_every_cell(workspace, cli, tmp_path):
    (workspace / "inbox" / "c.csv").write_text(
        HEADER + 'FX-1;03/10/2026;Ministère des Armées;"a;=1+1";OCTO;1 000,50\n'
                 'FX-2;03/10/2026;Ministère des Armées;"x,@SUM(A1:A2)";OCTO;2 000\n'
                 'FX-3;03/10/2026;Ministère des Armées;=Produit;OCTO;3 000\n', encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        cli(*argv)
    target = tmp_path / "constats.csv"
    code, _, _ = cli("findings", "--rule", "HORS_STARTUP", "--output", str(target))
    raw = target.read_bytes()
    assert code == 0 and raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(EXPORT_COLUMNS)
    rows = {r["numero_bc"]: r for r in read_csv(text)}
    assert rows["FX-1"]["montant_ht"] == "1000,50" and rows["FX-1"]["date_bc"] == "2026-10-03"
    for delimiter in (";", ","):  # whatever separator the spreadsheet assumes, no cell is a formula
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            for cell in row:
                assert not cell.lstrip(" \"").startswith(("=", "@", "+")), (delimiter, cell)
    code, _, err = cli("findings", "--format", "xlsx")
    assert code == 2 and "--output" in err
    from openpyxl import load_workbook

    book = tmp_path / "constats.xlsx"
    assert cli("findings", "--format", "xlsx", "--output", str(book))[0] == 0
    cells = [c for ws in load_workbook(book) for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(c.value == "'=Produit" or "'@SUM" in str(c.value) for c in cells)
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere


def test_a_reviewed_finding_reopens_when_its_amount_changes(workspace, cli):
    inbox = workspace / "inbox"
    (inbox / "a.csv").write_text(HEADER + "RX-1;03/10/2026;Ministère des Armées;Produit inconnu;OCTO;1 000\n",
                                 encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        cli(*argv)
    db = workspace / "data" / "vigie.duckdb"
    fid = connect(db).execute("SELECT finding_id FROM findings.findings WHERE numero_bc = 'RX-1' "
                              "AND rule = 'HORS_STARTUP'").fetchone()[0]
    cli("review", fid, "--reason", "petit montant, accepté", "--by", "Camille")
    (inbox / "b.csv").write_text(HEADER + "RX-1;03/10/2026;Ministère des Armées;Produit inconnu;OCTO;100 000\n",
                                 encoding="utf-8")
    cli("ingest", "--source", "orders")
    cli("check")
    con = connect(db)
    assert con.execute("SELECT status, reviewed_by, amount_ht FROM findings.findings WHERE finding_id = ?",
                       [fid]).fetchone() == ("open", None, Decimal("100000.00"))
    assert [a for (a,) in con.execute("SELECT action FROM findings.reviews WHERE finding_id = ? ORDER BY decided_at",
                                      [fid]).fetchall()] == ["revu", "rouvert"]
    assert "petit montant, accepté" in con.execute("SELECT reason FROM findings.reviews WHERE finding_id = ? "
                                                    "AND action = 'revu'", [fid]).fetchone()[0]


def test_aliases_are_checked_listed_removed_and_shared_as_a_file(workspace, cli, tmp_path, monkeypatch):
    cli("ingest", "--source", "betagouv")
    code, out, err = cli("alias", "acheteur", "Min. Transition écologique", "ministere:environnement", "--reason", "sigle",
                         "--by", "Camille")
    assert code == 0, err
    code, out, _ = cli("alias", "titulaire", "Octo Tech", "nimporte", "--reason", "x")
    assert code == 2
    code, _, _ = cli("alias", "startup", "=Produit maison", "-", "--reason", "pas une startup", "--by", "Camille")
    assert code == 0
    code, out, _ = cli("alias", "--list")
    assert "« Min. Transition écologique » → ministere:environnement" in out and "- (aucun)" in out
    shared = tmp_path / "rapprochements.csv"
    code, out, _ = cli("alias", "--export", str(shared))
    text = shared.read_text(encoding="utf-8-sig")
    assert code == 0 and text.splitlines()[0] == "type;nom;cible;raison;par;le" and "'=Produit maison" in text
    # a colleague imports them into their own warehouse
    monkeypatch.setenv("VIGIE_DB", str(tmp_path / "collegue" / "vigie.duckdb"))
    cli("ingest", "--source", "betagouv")
    code, out, err = cli("alias", "--import", str(shared))
    assert code == 0, err
    assert "2 rapprochement(s) importé(s)" in out
    con = connect(tmp_path / "collegue" / "vigie.duckdb")
    assert con.execute("SELECT kind, raw_value, target, created_by FROM findings.aliases ORDER BY kind").fetchall() == [
        ("acheteur", "Min. Transition écologique", "ministere:environnement", "Camille"),
        ("startup", "=Produit maison", None, "Camille")]
    con.close()
    code, out, _ = cli("alias", "--remove", "startup", "=produit MAISON")
    assert code == 0
    code, _, err = cli("alias", "--remove", "startup", "=produit MAISON")
    assert code == 2 and "Aucun rapprochement" in err
    code, _, err = cli("alias", "startup", "seul")
    assert code == 2 and "KIND RAW TARGET" in err


def test_refused_copies_keep_their_name_and_are_bounded(tmp_path):
    folder = tmp_path / "rejetes"
    first, second = tmp_path / "a" / "export.csv", tmp_path / "b" / "export.csv"
    for path, body in ((first, b"un;deux\n"), (second, b"x" * 5000)):
        path.parent.mkdir()
        path.write_bytes(body)
    one = FileResult("1" * 64, "a/export.csv", 8, "rejete", reason="raison un")
    two = FileResult("2" * 64, "b/export.csv", 5000, "rejete", reason="raison deux")
    assert Path(keep_aside(one, first, folder)) == folder / "export.csv"
    kept = Path(keep_aside(two, second, folder, max_bytes=1000))
    assert kept.name == "export (2).csv.extrait" and kept.stat().st_size < 5000
    note = (folder / "export (2).csv.raison.txt").read_text(encoding="utf-8")
    assert "2" * 64 in note and "raison deux" in note and "extrait" in note
    assert Path(keep_aside(one, first, folder)) == folder / "export.csv"  # same content, same place


def test_small_things(workspace, cli, tmp_path):
    code, _, err = cli("findings", "--db", str(tmp_path / "neuf.duckdb"))
    assert code == 2 and f"vigie run --db {tmp_path / 'neuf.duckdb'}" in err
    cli("ingest", "--source", "betagouv")
    code, _, err = cli("findings", "--rule", "PAS_UNE_REGLE")
    assert code == 2 and "HORS_STARTUP" in err
    code, _, err = cli("report", "--month", "2026-10", "--agreement", "acim-1999")
    assert code == 2 and "acim-2026" in err and "acim-2021" in err
    assert SNAPSHOT.exists()


def test_readme_and_docs_links_resolve_inside_the_repository():
    import re

    root = Path(__file__).resolve().parent.parent
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    checked = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.name} → {target}"
            checked += 1
        assert "spec/" not in text.replace("docs/", ""), f"{page.name} still points to spec/"
    assert checked >= 5 and (root / "docs" / "CLI.md").exists() and (root / "docs" / "ORDER_EXPORTS.md").exists()


@pytest.mark.parametrize("raw", ["1000 premiers jours", "Octo / Malt", 'le "bon" produit', "-tiret", "l'appli", 'prix $HOME `id` \\ fin'])
def test_the_alias_command_vigie_prints_is_the_command_line_it_accepts(raw):
    """RAPPROCHEMENT_A_REVOIR messages give this command: it must parse back to the same values."""
    import subprocess

    from pipelines.cli import build_parser
    from pipelines.shell import alias_command as command

    def shell_words(line: str) -> list[str]:  # what bash passes to the program
        out = subprocess.run(["bash", "-c", 'printf "%s\\0" ' + line], capture_output=True, check=True).stdout
        return out.decode().split("\0")[:-1]

    line = command("startup", raw, "1000.jours", "vu avec l'équipe")
    assert line.startswith("vigie alias startup " if not raw.startswith("-") else "vigie alias --reason")
    args = build_parser().parse_args(shell_words(line)[1:])
    assert (args.command, args.kind, args.raw, args.target, args.reason) == (
        "alias", "startup", raw, "1000.jours", "vu avec l'équipe")
    assert build_parser().parse_args(shell_words(command("acheteur", raw, None))[1:]).target == "-"


def test_holder_and_buyer_aliases_settle_their_findings(workspace, cli):
    (workspace / "inbox" / "c.csv").write_text(
        HEADER + "HB-1;03/10/2026;Bureau des achats numériques de Lutèce;1000 premiers jours - l'app;Agence Lutèce Conseil;"
                 "1 000\n", encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        cli(*argv)
    db = workspace / "data" / "vigie.duckdb"
    con = connect(db)
    before = dict(con.execute("SELECT rule, finding_id FROM findings.findings WHERE numero_bc = 'HB-1' AND active "
                              "AND rule IN ('TITULAIRE_INVALIDE', 'ACHETEUR_NON_BENEFICIAIRE')").fetchall())
    con.close()
    assert set(before) == {"TITULAIRE_INVALIDE", "ACHETEUR_NON_BENEFICIAIRE"}
    assert cli("alias", "titulaire", "agence lutece  conseil", "octo", "--reason", "sous-traitant d'OCTO", "--by", "C")[0] == 0
    assert cli("alias", "acheteur", "Bureau des achats numériques de Lutèce", "ministere:environnement",
               "--reason", "service du MTE", "--by", "C")[0] == 0
    code, out, _ = cli("check")
    assert "2 clos par un rapprochement" in out
    con = connect(db)
    assert con.execute("SELECT holder_id, buyer_id FROM mart.orders_enriched WHERE numero_bc = 'HB-1'").fetchone() == (
        "octo-cdlc-frontier", "ministere:environnement")
    for fid in before.values():
        status, reason = con.execute("SELECT status, review_reason FROM findings.findings WHERE finding_id = ?",
                                     [fid]).fetchone()
        assert status == "reviewed" and reason.startswith("rapprochement : ")
