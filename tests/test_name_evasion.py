"""Buyer names that try to pass for a known body: a composite name never resolves on a
fragment when the rest is unknown; invisible and full-width characters are folded;
letters of several scripts are sent to review; usual ministry abbreviations resolve."""

from __future__ import annotations

import pytest

from pipelines.config import load_settings
from pipelines.resolve import buyer_index
from tests.conftest import connect
from tests.reliability import record


@pytest.fixture(scope="module")
def index(demo_db):
    con = connect(demo_db)
    yield buyer_index(con, load_settings(env={}))
    con.close()


@pytest.mark.parametrize("written", [
    "Société Lambda SAS (DINUM)",
    "DINUM / Société Lambda SAS",
    "Cabinet Conseil Martin - Ministère de l'Intérieur",
    "Association des amis (MEAE)",
])
def test_a_known_name_beside_an_unknown_one_is_not_resolved(index, written):
    assert index.resolve(written).target is None


@pytest.mark.parametrize("written, body", [
    ("MIOM / DTNUM", "ministere:interieur"),
    ("Ministère de la Justice - SG", "ministere:justice"),
    ("Direction du numérique (Ministère de l'Intérieur)", "ministere:interieur"),
    ("DINUM (Direction interministérielle du numérique)", "dinum"),
])
def test_a_body_and_its_services_still_resolve(index, written, body):
    assert index.resolve(written).target == body


def test_invisible_and_full_width_characters_are_folded(index):
    assert index.resolve("DI\u200bNUM").target == "dinum"
    assert index.resolve("D\u202eINUM\u202c").target == "dinum"
    assert index.resolve("ＤＩＮＵＭ").target == "dinum"


def test_mixed_scripts_are_sent_to_review(index):
    for written in ("DINU\u041c", "Minist\u0435re de l'Int\u0435rieur"):  # Cyrillic М and е
        r = index.resolve(written)
        assert r.target is None and r.method == "ambigu" and "alphabets" in r.candidates[0]["raison"]
    record("Résolution des noms", "« Société Lambda SAS (DINUM) », zéro-largeur, pleine chasse, lettres cyrilliques",
           "jamais rattaché sur un fragment ; caractères invisibles repliés ; alphabets mélangés envoyés en revue")


@pytest.mark.parametrize("written, body", [
    ("Min. Transition écologique", "ministere:environnement"),
    ("Min. de l'Intérieur", "ministere:interieur"),
    ("MTE", "ministere:environnement"),
    ("MININT", "ministere:interieur"),
    ("MEAE", "ministere:affaires-etrangeres"),
    ("DGFiP", "dgfip"),
    ("Min. Économie et Finances", "ministere:bercy"),
])
def test_usual_ministry_abbreviations_resolve_without_an_alias(index, written, body):
    assert index.resolve(written).target == body
