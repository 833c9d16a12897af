"""The mentorat marché (2024) and the DINSIC marché (2018–2021) are files, no code: they
load, and their rules fire (orders are synthetic; the agreements are as published)."""

from pipelines import agreements
from pipelines.config import PACKAGE_DIR
from tests.conftest import connect
from tests.test_agreements import orders, run

FILES = PACKAGE_DIR / "agreements"


def _docs():
    return {a.id: a.doc for a in agreements.load_agreements([FILES])}


def test_mentorat_and_dinsic_files_as_published():
    docs = _docs()
    mentorat, dinsic = docs["mentorat-2024"], docs["dinsic-2018"]
    assert [h["name"] for h in sorted(mentorat["holders"], key=lambda h: h["rank"])] == [
        "NUMA", "Dynergie", "OCTO Technology / Malt"]
    assert {h["id"]: h["contacts"]["principal"] for h in mentorat["holders"]} == {
        "numa": "thomas.l@numa.co", "dynergie": "coachbetagouv@dynergie.fr", "octo-malt-mentorat": "octo_malt@octo.com"}
    assert mentorat["startups"]["required"] is False
    assert not {"HORS_STARTUP", "PHASE_NON_ELIGIBLE", "EXCEPTION_DINUM", "MINISTERE_DIFFERENT"} & set(mentorat["rules"])
    assert {e.get("ministry") for e in mentorat["exclusions"]} >= {"solidarite-sante", "travail", "environnement"}
    assert [h["name"] for h in sorted(dinsic["holders"], key=lambda h: h["rank"])] == ["Octo", "Arolla", "La Zone"]
    assert dinsic["tourniquet"]["mode"] == "sequentiel" and dinsic["period"]["end"] == "2021-11-06"


def test_mentorat_order_by_a_social_ministry_is_flagged_not_one_by_ign(workspace, cli):
    orders(workspace,
           "MEN-1;05/10/2026;Ministère du Travail;Coaching produit;Dynergie;10 000;12 000;mentorat\n"
           "MEN-2;05/10/2026;IGN;Coaching produit;Dynergie;10 000;12 000;mentorat\n"
           "MEN-3;05/10/2026;Ministère de la Culture;Coaching produit;NUMA;10 000;12 000;mentorat\n")
    run(cli)
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT numero_bc, agreement_id FROM int.orders_enriched ORDER BY 1").fetchall() == [
        ("MEN-1", "mentorat-2024"), ("MEN-2", "mentorat-2024"), ("MEN-3", "mentorat-2024")]
    raised = {(r, s) for r, s in con.execute(
        "SELECT rule, subject FROM findings.findings WHERE active AND rule <> 'SOURCE_PERIMEE'").fetchall()}
    assert ("ACHETEUR_NON_BENEFICIAIRE", "MEN-1") in raised
    assert not {s for r, s in raised if s in ("MEN-2", "MEN-3")}
    assert not {r for r, _ in raised} & {"HORS_STARTUP", "PHASE_NON_ELIGIBLE"}  # no Startup d'État rule


def test_an_unlabelled_order_goes_to_the_marche_beta_not_to_mentorat(workspace, cli):
    """OCTO / Malt holds ACIM 2021 and the mentorat marché at the same dates: a row that names no
    agreement is the marché beta's (mentorat-2024.yaml says inference_priority: -1); one that says
    « mentorat » stays mentorat's."""
    assert _docs()["mentorat-2024"]["inference_priority"] < 0
    orders(workspace,
           "SANS-1;05/03/2025;DINUM;Visio;Octo / Malt;10 000;12 000;\n"
           "MEN-9;05/03/2025;DINUM;Coaching produit;Octo / Malt;10 000;12 000;mentorat\n")
    run(cli)
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT numero_bc, agreement_id FROM int.orders_enriched ORDER BY 1").fetchall() == [
        ("MEN-9", "mentorat-2024"), ("SANS-1", "acim-2021")]
