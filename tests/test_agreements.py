"""Agreements are data: the four files, their rules, beneficiaries as published, holders'
contacts, and a new agreement picked up from a file with no code change."""

import pytest
import yaml

from pipelines import agreements
from pipelines.config import PACKAGE_DIR
from tests.conftest import connect

FILES = PACKAGE_DIR / "agreements"


def test_the_four_agreement_files():
    found = {a.id: a.doc for a in agreements.load_agreements([FILES])}
    assert set(found) == {"acim-2021", "acim-2026", "ll-support", "ll-expertise", "mentorat-2024", "dinsic-2018"}
    a21, a26 = found["acim-2021"], found["acim-2026"]
    assert [h["id"] for h in sorted(a21["holders"], key=lambda h: h["rank"])] == ["la-zone", "octo-malt", "benext", "inetum-lbc"]
    benext = next(h for h in a21["holders"] if h["id"] == "benext")
    assert benext["valid_to"] == "2022-03-31" and benext["merged_into"] == "octo-malt"
    la_zone = next(h for h in a21["holders"] if h["id"] == "la-zone")
    assert {m["id"] for m in la_zone["members"]} == {"ut7", "scopyleft", "pathtech", "fairness", "scopopop", "telescoop",
                                                     "omnicite", "solstice"}
    assert a21["refusals"]["critical_at"] == 10 and a21["startups"]["eligible_phases"] == ["construction", "acceleration",
                                                                                          "consolidation"]
    assert a26["reference"] == "25_BAM_044"
    assert [(lot["lot"], lot["maximum_ht"]) for lot in a26["lots"]] == [(1, 200000000), (2, 200000000)]
    assert a21["lots"][0]["maximum_ht"] is None  # unknown: said, not invented
    assert found["ll-support"]["holders"] == [] and found["ll-support"]["period"]["start"] is None


def test_holders_carry_their_public_contacts_mailing_list_first():
    a21 = {a.id: a.doc for a in agreements.load_agreements([FILES])}["acim-2021"]
    contacts = {h["id"]: h["contacts"] for h in a21["holders"]}
    assert contacts["la-zone"]["liste_diffusion"] == "devis@la.zone" and contacts["la-zone"]["principal"] == "contact@la.zone"
    assert contacts["octo-malt"]["principal"] == "octo_malt@octo.com"
    assert contacts["inetum-lbc"]["principal"] == "client.beta.gouv@inetum.com"
    assert agreements._contacts_choice(contacts["la-zone"]) == ("devis@la.zone", "liste de diffusion")


def test_beneficiary_lists_are_as_published():
    docs = {a.id: a.doc for a in agreements.load_agreements([FILES])}
    support = {b.get("body") for b in docs["ll-support"]["beneficiaries"]}
    expertise = {b.get("body") for b in docs["ll-expertise"]["beneficiaries"]}
    assert {"cnaf", "inpi", "sorbonne-universite", "anses"} <= support & expertise
    assert {"cour-des-comptes", "anssi", "cese", "ihedn"} <= expertise - support
    assert len(docs["ll-support"]["beneficiaries"]) == 23 and len(docs["ll-expertise"]["beneficiaries"]) == 27


def orders(workspace, rows: str, name: str = "commandes.csv"):
    (workspace / "inbox" / name).write_text("N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Montant TTC;Marché\n"
                                            + rows, encoding="utf-8")


def run(cli):
    for argv in (("ingest", "--source", "betagouv"), ("ingest", "--source", "orders"), ("check",)):
        code, out, err = cli(*argv)
        assert code == 0, err


def test_free_software_marches(workspace, cli):
    orders(workspace,
           "LL-1;05/10/2026;Cour des comptes;Support PostgreSQL;Entreprise X;10 000;12 000;ll-support\n"
           "LL-2;05/10/2026;Cour des comptes;Expertise Debian;Entreprise Y;10 000;12 000;ll-expertise\n"
           "LL-3;05/10/2026;ANSSI;Support PostgreSQL;Entreprise X;10 000;12 000;ll-support\n"
           "LL-4;05/10/2026;ANSSI;Expertise Debian;Entreprise Y;10 000;12 000;ll-expertise\n"
           "LL-5;05/10/2026;CNAF;Support PostgreSQL;Entreprise X;10 000;12 000;support logiciels libres\n"
           "LL-6;05/10/2026;Sorbonne Université;Expertise Debian;Entreprise Y;10 000;12 000;ll-expertise\n"
           "LL-7;05/10/2026;Ministère des Armées;Support PostgreSQL;Entreprise X;10 000;13 000;ll-support\n")
    run(cli)
    con = connect(workspace / "data" / "vigie.duckdb")
    raised = {(r, s) for r, s in con.execute("SELECT rule, subject FROM findings.findings WHERE active").fetchall()
              if r != "SOURCE_PERIMEE"}
    # catalogue v2: the ANSSI is in the Prime Minister's budget perimeter, which the
    # support list names: LL-3 is no longer a finding
    assert raised == {("ACHETEUR_NON_BENEFICIAIRE", "LL-1"), ("MONTANT_INCOHERENT", "LL-7")}
    message = con.execute("SELECT message FROM findings.findings WHERE subject = 'LL-1'").fetchone()[0]
    assert "Cour des comptes" in message and "Support logiciels libres" in message


def test_a_new_agreement_is_a_file_not_code(workspace, cli, monkeypatch, tmp_path):
    folder = tmp_path / "accords"
    folder.mkdir()
    (folder / "cloud-interministeriel.yaml").write_text(yaml.safe_dump({
        "id": "cloud-test", "codes": ["CLOUD-26"], "title": "Marché de test : cloud interministériel",
        "short_title": "Cloud (test)", "family": "test",
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
        "lots": [{"lot": 1, "title": "Hébergement", "maximum_ht": 100000}],
        "rules": ["ACHETEUR_NON_BENEFICIAIRE", "HORS_PERIODE", "PLAFOND", "MONTANT_INCOHERENT"],
        "plafond": {"alert_share": 0.75, "critical_share": 1.0},
        "holders": [],
        "beneficiaries": [
            {"label": "Agence de test", "body": {"id": "agence-test", "name": "Agence nationale du test", "kind": "organisme",
                                                 "spellings": ["ANT", "Agence de test"]}},
            {"label": "Le ministère de la Culture", "ministry": "culture"},
        ],
    }, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("VIGIE_AGREEMENTS_DIR", str(folder))
    orders(workspace,
           "CL-1;05/10/2026;Agence de test;Hébergement;Hébergeur X;80 000;96 000;CLOUD-26\n"
           "CL-2;06/10/2026;DINUM;Hébergement;Hébergeur X;1 000;1 200;cloud-test\n"
           "CL-3;06/01/2027;Ministère de la Culture;Hébergement;Hébergeur X;1 000;1 200;cloud-test\n")
    run(cli)
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT agreement_id FROM ref.agreements ORDER BY 1").fetchall() == [
        ("acim-2021",), ("acim-2026",), ("cloud-test",), ("dinsic-2018",), ("ll-expertise",), ("ll-support",),
        ("mentorat-2024",)]
    raised = {(r, s) for r, s in con.execute(
        "SELECT rule, subject FROM findings.findings WHERE active AND agreement_id = 'cloud-test'").fetchall()}
    assert raised == {("ACHETEUR_NON_BENEFICIAIRE", "CL-2"), ("HORS_PERIODE", "CL-3"), ("PLAFOND", "cloud-test/lot-1@75")}
    con.close()
    code, out, err = cli("report", "--month", "2026-10", "--output", str(tmp_path / "r"))
    assert code == 0, err
    html = (tmp_path / "r" / "rapport_conformite_2026-10.html").read_text(encoding="utf-8")
    assert "Cloud (test)" in html and 'id="synthese-cloud-test"' in html


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.pop("title"), "le champ obligatoire « title » manque"),
    (lambda d: d["holders"][0].update(rank="premier"), "« holders[0].rank » doit être de type"),
    (lambda d: d.update(rules=[*d["rules"], "REGLE_INVENTEE"]), "règles inconnues : REGLE_INVENTEE"),
    (lambda d: d["holders"][0].update(merged_into="personne"), "qui n'est pas un titulaire de l'accord"),
    (lambda d: d.update(couleur="bleu"), "le champ « couleur » n'est pas connu"),
])
def test_an_invalid_agreement_file_gets_a_french_error_naming_file_and_field(change, fragment, workspace, cli,
                                                                              monkeypatch, tmp_path):
    doc = yaml.safe_load((FILES / "acim-2021.yaml").read_text(encoding="utf-8"))
    change(doc)
    folder = tmp_path / "accords"
    folder.mkdir()
    (folder / "acim-2021.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("VIGIE_AGREEMENTS_DIR", str(folder))
    code, out, err = cli("ingest", "--source", "orders")
    assert code == 2
    assert "acim-2021.yaml" in err and fragment in err


def test_refusal_findings_say_whom_to_write_to(demo_db):
    con = connect(demo_db)
    for titulaire, contact, message in con.execute(
            "SELECT titulaire, contact, message FROM findings.findings WHERE rule = 'REFUS_SEUIL'").fetchall():
        assert contact and f"Écrire à : {contact}" in message, titulaire
