"""Aliases applied to resolution: an analyst's « this name is that one » (recorded by
`vigie alias`, see pipelines/aliases.py) answers before any fuzzy matching."""

from __future__ import annotations

from pipelines.resolve.startups import Resolution
from pipelines.text import norm_key

KINDS = ("startup", "titulaire", "acheteur")


def load(con) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {k: {} for k in KINDS}
    for kind, key, target in con.execute("SELECT kind, raw_key, target FROM findings.aliases").fetchall():
        out.setdefault(kind, {})[key] = target
    return out


class Aliased:
    """A resolution index that answers aliases first, then defers to the index."""

    def __init__(self, index, kind: str, aliases: dict[str, str | None], holders: dict | None = None):
        self.index, self.kind, self.aliases, self.holders = index, kind, aliases, holders or {}

    def __getattr__(self, name):
        return getattr(self.index, name)

    def resolve(self, raw, *args):
        key = norm_key(raw)
        if key in self.aliases:
            target = self.aliases[key]
            if self.kind != "titulaire" or target is None:
                return Resolution(target, "alias", 1.0)
            held = self.holders.get(args[0], {}).get(target) if args else None
            if held:  # a holder (or member) of this agreement
                return Resolution(held[0], "alias", 1.0, [], held[1])
        return self.index.resolve(raw, *args)


def holders_by_agreement(con) -> dict[str, dict[str, tuple[str, str | None]]]:
    out: dict[str, dict[str, tuple[str, str | None]]] = {}
    for agreement, holder, member in con.execute(
            "SELECT DISTINCT agreement_id, holder_id, member_id FROM ref.holder_spellings").fetchall():
        out.setdefault(agreement, {})[holder] = (holder, None)
        if member:
            out[agreement][member] = (holder, member)
    return out


def with_aliases(con, kind: str, index):
    table = load(con).get(kind) or {}
    if not table:
        return index
    return Aliased(index, kind, table, holders_by_agreement(con) if kind == "titulaire" else None)
