"""SOURCE_PERIMEE: a source whose data is older than its configured age.

The age is how old our knowledge is (`meta.source_state.data_as_of`): the time of the
last successful fetch, or the capture date of a snapshot read from files (the embedded
sample), or — for the inbox — the last time a new export was loaded. A source never
refreshed is stale. Maximum ages live in settings.toml ([sources.*] max_age_hours).
"""

from __future__ import annotations

import json
from datetime import timedelta

RULE = "SOURCE_PERIMEE"


def stale_sources(con, settings, now) -> list[dict]:
    state = {r[0]: r[1:] for r in con.execute(
        "SELECT source, data_as_of, last_success_at, last_attempt_at, last_error FROM meta.source_state").fetchall()}
    out = []
    for source, conf in settings.sources.items():
        max_age = timedelta(hours=float(conf.max_age_hours))
        as_of, success, attempt, error = state.get(source, (None, None, None, None))
        age = (now - as_of) if as_of else None
        if age is None or age > max_age:
            out.append({
                "source": source, "label": conf.label, "data_as_of": as_of,
                "last_success_at": success, "last_attempt_at": attempt, "last_error": error,
                "age_hours": round(age.total_seconds() / 3600, 1) if age else None,
                "max_age_hours": max_age.total_seconds() / 3600,
            })
    return out


def evaluate(con, settings, now) -> list[dict]:
    return [{
        "rule": RULE, "agreement_id": None, "subject_type": "source", "subject": s["source"],
        "severity": "alerte", "numero_bc": None, "numero_besoin": None, "holder_id": None, "titulaire": None,
        "acheteur": None, "startup": None, "amount_ht": None, "source_file": None, "source_line": None,
        "evidence": json.dumps(s, ensure_ascii=False, default=str),
    } for s in stale_sources(con, settings, now)]
