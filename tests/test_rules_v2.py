"""Catalogue v2 on real payloads: the listing history (several intervals per startup,
snapshots winning once Vigie holds them, disagreements kept for review), old phase names
(beta.gouv.fr API v2.5 of 2023-01-31), French working days, agreement options with
defaults, order numbers that meet across files."""

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from pipelines import agreements
from pipelines.rules.workdays import is_working_day, working_days_between
from tests.conftest import FIXTURES, ROOT, connect

# The real v2.5 payload of 2023-01-31 (one copy, shared with tests/test_betagouv_versions.py).
V25 = FIXTURES / "betagouv" / "api-v2.5-2023-01-31"


def snapshot_2023(folder: Path) -> Path:
    """The 2023-01-31 payload as a folder the source reads: v2.5 had no organisations
    endpoint, so today's list (the sample's) stands in, and snapshot.json dates it."""
    folder.mkdir()
    for name in ("startups.json", "incubators.json"):
        shutil.copyfile(V25 / name, folder / name)
    shutil.copyfile(ROOT / "pipelines" / "sample" / "betagouv" / "organisations.json", folder / "organisations.json")
    (folder / "snapshot.json").write_text(json.dumps({
        "captured_at": "2023-01-31T12:00:00+01:00", "api_version": "v2.5",
        "source": "beta.gouv.fr API v2.5 as published on 2023-01-31 (startups.json, incubators.json); "
                  "organisations.json of 2026-08-20 (v2.5 had none)"}), encoding="utf-8")
    return folder
INTERVALS = ROOT / "pipelines" / "reference" / "startup_listing_intervals.csv"


def listed_in_csv(on: date) -> set[str]:
    rows = csv.DictReader(INTERVALS.open(encoding="utf-8"))
    return {r["startup_id"] for r in rows
            if date.fromisoformat(r["listed_from"]) <= on and (not r["listed_to"] or date.fromisoformat(r["listed_to"]) > on)}


def listed_in_mart(con, on: date) -> set[str]:
    return {s for (s,) in con.execute(
        "SELECT DISTINCT startup_id FROM mart.startup_listing "
        "WHERE listed_from <= ? AND (listed_to IS NULL OR listed_to > ?)", [on, on]).fetchall()}


@pytest.fixture(scope="module")
def two_snapshots(tmp_path_factory):
    """A warehouse holding the 2023 snapshot (old phase names) and the 2026 one."""
    import os

    from tests.conftest import SNAPSHOT, run_vigie

    folder = tmp_path_factory.mktemp("deux_instantanes")
    (folder / "inbox").mkdir()
    env = {**os.environ, "VIGIE_DB": str(folder / "vigie.duckdb"), "VIGIE_INBOX": str(folder / "inbox"),
           "VIGIE_DATAGOUV_API": "http://127.0.0.1:9/api/1"}
    validated = None
    for snapshot, now in ((snapshot_2023(folder / "api-2023"), "2023-02-01T09:00:00"), (SNAPSHOT, "2026-11-24T09:00:00")):
        step = {**env, "VIGIE_BETAGOUV_API": str(snapshot), "VIGIE_NOW": now}
        done = run_vigie("ingest", "--source", "betagouv", env=step)
        assert done.returncode == 0, done.stdout + done.stderr
        if validated is None:  # the 2023 payload is the current one: validate it
            validated = run_vigie("validate", env=step)
            con = connect(folder / "vigie.duckdb")
            old = con.execute("SELECT count(*) FROM stg.betagouv__phases WHERE phase_original = 'alumni'").fetchone()[0]
            con.close()
            assert old > 0
    return folder / "vigie.duckdb", validated


def test_old_phase_names_are_mapped_in_staging_with_the_original_kept(two_snapshots):
    db, _ = two_snapshots
    con = connect(db)
    mapped = dict(con.execute(
        "SELECT phase_original, any_value(phase) FROM stg.betagouv__phase_history "
        "WHERE phase_original IN ('alumni', 'success', 'transfer') GROUP BY 1").fetchall())
    assert mapped == {"alumni": "abandon", "success": "opere", "transfer": "transfere"}
    # the 2023 payload really used them: counted from the fixture, not from Vigie
    text = (V25 / "startups.json").read_text(encoding="utf-8")
    assert con.execute("SELECT count(*) FROM stg.betagouv__phase_history WHERE phase_original = 'alumni'"
                       ).fetchone()[0] == text.count('"name": "alumni"')
    assert con.execute("SELECT count(*) FROM mart.startup_phases WHERE phase IN ('alumni', 'success', 'transfer')"
                       ).fetchone()[0] == 0


def test_validation_accepts_old_phase_names(two_snapshots):
    _, done = two_snapshots
    assert "suites)" in done.stdout + done.stderr  # validation ran on the 2023 payload
    # the payload has other faults (a phase starting in 2120); none about phase names
    assert "Les phases sont celles de beta.gouv.fr" not in done.stdout
    assert "La phase telle que beta.gouv.fr l'a publiée" not in done.stdout


@pytest.mark.parametrize("on", [date(2021, 11, 7), date(2022, 4, 1), date(2022, 12, 31), date(2023, 1, 30)])
def test_before_the_first_snapshot_the_history_says_who_was_listed(two_snapshots, on):
    con = connect(two_snapshots[0])
    assert listed_in_mart(con, on) == listed_in_csv(on)


@pytest.mark.parametrize("on", [date(2023, 1, 31), date(2024, 6, 1), date(2025, 11, 6)])
def test_once_a_snapshot_covers_a_date_it_wins_over_the_history(two_snapshots, on):
    con = connect(two_snapshots[0])
    in_2023 = {s for (s,) in con.execute(
        "SELECT s.startup_id FROM raw.betagouv_startups s JOIN raw.betagouv_snapshots n "
        "ON n.startups_sha256 = s.payload_sha256 WHERE n.data_as_of::DATE = DATE '2023-01-31'").fetchall()}
    assert listed_in_mart(con, on) == in_2023


def test_disagreements_between_snapshot_and_history_are_kept_for_review(two_snapshots):
    con = connect(two_snapshots[0])
    on = date(2023, 1, 31)
    snapshot = listed_in_mart(con, on)
    history = listed_in_csv(on)
    review = con.execute("SELECT startup_id, in_snapshot, in_history FROM mart.startup_listing_review "
                         "WHERE snap_date = ?", [on]).fetchall()
    assert {s for s, in_s, _ in review if in_s} == snapshot - history
    assert {s for s, in_s, in_h in review if in_h and not in_s} == history - snapshot
    assert review, "the 2023 payload and the main-line history disagree on some startups"


def test_several_listing_intervals_per_startup():
    rows = list(csv.DictReader(INTERVALS.open(encoding="utf-8")))
    again = [r for r in rows if r["startup_id"] == "franceconnect"]
    assert len(again) >= 2
    assert len({r["startup_id"] for r in rows if not r["listed_to"]}) == 662  # open on 2026-08-20


@pytest.mark.parametrize("day, working", [
    (date(2026, 11, 11), False),   # Armistice, a Wednesday
    (date(2026, 11, 12), True),
    (date(2026, 5, 14), False),    # Ascension 2026
    (date(2026, 5, 25), False),    # Pentecost Monday 2026
    (date(2026, 11, 14), False),   # Saturday
])
def test_french_working_days_come_from_the_holidays_package(day, working):
    assert is_working_day(day) is working


def test_ten_working_days_across_a_holiday():
    need = date(2026, 11, 2)
    assert working_days_between(need, date(2026, 11, 17)) == 9
    assert working_days_between(need, date(2026, 11, 18)) == 10


def test_agreement_options_are_optional_with_defaults():
    doc = yaml.safe_load((ROOT / "pipelines" / "agreements" / "ll-support.yaml").read_text(encoding="utf-8"))
    options = agreements.agreement_options(doc)
    assert options["listing_grace_days"] == 90 and options["atypical_median_factor"] == 20
    assert options["execution_after_end_months"] is None and options["montant_atypique_ht"] is None
    assert agreements.lot_options(doc["lots"][0]) == {
        "excluded_incubators": [], "rules_off": [], "beneficiaries_published": True}
    acim = {a.id: a.doc for a in agreements.load_agreements([agreements.AGREEMENTS_DIR])}["acim-2026"]
    lots = {lot["lot"]: agreements.lot_options(lot) for lot in acim["lots"]}
    assert lots[1]["excluded_incubators"] == ["dinum_produits_interministeriels"]
    assert "HORS_STARTUP" in lots[2]["rules_off"] and lots[2]["beneficiaries_published"] is False
    assert agreements.agreement_options(acim)["execution_after_end_months"] == 6
    assert "REFUS_SEUIL" not in acim["rules"]


def test_an_unknown_rule_turned_off_on_a_lot_is_refused(tmp_path):
    doc = yaml.safe_load((ROOT / "pipelines" / "agreements" / "acim-2026.yaml").read_text(encoding="utf-8"))
    doc["lots"][1]["rules_off"] = ["REGLE_INVENTEE"]
    path = tmp_path / "acim-2026.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(Exception, match="REGLE_INVENTEE"):
        agreements.parse_agreement(path, {r["rule"] for r in agreements.load_catalogue()})


def test_one_order_in_two_files_is_summed_once_and_flagged(workspace, cli):
    header = "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Marché;Lot\n"
    (workspace / "inbox" / "a.csv").write_text(header + "0001400000777;05/10/2026;DINUM;Accès cible;OCTO;10 000;2026;1\n",
                                               encoding="utf-8")
    (workspace / "inbox" / "b.csv").write_text(header + "1400000777 ;05/10/2026;DINUM;Accès cible;OCTO;12 000;2026;1\n",
                                               encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        assert cli(*argv)[0] == 0
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT count(*) FROM mart.orders_enriched WHERE bc_key = '1400000777'").fetchone()[0] == 1
    assert con.execute("SELECT orders FROM mart.lot_consumption WHERE agreement_id = 'acim-2026' AND lot = 1"
                       ).fetchone()[0] == 1
    subjects = {s for (s,) in con.execute(
        "SELECT subject FROM findings.findings WHERE rule = 'RAPPROCHEMENT_A_REVOIR'").fetchall()}
    assert len(subjects) == 1 and next(iter(subjects)).endswith("#versions")


def test_rules_apply_per_lot_and_an_unknown_lot_keeps_the_agreement_rules(workspace, cli):
    (workspace / "inbox" / "lots.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Marché;Lot\n"
        "LT-1;05/10/2026;Ministère des Armées;Application mobile de gestion des congés;OCTO;95 000;2026;1\n"
        "LT-2;05/10/2026;Ministère des Armées;Application mobile de gestion des congés;OCTO;95 000;2026;2\n"
        "LT-3;05/10/2026;Ministère des Armées;Application mobile de gestion des congés;OCTO;95 000;2026;3\n",
        encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        assert cli(*argv)[0] == 0
    con = connect(workspace / "data" / "vigie.duckdb")
    raised = {s for (s,) in con.execute("SELECT subject FROM findings.findings WHERE rule = 'HORS_STARTUP'").fetchall()}
    assert raised == {"LT-1", "LT-3"}  # lot 2 turns HORS_STARTUP off; lot 3 is no lot of ACIM 2026


def _fixture_startups_named(prefix: str) -> set[str]:
    import json

    data = json.loads((ROOT / "pipelines" / "sample" / "betagouv" / "startups.json").read_text(encoding="utf-8"))
    return {s["id"] for s in data["data"] if s["attributes"]["name"].lower().startswith(prefix.lower())}


def test_an_ambiguous_product_raises_only_rapprochement_even_for_dinum(workspace, cli):
    """RULES.md v2: RAPPROCHEMENT_A_REVOIR replaces, for that order, what an unresolved name
    would raise: DINUM ordering « 1000 premiers jours » (two listed startups start so) is not
    also « absent de beta.gouv.fr » (EXCEPTION_DINUM), nor HORS_STARTUP for another buyer."""
    candidates = _fixture_startups_named("1000 premiers jours")
    assert len(candidates) >= 2  # the fixture makes the name ambiguous
    (workspace / "inbox" / "ambigu.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Marché;Lot\n"
        "AMB-1;05/10/2026;DINUM;1000 premiers jours;OCTO;10 000;2026;1\n"
        "AMB-2;05/10/2026;Ministère du Travail;1000 premiers jours;OCTO;10 000;2026;1\n", encoding="utf-8")
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        assert cli(*argv)[0] == 0
    con = connect(workspace / "data" / "vigie.duckdb")
    rows = con.execute("SELECT numero_bc, rule, evidence FROM findings.findings "
                       "WHERE numero_bc IN ('AMB-1', 'AMB-2') AND active").fetchall()
    # the rules that judge the product (TOURNIQUET judges the holder's turn: it may stay)
    product_rules = {"RAPPROCHEMENT_A_REVOIR", "EXCEPTION_DINUM", "HORS_STARTUP", "PHASE_NON_ELIGIBLE",
                     "HORS_PERIMETRE_LOT", "MINISTERE_DIFFERENT"}
    rules = {(bc, rule) for bc, rule, _ in rows if rule in product_rules}
    assert rules == {("AMB-1", "RAPPROCHEMENT_A_REVOIR"), ("AMB-2", "RAPPROCHEMENT_A_REVOIR")}
    import json

    for _, _, evidence in (r for r in rows if r[1] == "RAPPROCHEMENT_A_REVOIR"):
        names = json.loads(evidence)["noms"]
        assert {c["id"] for n in names if n["type"] == "startup" for c in n["candidats"]} == candidates
