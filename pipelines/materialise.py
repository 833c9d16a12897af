"""Marts stored as tables: `mart.<name>` is the view `int.<name>` computed once per data change.

The enriched orders and the tourniquet log join the raw rows to every resolution, the
startups' phases and listings: ~0.5 s each time on 100,000 orders, and the rules, the
report and the notebooks read them dozens of times. They are recomputed with the entity
resolution (after any change of data), and whenever their SQL changed since.
Validation reads the live views: it judges what is loaded, whatever is stored.
"""

from __future__ import annotations

import hashlib

from pipelines import warehouse

TABLES = ("orders_enriched", "solicitations")
STATE = "marts"


def signature() -> str:
    digest = hashlib.sha256(warehouse.sql_text("macros.sql").encode())
    for layer in ("staging", "intermediate", "marts"):
        for path in sorted((warehouse.SQL_DIR / layer).glob("*.sql")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def refresh(con) -> None:
    """Runs in the caller's transaction."""
    for name in TABLES:
        con.execute(f"CREATE OR REPLACE TABLE mart.{name} AS SELECT * FROM int.{name}")  # noqa: S608 - constants
    con.execute("INSERT OR REPLACE INTO meta.derived_state (name, data_version, signature) VALUES (?, ?, ?)",
                [STATE, warehouse.data_version(con), signature()])


def is_current(con) -> bool:
    state = con.execute("SELECT data_version, signature FROM meta.derived_state WHERE name = ?", [STATE]).fetchone()
    return state == (warehouse.data_version(con), signature())


def ensure_current(con) -> bool:
    """Refresh if stale (a warehouse written by an older Vigie, a step run on its own).
    Returns whether it had to."""
    if is_current(con):
        return False
    with warehouse.transaction(con):
        refresh(con)
    return True
