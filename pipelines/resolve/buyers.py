"""Buyer as written in an export -> public body and its ministry.

Known bodies come from pipelines/reference (ministries, organismes), the agreement files,
and the organisations of the beta.gouv.fr snapshot. Methods:
  exact       a spelling, name or acronym (normalised)                       1.00
  abrege      the same with usual abbreviations and articles ignored:
              "Min. Transition écologique"                                    0.95
  composite   one part names a body and every other part is a service of it
              or another known body: "MIOM / DTNUM", "Ministère de la
              Justice - SG". Never when the rest is unknown: "Société Lambda
              SAS (DINUM)" is not DINUM                                       0.90
  approchant  rapidfuzz score >= threshold                                    0.xx
  ambigu      several bodies score alike, or letters of several scripts mixed
              ("DINUМ" with a Cyrillic М)                                     review
  aucun       unknown body
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from pipelines.resolve.startups import Resolution
from pipelines.text import fold_name, mixed_scripts, norm_key, norm_words

_SPLIT = re.compile(r"\s*(?:/|\(|\)|,|;|:|\s-\s|\s–\s|\s—\s)\s*")
MIN_FUZZY_KEY = 6

# Usual abbreviations in buyers' names, and the small words a spelling may drop.
ABBREVIATIONS = {"min": "ministere", "mins": "ministere", "minist": "ministere", "minis": "ministere",
                 "mst": "ministere", "ministeres": "ministere", "dir": "direction", "dg": "direction generale",
                 "sg": "secretariat general", "gal": "general", "gale": "generale", "nat": "national",
                 "nale": "nationale", "pub": "publique"}
SMALL_WORDS = {"de", "la", "le", "les", "des", "du", "l", "d", "et", "a", "au", "aux", "en", "pour", "sur"}
# A part of a composite name that designates a service inside a body, not another body.
SERVICE_ACRONYMS = {"sg", "sga", "dnum", "dtnum", "dsi", "dsin", "drh", "daf", "dfas", "dgs", "dsic", "sdsi",
                    "cab", "cabinet", "dirisi"}
SERVICE_WORDS = ("secretariat", "direction", "sous direction", "service", "bureau", "mission", "departement",
                 "pole", "delegation", "division", "cabinet du ", "agence comptable", "cellule", "atelier",
                 "fabrique", "lab", "incubateur", "dsi", "dnum", "sg ")


def loose_key(text: str) -> str:
    """Words with abbreviations expanded and small words dropped: « Min. Transition
    écologique » and « Ministère de la Transition écologique » share one key."""
    words = [ABBREVIATIONS.get(w, w) for w in norm_words(text).split()]
    return " ".join(w for w in " ".join(words).split() if w not in SMALL_WORDS)


def is_service(part: str) -> bool:
    words = norm_words(part)
    return words.replace(" ", "") in SERVICE_ACRONYMS or (words + " ").startswith(SERVICE_WORDS)

BETAGOUV_KINDS = {
    "administration-centrale": "service",
    "service-deconcentre": "service",
    "operateur": "organisme",
    "securite-sociale": "organisme",
    "collectivite-territoriale": "collectivite",
    "autre": "autre",
}


@dataclass(frozen=True)
class Body:
    body_id: str
    name: str
    kind: str  # ministere | service | organisme | collectivite | autre
    ministry: str | None
    priority: int  # reference (0) before beta.gouv.fr organisations (1)


class BuyerIndex:
    def __init__(self, bodies: list[Body], spellings: list[tuple[str, str]], threshold: float):
        self.threshold = threshold
        self.bodies = {b.body_id: b for b in bodies}
        self.exact: dict[str, set[str]] = defaultdict(set)
        self.loose: dict[str, set[str]] = defaultdict(set)
        texts, ids = [], []
        for body_id, spelling in spellings:
            if body_id not in self.bodies:
                continue
            key = norm_key(spelling)
            if key:
                self.exact[key].add(body_id)
                if loose_key(spelling):
                    self.loose[loose_key(spelling)].add(body_id)
                texts.append(norm_words(spelling))
                ids.append(body_id)
        self.texts, self.ids = texts, ids

    def _choose(self, found: set[str], method: str, confidence: float) -> Resolution:
        best = min(self.bodies[b].priority for b in found)
        found = {b for b in found if self.bodies[b].priority == best}
        if len(found) == 1:
            return Resolution(next(iter(found)), method, confidence)
        return Resolution(
            None, "ambigu", 0.0, [{"id": b, "nom": self.bodies[b].name} for b in sorted(found)]
        )

    def _known(self, text: str) -> set[str] | None:
        return self.exact.get(norm_key(text)) or self.loose.get(loose_key(text))

    def _composite(self, text: str) -> Resolution | None:
        """One part names a body, and every other part is known too (a service, or a body
        of the same ministry). Unknown words beside a known name are never ignored."""
        parts = [p for p in _SPLIT.split(text) if norm_key(p)]
        if len(parts) < 2:
            return None
        found: list[set[str]] = []
        for part in parts:
            known = self._known(part)
            if known:
                found.append(known)
            elif not is_service(part):
                return None  # « Société Lambda SAS (DINUM) »: the rest is unknown
        if not found:
            return None
        ministries = {self.bodies[b].ministry or b for bodies in found for b in bodies}
        if len(ministries) > 1 and len(found) > 1:
            candidates = sorted({b for bodies in found for b in bodies})
            return Resolution(None, "ambigu", 0.0, [{"id": b, "nom": self.bodies[b].name} for b in candidates])
        return self._choose(found[0], "composite", 0.9)

    def resolve(self, raw: str) -> Resolution:
        text = fold_name(raw or "").strip()
        if not text:
            return Resolution(None, "aucun", 0.0)
        scripts = mixed_scripts(text)
        if scripts:
            return Resolution(None, "ambigu", 0.0, [{
                "raison": "lettres de plusieurs alphabets mélangées (" + ", ".join(s.lower() for s in scripts)
                          + ") : nom à vérifier, il peut imiter un organisme connu"}])
        found = self.exact.get(norm_key(text))
        if found:
            return self._choose(found, "exact", 1.0)
        found = self.loose.get(loose_key(text))
        if found:
            return self._choose(found, "abrege", 0.95)
        composite = self._composite(text)
        if composite is not None:
            return composite
        if len(norm_key(text)) < MIN_FUZZY_KEY:
            return Resolution(None, "aucun", 0.0)
        hits = process.extract(norm_words(text), self.texts, scorer=fuzz.ratio, limit=6)
        best: dict[str, float] = {}
        for _, score, i in hits:
            best[self.ids[i]] = max(best.get(self.ids[i], 0.0), score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        candidates = [
            {"id": b, "nom": self.bodies[b].name, "score": round(s, 1)} for b, s in ranked[:3]
        ]
        if not ranked or ranked[0][1] < self.threshold:
            return Resolution(None, "aucun", 0.0, candidates)
        top = {b for b, s in ranked if s >= ranked[0][1] - 2}
        if len({self.bodies[b].ministry for b in top} | {None}) > 2 and len(top) > 1:
            return Resolution(None, "ambigu", 0.0, candidates)
        return self._choose({ranked[0][0]}, "approchant", round(ranked[0][1] / 100, 3))
