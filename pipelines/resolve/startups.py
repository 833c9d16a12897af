"""Product as written in an export -> beta.gouv.fr startup id.

Order of methods (first that answers wins), each with its confidence:
  id              the exact id of a listed startup                     1.00
  nom             the exact name                                       1.00
  id              the exact id of a startup only the history knows    1.00
  id_normalise    the id, case/accents/spaces/hyphens/dots ignored     0.98
                  (listed startups first, history after the names)
  nom_normalise   the name, same normalisation                         0.98
  approchant      rapidfuzz score >= threshold, ahead of the runner-up 0.xx (the score)
                  by at least `margin` points
  ambigu          several startups score alike: left for review
  aucun           nothing close: it is not a startup
The threshold and margin come from settings.toml and are justified by
tests/test_resolve_startups.py (real names with typos vs real non-startup products).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from pipelines.text import norm_key, norm_words

MIN_FUZZY_KEY = 5  # shorter strings ("DORA", "RDV") are too easy to confuse


@dataclass(frozen=True)
class Resolution:
    target: str | None
    method: str
    confidence: float
    candidates: list[dict] = field(default_factory=list)
    member: str | None = None


def _score(a: str, b: str, **_) -> float:
    """Plain similarity, and the same with words sorted ("Boîte La Bonne" ~ "La Bonne Boîte")."""
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))


class StartupIndex:
    def __init__(
        self,
        startups: list[tuple[str, str | None]],
        extra_ids: list[str],
        threshold: float,
        margin: float,
    ):
        self.threshold, self.margin = threshold, margin
        self.names = {sid: name for sid, name in startups}
        self.ids = set(self.names) | set(extra_ids)
        self.id_key: dict[str, set[str]] = defaultdict(set)
        self.name_exact: dict[str, set[str]] = defaultdict(set)
        self.name_key: dict[str, set[str]] = defaultdict(set)
        for sid in self.ids:
            self.id_key[norm_key(sid)].add(sid)
        for sid, name in startups:
            if name:
                self.name_exact[name.strip()].add(sid)
                self.name_key[norm_key(name)].add(sid)
        # fuzzy choices: names, and ids with their separators as spaces
        self.choices: list[str] = []
        self.choice_ids: list[str] = []
        for sid in sorted(self.ids):
            for text in {
                norm_words(self.names.get(sid)),
                norm_words(sid.replace(".", " ").replace("-", " ")),
            }:
                if text:
                    self.choices.append(text)
                    self.choice_ids.append(sid)

    def _one(self, found: set[str], method: str, confidence: float) -> Resolution:
        if len(found) == 1:
            return Resolution(next(iter(found)), method, confidence)
        return Resolution(
            None, "ambigu", 0.0, [{"id": s, "nom": self.names.get(s)} for s in sorted(found)]
        )

    def _holding(self, query: str, ranked: list[tuple[str, float]]) -> list[str]:
        """Several near candidates (within `margin` of the best, at most 10 points under
        the threshold) whose names each contain every word written."""
        words = set(query.split())
        if len(words) < 2:
            return []
        top = ranked[0][1]
        near = [sid for sid, score in ranked if score >= max(top - self.margin, self.threshold - 10)]
        return [sid for sid in near if words <= set(norm_words(self.names.get(sid)).split())]

    def resolve(self, raw: str) -> Resolution:
        text = (raw or "").strip()
        if not text:
            return Resolution(None, "aucun", 0.0)
        exact = self._exact(text)
        if exact is not None:
            return exact
        if len(norm_key(text)) < MIN_FUZZY_KEY:
            return Resolution(None, "aucun", 0.0)
        return self._fuzzy(text)

    def _exact(self, text: str) -> Resolution | None:
        """The id or the name, as written then normalised; None when neither matches."""
        # A listed startup before an id only the listing history knows: "MonAideCyber" is the
        # name of today's mon-aide-cyber, and also the id it had years ago.
        if text in self.names:
            return Resolution(text, "id", 1.0)
        if text in self.name_exact:
            return self._one(self.name_exact[text], "nom", 1.0)
        if text in self.ids:
            return Resolution(text, "id", 1.0)
        key = norm_key(text)
        listed = {s for s in self.id_key.get(key, ()) if s in self.names}
        if listed:
            return self._one(listed, "id_normalise", 0.98)
        if key in self.name_key:
            return self._one(self.name_key[key], "nom_normalise", 0.98)
        if key in self.id_key:
            return self._one(self.id_key[key], "id_normalise", 0.98)
        return None

    def _fuzzy(self, text: str) -> Resolution:
        """The closest names, when one stands ahead of the others."""
        query = norm_words(text)
        best: dict[str, float] = {}
        for _, score, index in process.extract(query, self.choices, scorer=_score, limit=12):
            sid = self.choice_ids[index]
            best[sid] = max(best.get(sid, 0.0), score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        candidates = [
            {"id": s, "nom": self.names.get(s), "score": round(sc, 1)} for s, sc in ranked
        ]
        holding = self._holding(query, ranked) if ranked and ranked[0][1] < self.threshold else []
        if len(holding) >= 2:
            # « 1000 premiers jours »: the whole of the name as written is in the names of
            # several startups scoring alike — ambiguous, not « no startup at all »
            return Resolution(None, "ambigu", 0.0, [c for c in candidates if c["id"] in holding])
        if not ranked or ranked[0][1] < self.threshold:
            return Resolution(None, "aucun", 0.0, candidates)
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if ranked[0][1] - runner_up < self.margin:
            return Resolution(None, "ambigu", 0.0, candidates)
        return Resolution(ranked[0][0], "approchant", round(ranked[0][1] / 100, 3), candidates)
