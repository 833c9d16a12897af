"""Builds the embedded sample inbox (pipelines/sample/inbox/) — run it after changing the
scenario: `python -m pipelines.sample.build`. Deterministic: same scenario, same bytes
(apart from spreadsheet timestamps, which the importer does not read).

The scenario uses real startups of the beta.gouv.fr snapshot of 2026-08-20 and real
holders and beneficiaries, and breaks each rule a few times. `check_scenario` verifies
against the snapshot that each startup exists and is in the intended phase on its date.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

from pipelines.sample.writers import fr_date, fr_money, write_csv, write_ods, write_xlsx

HERE = Path(__file__).parent
INBOX = HERE / "inbox"

# (startup id, date, expected phase) for every order below: checked against the snapshot.
D = date


def ttc(ht: float) -> float:
    return round(ht * 1.2, 2)


# ---------------------------------------------------------------- ACIM 2021, Chorus CSV
CHORUS_2021 = [
    # N° EJ, date, service acheteur, produit, fournisseur, HT, TTC, libellé
    ("1300000101", D(2021, 11, 15), "DINUM", "La bonne alternance", "La Zone", 148500, None, "Équipe produit T4 2021"),
    ("1300000102", D(2021, 12, 2), "Ministère de la Justice", "Mon Suivi Justice", "OCTO Technology", 96000, None, "Développement"),
    ("1300000103", D(2022, 1, 10), "Ministère de la Transition écologique", "Impact CO2", "Benext", 54000, None, "Intégration API"),
    ("1300000104", D(2022, 2, 15), "DGFiP", "FARITAS", "/ut7", 72000, None, "Conception"),
    ("1300000105", D(2022, 3, 3), "DINUM", "Tableau de bord interne DINUM", "OCTO", 12000, None, "Pilotage"),
    ("1300000106", D(2022, 5, 20), "ANCT", "Donnees et territoires", "Benext", 64800, None, "Cartographie"),
    ("1300000107", D(2022, 6, 14), "Ministère de la Justice", "Refonte du portail intranet RH", "Inetum", 180000, None, "Intranet"),
    ("1300000108", D(2022, 6, 30), "MASA", "ma cantine", "LittleBig Connection", 45000, 55000, "Design"),
]
CHORUS_2021_BAD = ("1300000109", "31/06/2022", "Ministère de la Justice", "Mon Suivi Justice", "Scopyleft", 30000)

# ---------------------------------------------------------------- ACIM 2021, Excel export
EXCEL_2021 = [
    ("1300000201", D(2022, 9, 12), "Ministère des Solidarités et de la Santé", "Jardin mental", "La Zone", 60000, "Accompagnement"),
    ("1300000202", D(2022, 10, 3), "ADEME", "Plus fraîche ma ville", "Scopyleft", 84000, "Développement"),
    ("1300000203", D(2023, 1, 16), "Ministère de la Justice", "JAFER", "OCTO / Malt", 120000, "Équipe produit"),
    ("1300000204", D(2023, 3, 6), "Ministère de l'Intérieur", "FiligraneFacile", "Inetum / LBC", 90000, "Développement"),
    ("1300000205", D(2024, 3, 18), "DINUM", "Medistock", "La Zone", 36000, "Exploration"),
    ("1300000206", D(2024, 5, 21), "Ministère de l'Intérieur", "JuriGPT", "Malt", 110000, "Data science"),
    ("1300000207", D(2024, 6, 10), "Ministère des Armées", "Sites Conformes", "Crème de la Crème", 52000, "Intégration"),
    ("1300000208", D(2024, 11, 4), "Région Bretagne", "Données et territoires", "La Zone", 48000, "Déploiement régional"),
    ("1300000209", D(2025, 2, 3), "DGFiP", "FARITAS", "OCTO Technology", 150000, "Équipe produit 2025"),
    ("1300000210", D(2025, 9, 15), "Ministère de l'Intérieur", "ReAcT", "Inetum", 75000, "Maintenance"),
    ("1300000211", D(2025, 10, 20), "IGN", "Carte Facile", "Path Tech", 66000, "Développement"),
]

# ---------------------------------------------------------------- ACIM 2026, Chorus CSV (UTF-8 BOM, comma)
CHORUS_2026 = [
    ("1400000001", datetime(2026, 3, 16, 9, 30), "DINUM", "Visio", "OCTO", 120000, "1", "Équipe produit"),
    ("1400000002", datetime(2026, 3, 30, 14, 0), "Ministère de la Justice", "JAFER", "Theodo", 90000, "1", "Équipe produit"),
    ("1400000003", datetime(2026, 4, 7, 10, 12), "Ministère de l'Intérieur", "FPEP Mailbot (anciennement Réponse +)", "Thiga", 60000, "1", "Design"),
    ("1400000004", datetime(2026, 4, 21, 11, 0), "ADEME", "Que faire de mes objets et déchets", "Frontier", 150000, "1", "Développement"),
    ("1400000005", datetime(2026, 5, 5, 16, 45), "DGFiP", "GPL Connect", "Cober", 80000, "1", "Développement"),
    ("1400000006", datetime(2026, 5, 19, 9, 0), "Ministère de la Justice", "ROMIN", "Crème de la Crème", 70000, "1", "Data"),
    ("1400000007", datetime(2026, 6, 2, 9, 0), "Ministère de l'Éducation nationale", "AnSu", "Malt", 100000, "1", "Équipe produit"),
    ("1400000008", datetime(2026, 6, 15, 9, 0), "Ministère de l'Europe et des Affaires étrangères", "Tabula", "La Manufacture", 45000, "1", "Conception"),
    ("1400000009", datetime(2026, 6, 29, 9, 0), "Ministère des Armées", "Application mobile de gestion des congés", "OCTO", 95000, "1", "Application RH"),
    ("1400000010", datetime(2026, 7, 6, 9, 0), "Ministère de l'Intérieur", "JuriGPT", "Inetum", 85000, "1", "Data science"),
    ("1400000011", datetime(2026, 7, 20, 9, 0), "DINUM", "La bonne alternance", "OCTO Technology", 152340000, "1", "Équipe produit (montant saisi à vérifier)"),
    ("1400000012", datetime(2026, 8, 3, 9, 0), "Ministère de la Justice", "ROMIN", "Theodo", 60000, "1", "Maintenance"),
    ("1400000013", datetime(2026, 2, 10, 9, 0), "DINUM", "Visio", "OCTO", 40000, "1", "Cadrage"),
    ("1400000014", datetime(2026, 8, 24, 9, 0), "Ministère du Travail", "1000 premiers jours - l'app", "Docaposte", 58000, "1", "Développement"),
    ("1400000015", datetime(2026, 9, 7, 9, 0), "ANCT", "Données et territoires", "Thiga", -12000, "1", "Avoir"),
]
CHORUS_2026_BAD = [
    ("1400000016", "2026-09-14T09:00:00", "ADEME", "TACCT", "Cober", "48000.00", "Lot A", "Développement"),
    ("1400000017", "2026-09-21T09:00:00", "DINUM", "", "OCTO", "30000.00", "1", "Sans produit"),
]

# ---------------------------------------------------------------- ACIM 2026, October, .ods
ODS_2026_10 = [
    ("1400000020", D(2026, 10, 5), "Ministère de l'Intérieur", "JuriGPT", "THEODO / MALT Community", 130000, 2026, 1, "Data science", D(2026, 10, 12), D(2027, 3, 31)),
    ("1400000021", D(2026, 10, 12), "ADEME", "TACCT", "Docaposte", 88000, 2026, 1, "Développement", D(2026, 10, 19), D(2027, 1, 31)),
    ("1400000022", D(2026, 10, 19), "France Travail", "La bonne alternance", "OCTO", 54000, 2026, 1, "Intégration", D(2026, 11, 2), D(2027, 2, 28)),
    ("1400000023", D(2026, 10, 26), "Ministère de la Justice", "jafer", "Malt", 64000, 2026, 1, "Équipe produit", D(2026, 11, 2), D(2027, 4, 30)),
    ("1400000024", D(2026, 10, 28), "ADEME", "Plus fraiche ma vile", "Frontier", 76000, 2026, 1, "Développement", D(2026, 11, 9), D(2027, 3, 31)),
    ("1400000025", D(2026, 10, 30), "Ministère de l'Agriculture et de la Souveraineté alimentaire", "ma cantine", "Cober", 72000, 2026, 1, "Design", D(2026, 11, 16), D(2027, 2, 28)),
    # catalogue v2: a product name that matches two startups, a 2021 holder name that
    # names two 2026 holders (RAPPROCHEMENT_A_REVOIR), an execution running past the
    # agreement's end plus 6 months (EXECUTION_APRES_FIN)
    ("1400000026", D(2026, 10, 29), "Ministère du Travail", "1000 premiers jours", "Docaposte", 58000, 2026, 1, "Développement", D(2026, 11, 2), D(2027, 3, 31)),
    ("1400000027", D(2026, 10, 30), "Ministère de la Justice", "JAFER", "Octo / Malt", 64000, 2026, 1, "Équipe produit", D(2026, 11, 9), D(2027, 4, 30)),
    ("1400000028", D(2026, 10, 30), "DINUM", "Accès cible", "OCTO", 90000, 2026, 1, "Maintenance pluriannuelle", D(2026, 11, 2), D(2030, 12, 31)),
    # corrected version of an April order (amount revised): the latest version wins
    ("1400000003", D(2026, 4, 7), "Ministère de l'Intérieur", "FPEP Mailbot (anciennement Réponse +)", "Thiga", 66000, 2026, 1, "Design (BC rectificatif)", D(2026, 4, 14), D(2026, 9, 30)),
]

# ---------------------------------------------------------------- declarations
DECL_OCTO_2026 = [
    ("1400000001", D(2026, 3, 16), "DINUM", "Visio", "OCTO Technology", 120000, D(2026, 3, 17)),
    ("1400000004", D(2026, 4, 21), "ADEME", "Que faire de mes objets et déchets", "Frontier", 150000, D(2026, 4, 22)),
    ("1400000009", D(2026, 6, 29), "Ministère des Armées", "Application mobile de gestion des congés", "OCTO Technology", 95000, D(2026, 6, 30)),
]
DECL_LAZONE_2022 = [
    ("1300000101", D(2021, 11, 15), "DINUM", "La bonne alternance", "La Zone", 148500, D(2021, 11, 16)),
    ("1300000104", D(2022, 2, 15), "DGFiP", "FARITAS", "/ut7", 72000, D(2022, 2, 16)),
    ("1300000202", D(2022, 10, 3), "ADEME", "Plus fraîche ma ville", "Scopyleft", 84000, D(2022, 10, 4)),
]

# ---------------------------------------------------------------- tourniquet logs
# (need, date, buyer, startup, [(holder as written, response, reason), …], BC)
NEEDS_2021 = [
    ("EB-2021-001", D(2021, 11, 8), "DINUM", "La bonne alternance", [("La Zone", "Accepté", "")], "1300000101"),
    ("EB-2021-002", D(2021, 11, 24), "Ministère de la Justice", "Mon Suivi Justice",
     [("La Zone", "Refusé", "Équipe complète jusqu'en février"), ("OCTO", "Accepté", "")], "1300000102"),
    ("EB-2022-001", D(2022, 1, 3), "Ministère de la Transition écologique", "Impact CO2",
     [("OCTO / Malt", "Refusé", "Pas de profil data disponible"), ("Benext", "Accepté", "")], "1300000103"),
    ("EB-2022-002", D(2022, 2, 7), "DGFiP", "FARITAS", [("La Zone", "Accepté", "")], "1300000104"),
    ("EB-2022-003", D(2022, 3, 1), "Ministère de la Culture", "Dédale",
     [("Benext", "Désistement", "Fusion en cours avec OCTO"), ("Inetum / LBC", "Refusé", "Délais incompatibles")], None),
    ("EB-2022-004", D(2022, 5, 9), "ANCT", "Données et territoires",
     [("OCTO", "Refusé", ""), ("Inetum", "Refusé", "Aucun profil"), ("La Zone", "Pas de réponse", "")], None),
    ("EB-2022-005", D(2022, 6, 6), "MASA", "ma cantine",
     [("La Zone", "Refusé", "Charge trop importante"), ("OCTO / Malt", "Désistement", "Conflit d'intérêts"),
      ("LittleBig Connection", "Accepté", "")], "1300000108"),
    ("EB-2022-006", D(2022, 9, 1), "ADEME", "Plus fraîche ma ville", [("La Zone", "Accepté", "")], "1300000202"),
    ("EB-2023-001", D(2023, 1, 5), "Ministère de la Justice", "JAFER",
     [("Inetum / LBC", "Refusé", "Pas de développeur Ruby"), ("La Zone", "Refusé", "Indisponible"),
      ("OCTO / Malt", "Accepté", "")], "1300000203"),
    ("EB-2023-002", D(2023, 2, 20), "Ministère de l'Intérieur", "FiligraneFacile",
     [("OCTO", "Refusé", "Équipe mobilisée"), ("Inetum / LBC", "Accepté", "")], "1300000204"),
    # out of turn: after La Zone comes OCTO / Malt, not Inetum / LBC
    ("EB-2023-003", D(2023, 6, 12), "ADEME", "TACCT",
     [("La Zone", "Refusé", "Pas de designer"), ("Inetum / LBC", "Refusé", "Pas d'expertise climat"),
      ("La Zone", "Refusé", "Toujours indisponible")], None),
    ("EB-2023-004", D(2023, 9, 18), "IGN", "Carte Facile",
     [("Inetum / LBC", "Désistement", "Équipe non disponible"), ("La Zone", "Refusé", ""),
      ("OCTO / Malt", "Refusé", "Pas de géomaticien")], None),
    ("EB-2024-001", D(2024, 3, 4), "DINUM", "Medistock", [("OCTO", "Refusé", "Calendrier"), ("Inetum / LBC", "Refusé", "Calendrier"),
                                                         ("La Zone", "Accepté", "")], "1300000205"),
    ("EB-2024-002", D(2024, 5, 13), "Ministère de l'Intérieur", "JuriGPT",
     [("Inetum", "Refusé", "Pas de data scientist"), ("La Zone", "Refusé", "Indisponible"), ("Malt", "Accepté", "")], "1300000206"),
    ("EB-2024-003", D(2024, 10, 21), "Ministère de la Justice", "ROMIN",
     [("LBC", "Refusé", "Aucun freelance disponible"), ("La Zone", "Accepté", "")], None),
    ("EB-2025-001", D(2025, 1, 20), "DGFiP", "FARITAS", [("OCTO Technology", "Accepté", "")], "1300000209"),
    ("EB-2025-002", D(2025, 4, 7), "ADEME", "Que faire de mes objets et déchets",
     [("Inetum / LBC", "Refusé", "Charge"), ("La Zone", "Accepté", "")], None),
    ("EB-2025-003", D(2025, 9, 1), "Ministère de l'Intérieur", "ReAcT",
     [("Inetum / LBC", "Refusé", ""), ("La Zone", "Refusé", "Indisponible"), ("OCTO / Malt", "Refusé", "Produit abandonné")], None),
    ("EB-2025-004", D(2025, 10, 6), "IGN", "Carte Facile",
     [("Inetum / LBC", "Refusé", "Pas de géomaticien"), ("La Zone", "Accepté", "")], "1300000211"),
]

NEEDS_2026 = [
    ("EB-2026-101", D(2026, 3, 9), "DINUM", "Visio", [("OCTO", "accepte", "")], "1400000001"),
    ("EB-2026-102", D(2026, 3, 23), "Ministère de la Justice", "JAFER", [("THEODO", "accepte", "")], "1400000002"),
    ("EB-2026-103", D(2026, 3, 31), "Ministère de l'Intérieur", "FPEP Mailbot (anciennement Réponse +)",
     [("Docaposte", "accepte", "")], "1400000003"),
    ("EB-2026-105", D(2026, 4, 27), "DGFiP", "GPL Connect", [("Cober", "accepte", "")], "1400000005"),
    ("EB-2026-107", D(2026, 5, 26), "Ministère de l'Éducation nationale", "AnSu", [("Theodo", "accepte", "")], "1400000007"),
    ("EB-2026-112", D(2026, 7, 27), "Ministère de la Justice", "ROMIN",
     [("Docaposte", "désistement", ""), ("Theodo", "accepte", "")], "1400000012"),
    ("EB-2026-114", D(2026, 8, 17), "Ministère du Travail", "1000 premiers jours - l'app",
     [("Theodo", "désistement", "Équipe indisponible jusqu'en novembre"), ("Docaposte", "accepte", "")], "1400000014"),
    ("EB-2026-120", D(2026, 9, 28), "Ministère de l'Intérieur", "JuriGPT", [("Malt", "droit de suite", "")], "1400000020"),
    ("EB-2026-121", D(2026, 10, 5), "ADEME", "TACCT",
     [("OCTO", "sans réponse", "Pas de devis sous 10 jours ouvrés"), ("Cober", "accepte", "")], "1400000021"),
]

# The startups of the scenario, and the phase each is in on the order's date.
SCENARIO_PHASES = [
    ("la-bonne-alternance", D(2021, 11, 15), "acceleration"),
    ("mon-suivi-justice", D(2021, 12, 2), "construction"),
    ("impact.co2", D(2022, 1, 10), "construction"),
    ("faritas", D(2022, 2, 15), "construction"),
    ("données-et-territoires", D(2022, 5, 20), "construction"),
    ("ma-cantine-egalim", D(2022, 6, 30), "acceleration"),
    ("monsuivipsy", D(2022, 9, 12), "construction"),
    ("plusfraichemaville", D(2022, 10, 3), "construction"),
    ("jafer", D(2023, 1, 16), "construction"),
    ("filigrane", D(2023, 3, 6), "construction"),
    ("medistock", D(2024, 3, 18), "investigation"),
    ("juri-gpt", D(2024, 5, 21), "construction"),
    ("sites-faciles", D(2024, 6, 10), "construction"),
    ("faritas", D(2025, 2, 3), "acceleration"),
    ("re-ac-t", D(2025, 9, 15), "abandon"),
    ("fonds.de.plans", D(2025, 10, 20), "construction"),
    ("visio", D(2026, 3, 16), "construction"),
    ("reponse", D(2026, 4, 7), "acceleration"),
    ("quefairedemesobjetsetdechets", D(2026, 4, 21), "acceleration"),
    ("gpl-connect", D(2026, 5, 5), "acceleration"),
    ("romin", D(2026, 5, 19), "consolidation"),
    ("an-su", D(2026, 6, 2), "construction"),
    ("tabula", D(2026, 6, 15), "construction"),
    ("romin", D(2026, 8, 3), "transfere"),
    ("1000.jours", D(2026, 8, 24), "consolidation"),
    ("données-et-territoires", D(2026, 9, 7), "consolidation"),
    ("tacct", D(2026, 10, 12), "construction"),
    ("plusfraichemaville", D(2026, 10, 28), "construction"),
]


class ScenarioError(Exception):
    """The embedded beta.gouv.fr snapshot no longer supports the demo's scenario (a build-time check)."""


def check_scenario(snapshot_dir: Path = HERE / "betagouv") -> None:
    """Fail loudly if the snapshot no longer supports the scenario."""
    from pipelines.sources.betagouv import parse_payload

    parsed = parse_payload("startups", (snapshot_dir / "startups.json").read_bytes())
    ids = {s["startup_id"] for s in parsed["startups"]}
    rank = {"investigation": 1, "construction": 2, "acceleration": 3, "consolidation": 4, "transfere": 5,
            "opere": 5, "abandon-investigation": 6, "abandon": 6}
    for startup_id, on, expected in SCENARIO_PHASES:
        if startup_id not in ids:
            raise ScenarioError(f"Le scénario de démonstration cite la startup « {startup_id} », absente de "
                                f"l'instantané {snapshot_dir}.")
        phases = [p for p in parsed["phases"] if p["startup_id"] == startup_id and p["start_date"] and p["start_date"] <= on]
        current = max(phases, key=lambda p: (p["start_date"], rank[p["phase"]]))["phase"] if phases else None
        if current != expected:
            raise ScenarioError(f"Le scénario de démonstration veut la startup « {startup_id} » en phase "
                                f"« {expected} » le {on:%d/%m/%Y} ; l'instantané {snapshot_dir} la donne en "
                                f"« {current} ».")


def _exports_2021(folder: Path) -> list[Path]:
    """The 2021 agreement's order exports: a Chorus CSV and an Excel follow-up."""
    made = []
    # 1. Chorus extract, Windows-1252, ';', French money, a TOTAL line, one impossible date.
    rows = [["N° EJ", "Date de création", "Service acheteur", "Produit", "Fournisseur", "Montant HT", "Montant TTC", "Libellé"]]
    for bc, when, buyer, product, holder, ht, tt, label in CHORUS_2021:
        rows.append([bc, fr_date(when), buyer, product, holder, fr_money(ht, space="\u00a0"),
                     fr_money(tt if tt is not None else ttc(ht), space="\u00a0"), label])
    bc, when, buyer, product, holder, ht = CHORUS_2021_BAD
    rows.append([bc, when, buyer, product, holder, fr_money(ht, space=" "), fr_money(ttc(ht), space=" "), "Ligne à corriger"])
    rows.append(["TOTAL", "", "", "", "", fr_money(sum(r[5] for r in CHORUS_2021) + ht, space=" "), "", ""])
    made.append(write_csv(folder / "2022-01_chorus_dinum_acim2021.csv", rows, encoding="cp1252", separator=";"))

    # 2. Excel export with title rows and a TOTAL row; dates as Excel dates, amounts as numbers.
    header = ["N° BC", "Date du BC", "Bénéficiaire", "Startup d'État", "Titulaire du marché", "Montant HT (€)",
              "Montant TTC (€)", "Marché", "Objet"]
    body = [[bc, when, buyer, product, holder, float(ht), ttc(ht), "2021", label]
            for bc, when, buyer, product, holder, ht, label in EXCEL_2021]
    made.append(write_xlsx(
        folder / "suivi_bons_de_commande_2022-2025.xlsx", [header, *body], sheet="Commandes",
        above=[["Marché interministériel beta — suivi des bons de commande"], ["Extraction du 05/11/2025"], []],
        below=[[], ["TOTAL", None, None, None, None, sum(r[5] for r in body), sum(r[6] for r in body)]],
        money_columns=(5, 6),
    ))
    return made


def _exports_2026(folder: Path) -> list[Path]:
    """The 2026 agreement's order exports: a Chorus CSV and a LibreOffice sheet."""
    made = []
    # 3. Chorus extract of 2026, UTF-8 with BOM, ',' separator, ISO datetimes, dotted decimals.
    rows = [["Numéro de pièce de la pièce de référence", "Date d'émission", "Entité", "Service numérique", "Prestataire",
             "Montant à contrôler en dev. transaction", "Lot", "Accord-cadre", "Désignation"]]
    for bc, when, buyer, product, holder, ht, lot, label in CHORUS_2026:
        rows.append([bc, when.isoformat(timespec="seconds"), buyer, product, holder, f"{ht:.2f}", lot, "25_BAM_044", label])
    for bc, when, buyer, product, holder, ht, lot, label in CHORUS_2026_BAD:
        rows.append([bc, when, buyer, product, holder, ht, lot, "25_BAM_044", label])
    made.append(write_csv(folder / "export_chorus_acim2026_2026-09.csv", rows, encoding="utf-8", separator=",", bom=True))

    # 4. LibreOffice sheet of October 2026, with a corrected version of an April order.
    header = ["Numéro de bon de commande", "Date de commande", "Administration", "Startup", "Titulaire", "Total HT",
              "Total TTC", "Accord-cadre", "Lot", "Objet", "Début", "Fin"]
    body = [[bc, when, buyer, product, holder, float(ht), ttc(ht), agreement, lot, label, start, end]
            for bc, when, buyer, product, holder, ht, agreement, lot, label, start, end in ODS_2026_10]
    made.append(write_ods(folder / "commandes_2026-10.ods", [header, *body], sheet="commandes"))
    return made


def _declarations(folder: Path) -> list[Path]:
    """Holders' declarations to DINUM."""
    made = []
    # 5. A holder's half-year declaration to DINUM (2026, 1st half), .xlsx.
    header = ["N° BC", "Date du BC", "Entité", "Produit", "Titulaire", "Montant HT", "Montant TTC", "Transmis à la DINUM le"]
    body = [[bc, when, buyer, product, holder, float(ht), ttc(ht), told] for bc, when, buyer, product, holder, ht, told in DECL_OCTO_2026]
    made.append(write_xlsx(folder / "declaration_octo_cdlc_frontier_2026-S1.xlsx", [header, *body], sheet="Déclaration",
                           money_columns=(5, 6)))

    # 6. La Zone's declarations (ACIM 2021), UTF-8 CSV.
    rows = [["N° BC", "Date de commande", "Bénéficiaire", "Startup", "Titulaire", "Montant HT", "Montant TTC",
             "Date d'information DINUM", "Marché"]]
    for bc, when, buyer, product, holder, ht, told in DECL_LAZONE_2022:
        rows.append([bc, fr_date(when), buyer, product, holder, fr_money(ht), fr_money(ttc(ht)), fr_date(told), "2021"])
    made.append(write_csv(folder / "declarations_la-zone_2021-2022.csv", rows, encoding="utf-8", separator=";"))
    return made


def _tourniquet_logs(folder: Path) -> list[Path]:
    """The tourniquet logs of both agreements."""
    made = []
    # 7. Tourniquet log of ACIM 2021, tab-separated.
    rows = [["N° besoin", "Date de la demande", "Bénéficiaire", "Startup", "Titulaire sollicité", "Rang", "Réponse",
             "Date de réponse", "Justification", "N° BC", "Montant estimé HT", "Marché"]]
    for need, when, buyer, product, answers, bc in NEEDS_2021:
        for rank, (holder, response, reason) in enumerate(answers, 1):
            accepted = response.lower().startswith("accept")
            rows.append([need, fr_date(when), buyer, product, holder, rank, response, fr_date(when), reason,
                         bc if accepted else "", "", "2021"])
    made.append(write_csv(folder / "tourniquet_acim2021.tsv", rows, encoding="utf-8", separator="\t"))

    # 8. Tourniquet log of ACIM 2026, .xlsx with other header spellings.
    header = ["Référence besoin", "Date d'expression du besoin", "Bénéficiaire", "Produit", "Titulaire",
              "Ordre de sollicitation", "Décision du titulaire", "Motif du refus", "N° BC", "Accord-cadre"]
    body = []
    for need, when, buyer, product, answers, bc in NEEDS_2026:
        for rank, (holder, response, reason) in enumerate(answers, 1):
            granted = response in ("accepte", "droit de suite")
            body.append([need, when, buyer, product, holder, rank, response, reason, bc if granted else None, "2026"])
    made.append(write_xlsx(folder / "tourniquet_acim2026.xlsx", [header, *body], sheet="Tourniquet"))
    return made


def _faulty_files(folder: Path, first: Path) -> list[Path]:
    """Files Vigie must refuse or recognise: a missing column, a copy of the first export."""
    made = []
    # 9. An export missing a required column (Montant HT): rejected whole, kept aside.
    rows = [["N° BC", "Date du BC", "Bénéficiaire", "Startup", "Fournisseur", "Objet"],
            ["1400000030", "02/11/2026", "DINUM", "Visio", "OCTO", "Sans montant"]]
    made.append(write_csv(folder / "export_incomplet_2026-11.csv", rows, encoding="utf-8", separator=";"))

    # 10. The first file dropped again under another name: recognised by its content.
    copy = folder / "copie de 2022-01_chorus_dinum_acim2021.csv"
    shutil.copyfile(first, copy)
    made.append(copy)
    return made


def build(folder: Path = INBOX) -> list[Path]:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    made = _exports_2021(folder) + _exports_2026(folder) + _declarations(folder) + _tourniquet_logs(folder)
    return made + _faulty_files(folder, made[0])


def main() -> None:
    check_scenario()
    for path in build():
        print(path.relative_to(HERE))
    print(json.dumps({"commandes": len(CHORUS_2021) + len(EXCEL_2021) + len(CHORUS_2026) + len(ODS_2026_10)}))


if __name__ == "__main__":
    main()
