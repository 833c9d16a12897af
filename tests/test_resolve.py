"""Entity resolution, measured on real data: the thresholds in settings.toml are the ones
these measurements justify."""

import csv
import random
from collections import Counter

import pytest

from pipelines.config import load_settings
from pipelines.resolve import buyer_index, holder_index, startup_index
from pipelines.resolve.startups import StartupIndex
from tests.conftest import FIXTURES, connect

# Real product names that are not Startups d'État (ministries' usual IT projects).
NOT_STARTUPS = [
    "Refonte du portail intranet RH", "Application mobile de gestion des congés",
    "Système d'information des ressources humaines", "Portail usagers", "Plateforme de données",
    "Outil de gestion des subventions", "Site internet du ministère", "Tableau de bord interne DINUM",
    "Gestion électronique des documents", "Messagerie sécurisée", "Chatbot RH", "Application de prise de rendez-vous",
    "Plateforme de formation en ligne", "Logiciel de paie", "Datalake ministériel", "Entrepôt de données décisionnel",
    "Observatoire des territoires", "Portail des aides", "Guichet unique", "Annuaire des services",
    "Dématérialisation des procédures", "Migration vers le cloud", "Maintenance applicative",
    "Tierce maintenance applicative", "Intranet", "Base de données clients", "CRM ministériel", "Refonte graphique",
    "Audit de sécurité", "Application métier", "Site vitrine", "Portail agents", "Outil de suivi budgétaire",
    "Plateforme collaborative", "Espace numérique de travail", "Application de gestion des stocks",
    "Service de visioconférence", "Formulaire en ligne", "Gestion des courriers", "Signature électronique",
    "Outil de ticketing", "Démarches en ligne", "Portail citoyen", "Application mobile", "Assistant virtuel",
    "Carte interactive", "Tableau de bord", "Logiciel de planification", "Archivage électronique",
    "Application Support PostgreSQL", "Accompagnement agile", "Développement sur mesure", "Hébergement",
    "Infogérance", "Support logiciel libre",
]


@pytest.fixture(scope="module")
def demo(demo_db):
    con = connect(demo_db)
    yield con
    con.close()


def typos_of_real_names(con, n: int = 150) -> list[tuple[str, str]]:
    """One deletion, substitution or doubled letter in real names (deterministic)."""
    rows = con.execute("SELECT startup_id, name FROM stg.betagouv__startups ORDER BY 1").fetchall()
    rnd = random.Random(2026)
    names = [r for r in rows if r[1] and len(r[1]) >= 8]
    rnd.shuffle(names)
    out = []
    for sid, name in names[:n]:
        i = rnd.randrange(1, len(name) - 1)
        kind = len(out) % 3
        typo = (name[:i] + name[i + 1:] if kind == 0 else
                name[:i] + ("e" if name[i] != "e" else "a") + name[i + 1:] if kind == 1 else name[:i] + name[i] + name[i:])
        out.append((typo, sid))
    return out


def measure(index: StartupIndex, typos, negatives):
    right = sum(index.resolve(t).target == sid for t, sid in typos)
    wrong = [(t, index.resolve(t).target) for t, sid in typos if index.resolve(t).target not in (None, sid)]
    false_positives = [(n, index.resolve(n).target) for n in negatives if index.resolve(n).target]
    return right, wrong, false_positives


def test_startup_threshold_is_the_one_the_measurement_justifies(demo, capsys):
    settings = load_settings(env={})
    index = startup_index(demo, settings)
    typos = typos_of_real_names(demo)
    table = []
    for threshold in (80, 85, index.threshold, 94):
        for margin in (0, index.margin):
            probe = StartupIndex(list(index.names.items()), sorted(index.ids - set(index.names)), threshold, margin)
            right, wrong, fps = measure(probe, typos, NOT_STARTUPS)
            table.append((threshold, margin, right, len(wrong), len(fps)))
    with capsys.disabled():
        print("\nseuil marge | fautes de frappe retrouvées | attribuées à tort | non-startups prises pour des startups")
        for row in table:
            print(f"{row[0]:>5} {row[1]:>5} | {row[2]:>3}/{len(typos)} | {row[3]} | {row[4]}")
    configured = next(r for r in table if r[0] == index.threshold and r[1] == index.margin)
    assert configured[3] == 0 and configured[4] == 0        # never wrong, never a non-startup
    assert configured[2] / len(typos) >= 0.93              # and most typos found
    assert next(r for r in table if r[0] == 80)[4] > 0     # lower lets non-startups in
    assert next(r for r in table if r[0] == index.threshold and r[1] == 0)[3] > 0  # no margin: wrong picks


def documented_confidence(method: str) -> float:
    """The confidence pipelines/resolve/startups.py documents for a method (its docstring table)."""
    import re

    from pipelines.resolve import startups

    return float(re.search(rf"^  {method} .* (\d\.\d\d)$", startups.__doc__, re.M).group(1))


def test_startup_methods(demo):
    index = startup_index(demo, load_settings(env={}))
    assert index.resolve("juri-gpt").method == "id"
    assert index.resolve("JuriGPT").method == "nom"
    assert (index.resolve("Donnees-et-territoires").target, index.resolve("Donnees-et-territoires").method) == \
        ("données-et-territoires", "id_normalise")
    # a listed startup written with another case and accents
    r = index.resolve("JARDIN  MENTAL")
    assert (r.target, r.method, r.confidence) == ("monsuivipsy", "nom_normalise", documented_confidence("nom_normalise"))
    assert index.resolve("PLUS FRAÎCHE MA VILLE").target == "plusfraichemaville"
    r = index.resolve("Plus fraiche ma vile")
    assert r.target == "plusfraichemaville" and r.method == "approchant" and 0.9 < r.confidence < 1
    assert index.resolve("Refonte du portail intranet RH").target is None


def test_holder_resolver_on_the_real_missions_file(demo, capsys):
    """missions.csv: real spellings of employers typed by people. Every distinct spelling is
    labelled by hand in tests/fixtures/missions_holders_truth.csv (which holders it may
    denote, per agreement; empty: not a holder)."""
    index = holder_index(demo, load_settings(env={}))
    truth = list(csv.DictReader((FIXTURES / "missions_holders_truth.csv").open(encoding="utf-8")))
    missions = list(csv.DictReader((FIXTURES / "missions.csv").open(encoding="utf-8")))
    assert {m["employer"] for m in missions if m["employer"].strip()} == {t["employer"] for t in truth}
    resolved, wrong, false_positives, missed = 0, [], [], []
    holders = [t for t in truth if t["titulaires"] and t["certain"] == "oui"]
    for t in truth:
        want = set(filter(None, t["titulaires"].split("|")))
        got = {f"{a}:{r.target}" for a in ("acim-2021", "acim-2026") for r in [index.resolve(t["employer"], a)] if r.target}
        if want and t["certain"] == "oui":
            resolved += bool(got)
            if got - want:
                wrong.append((t["employer"], sorted(got - want)))
            if not got:
                missed.append(t["employer"])
        elif not want and got:
            false_positives.append((t["employer"], sorted(got)))
    # per mission: the agreement in force when it started
    counts = Counter(m["employer"] for m in missions)
    by_spelling = {t["employer"]: t for t in holders}
    ok_missions = total_missions = 0
    for m in missions:
        t = by_spelling.get(m["employer"])
        if not t:
            continue
        agreement = "acim-2026" if m["start"] >= "2026-03-01" else "acim-2021"
        want = {p.split(":")[1] for p in t["titulaires"].split("|") if p.startswith(agreement)}
        if not want:
            continue
        total_missions += 1
        ok_missions += index.resolve(m["employer"], agreement).target in want
    share = resolved / len(holders)
    with capsys.disabled():
        print(f"\nOrthographes de titulaires : {len(holders)} ; reconnues : {resolved} ({share:.1%}) ; "
              f"mal attribuées : {len(wrong)} ; non-titulaires pris pour des titulaires : {len(false_positives)} "
              f"sur {len(truth) - len(holders)} ; missions bien rattachées : {ok_missions}/{total_missions} "
              f"({ok_missions / total_missions:.1%}) ; non reconnues : {missed}")
    assert len(holders) >= 142
    assert wrong == [] and false_positives == []
    assert share >= 0.95
    assert ok_missions / total_missions >= 0.97
    assert sum(counts[e] for e in missed) <= 10  # what is missed is rare


def test_holder_resolution_is_per_agreement(demo):
    index = holder_index(demo, load_settings(env={}))
    malt21, malt26 = index.resolve("Malt", "acim-2021"), index.resolve("Malt", "acim-2026")
    assert (malt21.target, malt21.member) == ("octo-malt", "malt")
    assert (malt26.target, malt26.member) == ("theodo-malt", "malt")
    assert index.resolve("Crème de la Crème", "acim-2021").target is None
    assert index.resolve("lazone/scopyleft", "acim-2021").member == "scopyleft"
    assert index.resolve("ut/7 - MALT", "acim-2021").method == "ambigu"
    assert index.resolve("Octo/Malt", "acim-2026").method == "ambigu"
    assert index.resolve("Little Big Connnection", "acim-2021").method == "approchant"


@pytest.mark.parametrize("written, body, ministry", [
    ("DINUM", "dinum", "spm"),
    ("Direction interministérielle du numérique", "dinum", "spm"),
    ("Ministère de l'Intérieur", "ministere:interieur", "interieur"),
    ("MIOM / DTNUM", "ministere:interieur", "interieur"),
    ("ministere de l interieur", "ministere:interieur", "interieur"),
    ("MEAE", "ministere:affaires-etrangeres", "affaires-etrangeres"),
    ("Agence nationale de la cohésion des territoires", "anct", "territoires"),
    ("Cour des comptes", "cour-des-comptes", None),
    ("Ministère des Solidarités et de la Santé", "ministere:solidarite-sante", "solidarite-sante"),
    ("Direction générale des entreprises", "betagouv:dge", "bercy"),
    ("Préfecture de l'Ain", "betagouv:Préfecture", "interieur"),
])
def test_buyers(demo, written, body, ministry):
    index = buyer_index(demo, load_settings(env={}))
    r = index.resolve(written)
    assert r.target == body
    assert index.bodies[body].ministry == ministry


def test_unknown_buyer_stays_unknown(demo):
    index = buyer_index(demo, load_settings(env={}))
    assert index.resolve("Région Bretagne").target is None
    assert index.resolve("Mairie de Lyon").target is None


def test_review_table_lists_the_ambiguous_values(demo_copy, cli, tmp_path, monkeypatch):
    """Two holder spellings the docstring of pipelines/resolve/holders.py calls for review,
    in an order of the 2026 agreement, and one that is plain: the review lists those two."""
    ambiguous = "Theodo - Octo"  # parts naming two different holder groups of acim-2026
    partial = "Docaposte + Plomberie Dupont"  # one part a holder, the other nothing known
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "a_revoir.csv").write_text(
        "N° BC;Date du BC;Bénéficiaire;Startup;Titulaire;Montant HT;Marché\n"
        f"RV-1;05/11/2026;Ministère de la Culture;JuriGPT;{ambiguous};50 000;2026\n"
        f"RV-2;06/11/2026;Ministère de la Culture;JuriGPT;{partial};40 000;2026\n"
        "RV-3;07/11/2026;Ministère de la Culture;JuriGPT;Theodo;30 000;2026\n", encoding="utf-8")
    monkeypatch.setenv("VIGIE_DB", str(demo_copy))
    monkeypatch.setenv("VIGIE_INBOX", str(tmp_path / "inbox"))
    code, out, err = cli("ingest", "--source", "orders")
    assert "Traceback" not in err
    rows = connect(demo_copy).execute(
        "SELECT kind, agreement_id, raw_value, reason, occurrences FROM core.resolution_review "
        "WHERE raw_value IN (?, ?, ?) ORDER BY raw_value", [ambiguous, partial, "Theodo"]).fetchall()
    assert rows == [("titulaire", "acim-2026", partial, "une partie du nom n'est pas un titulaire connu", 1),
                    ("titulaire", "acim-2026", ambiguous, "nomme des titulaires différents", 1)]


def test_a_listed_startup_wins_over_an_id_only_the_history_knows(demo):
    """Found by the benchmark: beta.gouv.fr once had a startup with id "MonAideCyber"; today
    "MonAideCyber" is the name of mon-aide-cyber. An order for "MonAideCyber" is for today's."""
    index = startup_index(demo, load_settings(env={}))
    assert "MonAideCyber" in index.ids and "MonAideCyber" not in index.names
    assert index.resolve("MonAideCyber").target == "mon-aide-cyber"
    assert index.resolve("monaidecyber").target == "mon-aide-cyber"
    # an old id nobody uses as a name still resolves to the history
    history_only = sorted(i for i in index.ids - set(index.names)
                          if i not in {n for n in index.names.values() if n})
    assert index.resolve(history_only[0]).target == history_only[0]
