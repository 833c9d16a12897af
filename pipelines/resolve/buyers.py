"""Buyer as written in an export -> public body and its ministry.

Known bodies come from pipelines/reference (ministries, organismes), the agreement files,
and the organisations of the beta.gouv.fr snapshot. Methods:
  exact       a spelling, name or acronym (normalised)                       1.00
  composite   the leading part names a body: "MIOM / DTNUM", "Ministère de la
              Justice - SG" -> the first part that is known                   0.90
  approchant  rapidfuzz score >= threshold                                    0.xx
  ambigu      several bodies score alike                                      review
  aucun       unknown body
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from pipelines.resolve.startups import Resolution
from pipelines.text import norm_key, norm_words

_SPLIT = re.compile(r"\s*(?:/|\(|\)|,|;|:|\s-\s|\s–\s|\s—\s)\s*")
MIN_FUZZY_KEY = 6

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
    def __init__(self, bodies: list[Body], spellings: list[tuple[str, str]], threshold: float = 93):
        self.threshold = threshold
        self.bodies = {b.body_id: b for b in bodies}
        self.exact: dict[str, set[str]] = defaultdict(set)
        texts, ids = [], []
        for body_id, spelling in spellings:
            if body_id not in self.bodies:
                continue
            key = norm_key(spelling)
            if key:
                self.exact[key].add(body_id)
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

    def resolve(self, raw: str) -> Resolution:
        text = (raw or "").strip()
        if not text:
            return Resolution(None, "aucun", 0.0)
        found = self.exact.get(norm_key(text))
        if found:
            return self._choose(found, "exact", 1.0)
        parts = [p for p in _SPLIT.split(text) if norm_key(p)]
        if len(parts) > 1:
            for part in parts:
                found = self.exact.get(norm_key(part))
                if found:
                    return self._choose(found, "composite", 0.9)
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
