"""The DECP step three ways, each run alone in a fresh process by benchmarks/run.py:

- vigie:  what `vigie ingest --source datagouv` does once the file is on disk — the filter
          built from the agreements, the scan cast to the published schema, in a transaction;
- floor:  DuckDB alone, the same filtered scan into a table, nothing else;
- pandas: the obvious alternative — read the file, normalise the names, filter.

    python -m benchmarks.stages vigie|floor|pandas FILE FORMAT DB FILTERS_JSON

Prints one JSON line: seconds spent on the step (the process's start-up is not counted)
and the rows kept, which must agree across the three.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def vigie(path: Path, fmt: str, db: Path, _filters: dict) -> tuple[float, int]:
    from pipelines import warehouse
    from pipelines.sources.datagouv import decp_filters, load_decp

    con = warehouse.connect(db)
    start = time.perf_counter()
    filters = decp_filters(con)
    with warehouse.transaction(con):
        rows = load_decp(con, path, fmt, filters, {"resource_id": "bench", "checksum_value": None})
    seconds = time.perf_counter() - start
    con.close()
    return seconds, rows


def floor(path: Path, fmt: str, db: Path, filters: dict) -> tuple[float, int]:
    import duckdb

    from pipelines.sources.datagouv import DECP_WHERE, _reader, decp_params
    from pipelines.warehouse import sql_text

    con = duckdb.connect(str(db))
    con.execute(sql_text("macros.sql"))
    start = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TABLE decp AS SELECT * FROM {_reader(fmt)} WHERE {DECP_WHERE}",  # noqa: S608 - reader and filter are constants
                {"path": str(path), **decp_params(filters)})
    seconds = time.perf_counter() - start
    rows = con.execute("SELECT count(*) FROM decp").fetchone()[0]
    con.close()
    return seconds, rows


def pandas(path: Path, fmt: str, _db: Path, filters: dict) -> tuple[float, int]:
    import pandas as pd

    def norm(series: pd.Series) -> pd.Series:
        return (series.fillna("").astype(str).str.lower().str.normalize("NFKD")
                .str.encode("ascii", "ignore").str.decode("ascii").str.replace(r"[^a-z0-9]+", "", regex=True))

    start = time.perf_counter()
    frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, dtype=str, keep_default_na=False)
    by_code = norm(frame["idAccordCadre"]).str.startswith(tuple(filters["codes"])) if filters["codes"] else False
    holder = (frame["titulaire_id"].astype(str).str[:9].isin(filters["sirens"])
              | norm(frame["titulaire_nom"]).isin(filters["holder_names"]))
    buyer = (frame["acheteur_id"].astype(str).str[:9].isin(filters["buyer_sirens"])
             | norm(frame["acheteur_nom"]).isin(filters["buyer_names"]))
    kept = frame[by_code | (holder & buyer)].copy()
    seconds = time.perf_counter() - start
    return seconds, len(kept)


if __name__ == "__main__":
    how, file, fmt, db, filters_json = sys.argv[1:6]
    step = {"vigie": vigie, "floor": floor, "pandas": pandas}[how]
    seconds, rows = step(Path(file), fmt, Path(db), json.loads(Path(filters_json).read_text()))
    print(json.dumps({"seconds": seconds, "rows": rows}))
