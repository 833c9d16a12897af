"""The DuckDB floor of the DECP step: a plain SQL script (benchmarks/sql/floor.sql) run by
DuckDB alone. It imports nothing of Vigie: the filter lists come as data (the JSON file the
benchmark writes once from the warehouse), the normalisation and the filter are written
again in floor.sql from their definition.

    python benchmarks/floor.py FILE FORMAT DB FILTERS_JSON

Prints one JSON line: the seconds of the CREATE TABLE AS, the rows kept and the SHA-256
of their sorted uids (for the benchmark's row-set check, outside the timed part).
"""

import hashlib
import json
import sys
import time
from pathlib import Path

import duckdb

SQL = Path(__file__).resolve().with_name("sql") / "floor.sql"
READERS = {"parquet": "read_parquet($path)", "csv": "read_csv($path, header = true, all_varchar = true)"}


def statements(fmt: str) -> list[str]:
    text = "\n".join(line for line in SQL.read_text(encoding="utf-8").splitlines() if not line.startswith("--"))
    return [s.strip() for s in text.replace("{reader}", READERS[fmt]).split(";") if s.strip()]


def alternation(items: list[str], after: str = "") -> str:
    """One anchored regular expression: the text starts with one of the items, then `after`.
    The items are normalised (a-z, 0-9 and single spaces): nothing to escape. "a^" matches nothing."""
    return "^(?:" + "|".join(items) + ")" + after if items else "a^"


def params(path: str, filters: dict) -> dict:
    return {"path": path, "codes_prefix": alternation(filters["codes"]),
            # whole words: the sequence is the name or is followed by a space
            "holder_words": alternation(filters["holder_names"], "(?: |$)"),
            "buyer_words": alternation(filters["buyer_names"], "(?: |$)"),
            **{k: filters[k] for k in ("sirens", "buyer_sirens")}}


def uid_digest(uids) -> str:
    return hashlib.sha256("\n".join(sorted(str(u) for u in uids)).encode()).hexdigest()


def main(file: str, fmt: str, db: str, filters_json: str) -> dict:
    con = duckdb.connect(db)
    *macros, create = statements(fmt)
    for macro in macros:
        con.execute(macro)
    bound = params(file, json.loads(Path(filters_json).read_text(encoding="utf-8")))
    start = time.perf_counter()
    con.execute(create, bound)
    seconds = time.perf_counter() - start
    uids = [u for (u,) in con.execute("SELECT uid FROM decp").fetchall()]
    con.close()
    return {"seconds": seconds, "rows": len(uids), "uids_sha256": uid_digest(uids)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
