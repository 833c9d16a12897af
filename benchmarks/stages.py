"""The DECP step by Vigie and by its peers, each run alone in a fresh process by benchmarks/run.py
(the DuckDB floor is benchmarks/floor.py, a plain SQL script):

- vigie:  what `vigie ingest --source datagouv` does once the file is on disk — the filter
          built from the agreements, the scan cast to the published schema, in a transaction;
- pandas: what a competent pandas user writes — Arrow-backed columns (`engine="pyarrow"` for
          the CSV), each column's distinct names normalised once, then mapped back with `isin`;
- polars: the same filter as a lazy query, collected once.

    python -m benchmarks.stages vigie|pandas|polars FILE FORMAT DB FILTERS_JSON

Prints one JSON line: seconds spent on the step (the process's start-up is not counted),
the rows kept and the SHA-256 of their sorted uids, which must agree across contenders.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

# Read as text whatever the format: SIREN prefixes are taken from the identifiers as written.
TEXT_COLUMNS = ("uid", "idAccordCadre", "titulaire_id", "titulaire_nom", "acheteur_id", "acheteur_nom")
NOT_ALNUM = r"[^a-z0-9]+"


def uid_digest(uids) -> str:
    return hashlib.sha256("\n".join(sorted(str(u) for u in uids)).encode()).hexdigest()


def codes_pattern(filters: dict) -> str:
    codes = filters["codes"]  # normalised: only a-z and 0-9, nothing to escape
    return "^(?:" + "|".join(codes) + ")" if codes else "a^"


def vigie(path: Path, fmt: str, db: Path, _filters: dict) -> tuple[float, list]:
    from pipelines import warehouse
    from pipelines.sources.datagouv import decp_filters, load_decp

    con = warehouse.connect(db)
    start = time.perf_counter()
    filters = decp_filters(con)
    with warehouse.transaction(con):
        load_decp(con, path, fmt, filters, {"resource_id": "bench", "checksum_value": None})
    seconds = time.perf_counter() - start
    uids = [u for (u,) in con.execute("SELECT uid FROM raw.decp_contracts").fetchall()]
    con.close()
    return seconds, uids


def pandas(path: Path, fmt: str, _db: Path, filters: dict) -> tuple[float, list]:
    import pandas as pd

    def matching(column: pd.Series, keep) -> pd.Series:
        """Normalise each distinct value once (lower case, accents and punctuation out),
        keep those `keep` accepts, and map back to the rows with isin."""
        distinct = pd.Series(column.dropna().unique(), dtype="string[pyarrow]")
        keys = (distinct.str.lower().str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
                .str.replace(NOT_ALNUM, "", regex=True))
        return column.isin(distinct[keep(keys).fillna(False).to_numpy(dtype=bool)])

    def siren(column: pd.Series, sirens: list) -> pd.Series:
        return column.str.slice(0, 9).isin(sirens).fillna(False)

    start = time.perf_counter()
    if fmt == "parquet":
        frame = pd.read_parquet(path, dtype_backend="pyarrow")
    else:
        frame = pd.read_csv(path, engine="pyarrow", dtype_backend="pyarrow",
                            dtype={c: "string[pyarrow]" for c in TEXT_COLUMNS})
    codes = codes_pattern(filters)
    by_code = matching(frame["idAccordCadre"], lambda keys: keys.str.contains(codes, regex=True))
    holder = (siren(frame["titulaire_id"], filters["sirens"])
              | matching(frame["titulaire_nom"], lambda keys: keys.isin(filters["holder_names"])))
    buyer = (siren(frame["acheteur_id"], filters["buyer_sirens"])
             | matching(frame["acheteur_nom"], lambda keys: keys.isin(filters["buyer_names"])))
    kept = frame.loc[by_code | (holder & buyer)]
    seconds = time.perf_counter() - start
    return seconds, kept["uid"].tolist()


def polars(path: Path, fmt: str, _db: Path, filters: dict) -> tuple[float, list]:
    import polars as pl

    def norm(name: str) -> pl.Expr:
        # NFKD splits accents off their letters; the regular expression then drops them
        return pl.col(name).fill_null("").str.to_lowercase().str.normalize("NFKD").str.replace_all(NOT_ALNUM, "")

    def siren(name: str, sirens: list) -> pl.Expr:
        return pl.col(name).cast(pl.String).str.slice(0, 9).is_in(sirens)

    start = time.perf_counter()
    frame = (pl.scan_parquet(path) if fmt == "parquet"
             else pl.scan_csv(path, schema_overrides={c: pl.String for c in TEXT_COLUMNS}))
    by_code = norm("idAccordCadre").str.contains(codes_pattern(filters))
    holder = siren("titulaire_id", filters["sirens"]) | norm("titulaire_nom").is_in(filters["holder_names"])
    buyer = siren("acheteur_id", filters["buyer_sirens"]) | norm("acheteur_nom").is_in(filters["buyer_names"])
    kept = frame.filter(by_code | (holder & buyer)).collect()
    seconds = time.perf_counter() - start
    return seconds, kept["uid"].to_list()


CONTENDERS = {"vigie": vigie, "pandas": pandas, "polars": polars}


def main(how: str, file: str, fmt: str, db: str, filters_json: str) -> dict:
    seconds, uids = CONTENDERS[how](Path(file), fmt, Path(db), json.loads(Path(filters_json).read_text()))
    return {"seconds": seconds, "rows": len(uids), "uids_sha256": uid_digest(uids)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:6])))
