"""Holder as people write it -> holder group and member, per agreement.

`Octo`, `OCTO Technology`, `lazone/scopyleft`, `LittleBig Connection`, `/ut7`, `Path
Tech`, `Crème de la Crème`, `Thiga`… Methods, per agreement:
  exact        a spelling of the group or of one member (normalised)          1.00
  composite    several names (`Octo/Malt`, `Cober x La Manufacture`) that all
               belong to one group                                             0.95
  partiel      some parts name one group, the other parts nothing known        0.70
  approchant   rapidfuzz score >= threshold on the whole or on each part      0.xx
  ambigu       parts naming different groups (`ut/7 - MALT`): left for review
  aucun        not a holder of this agreement
"""

from __future__ import annotations

import re
from collections import defaultdict

from rapidfuzz import fuzz, process

from pipelines.resolve.startups import Resolution
from pipelines.text import norm_key, norm_words

# "Octo/Malt", "Octo puis Malt", "Cober x La Manufacture", "Malt + Dynergie"
_SPLIT = re.compile(r"\s*(?:/|\+|&|,|;|\(|\)|-|–|\bx\b|\bet\b|\bpuis\b)\s*", re.I)
MIN_FUZZY_KEY = 5


def split_parts(raw: str) -> list[str]:
    return [p for p in (p.strip(" ._") for p in _SPLIT.split(raw or "")) if norm_key(p)]


def _is_year(part: str) -> bool:
    """'(2024)', '2026-': years say when, not who."""
    return bool(re.fullmatch(r"(19|20)\d\d", norm_key(part)))


class HolderIndex:
    """spellings: (agreement_id, holder_id, member_id or None, spelling)."""

    def __init__(self, spellings: list[tuple[str, str, str | None, str]], threshold: float):
        self.threshold = threshold
        self.exact: dict[str, dict[str, set[tuple[str, str | None]]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.fuzzy: dict[str, tuple[list[str], list[tuple[str, str | None]]]] = {}
        choices: dict[str, list] = defaultdict(lambda: ([], []))
        for agreement, holder, member, spelling in spellings:
            key = norm_key(spelling)
            if not key:
                continue
            self.exact[agreement][key].add((holder, member))
            words = norm_words(spelling)
            texts, targets = choices[agreement]
            texts.append(words)
            targets.append((holder, member))
        self.fuzzy = dict(choices)
        self.agreements = sorted(self.exact)

    def _exact(self, agreement: str, text: str) -> set[tuple[str, str | None]]:
        return self.exact[agreement].get(norm_key(text), set())

    def _rejoin(self, agreement: str, parts: list[str]) -> list[str]:
        """'ut/7' splits into 'ut' and '7': parts that only make sense together are
        joined back when together they are a known spelling."""
        out: list[str] = []
        for part in parts:
            if out and not self._exact(agreement, out[-1]) and self._exact(agreement, out[-1] + part):
                out[-1] = out[-1] + part
            else:
                out.append(part)
        return out

    def _fuzzy(self, agreement: str, text: str) -> tuple[set[tuple[str, str | None]], float]:
        if len(norm_key(text)) < MIN_FUZZY_KEY or agreement not in self.fuzzy:
            return set(), 0.0
        texts, targets = self.fuzzy[agreement]
        hits = process.extract(
            norm_words(text), texts, scorer=fuzz.ratio, limit=5, score_cutoff=self.threshold
        )
        if not hits:
            return set(), 0.0
        top = hits[0][1]
        return {targets[i] for _, score, i in hits if score >= top - 0.01}, top

    def resolve(self, raw: str, agreement: str) -> Resolution:
        text = (raw or "").strip()
        if not text or agreement not in self.exact:
            return Resolution(None, "aucun", 0.0)
        found = self._exact(agreement, text)
        if found:
            return _pick(found, "exact", 1.0)
        parts = [p for p in self._rejoin(agreement, split_parts(text)) if not _is_year(p)]
        if len(parts) > 1:
            per_part, unknown, scores = [], 0, []
            for part in parts:
                hit = self._exact(agreement, part)
                score = 100.0
                if not hit:
                    hit, score = self._fuzzy(agreement, part)
                if hit:
                    per_part.append(hit)
                    scores.append(score)
                else:
                    unknown += 1
            groups = {h for hits in per_part for h, _ in hits}
            if len(groups) == 1:
                members = {m for hits in per_part for _, m in hits if m}
                holder = next(iter(groups))
                member = next(iter(members)) if len(members) == 1 else None
                if unknown:
                    return Resolution(holder, "partiel", 0.7, [{"titulaire": holder}], member)
                confidence = 0.95 if min(scores) >= 100 else round(min(scores) / 100 * 0.95, 3)
                return Resolution(holder, "composite", confidence, [], member)
            if len(groups) > 1:
                return Resolution(None, "ambigu", 0.0, [{"titulaire": g} for g in sorted(groups)])
        hit, score = self._fuzzy(agreement, text)
        if hit:
            return _pick(hit, "approchant", round(score / 100, 3))
        return self._words(agreement, text)

    def _words(self, agreement: str, text: str) -> Resolution:
        """Names run together without separators ("Solstice La Zone", "via benext"):
        the longest runs of words that are a known spelling, the rest ignored."""
        words = [w for w in norm_words(text).split() if w]
        hits, unknown, i = [], 0, 0
        while i < len(words):
            for j in range(len(words), i, -1):
                found = self._exact(agreement, "".join(words[i:j]))
                if found and (j - i > 1 or len(words[i]) >= 3):
                    hits.append(found)
                    i = j
                    break
            else:
                unknown += 1
                i += 1
        groups = {h for found in hits for h, _ in found}
        if len(groups) == 1:
            members = {m for found in hits for _, m in found if m}
            member = next(iter(members)) if len(members) == 1 else None
            return Resolution(next(iter(groups)), "partiel" if unknown else "composite", 0.7 if unknown else 0.9,
                              [], member)
        if len(groups) > 1:
            return Resolution(None, "ambigu", 0.0, [{"titulaire": g} for g in sorted(groups)])
        return Resolution(None, "aucun", 0.0)


def _pick(found: set[tuple[str, str | None]], method: str, confidence: float) -> Resolution:
    groups = {h for h, _ in found}
    if len(groups) > 1:
        return Resolution(None, "ambigu", 0.0, [{"titulaire": g} for g in sorted(groups)])
    members = {m for _, m in found if m}
    return Resolution(
        next(iter(groups)),
        method,
        confidence,
        [],
        next(iter(members)) if len(members) == 1 else None,
    )
