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


def params(path: str, filters: dict) -> dict:
    codes = filters["codes"]  # normalised: only a-z and 0-9, nothing to escape
    return {"path": path, "codes_prefix": "^(?:" + "|".join(codes) + ")" if codes else "a^",
            **{k: filters[k] for k in ("sirens", "holder_names", "buyer_sirens", "buyer_names")}}


def uid_digest(uids) -> str:
    return hashlib.sha256("\n".join(sorted(str(u) for u in uids)).encode()).hexdigest()


def main(file: str, fmt: str, db: str, filters_json: str) -> dict:
    con = duckdb.connect(db)
    macro, create = statements(fmt)
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
