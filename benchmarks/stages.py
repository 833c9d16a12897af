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
# The filter's normalisation, as DuckDB's strip_accents does it: lower case, decomposed,
# combining marks dropped; then a code keeps only its letters and digits, a name becomes
# its words (every run of other characters one space).
MARKS = r"\p{M}"
NOT_ALNUM = r"[^a-z0-9]+"
# A holder's leading legal form is not part of its name (« SAS OCTO TECHNOLOGY »).
LEGAL_FORM = r"^(?:sas|sasu|sa|sarl|eurl|scop|sci|ste|societe|groupement) "


def uid_digest(uids) -> str:
    return hashlib.sha256("\n".join(sorted(str(u) for u in uids)).encode()).hexdigest()


def alternation(items: list[str], after: str = "") -> str:
    """One anchored regular expression: the text starts with one of the items, then `after`.
    The items are normalised (a-z, 0-9 and single spaces): nothing to escape. "a^" matches nothing."""
    return "^(?:" + "|".join(items) + ")" + after if items else "a^"


def codes_pattern(filters: dict) -> str:
    """idAccordCadre, normalised, starts with an agreement's code (lots add a suffix)."""
    return alternation(filters["codes"])


def words_pattern(names: list[str]) -> str:
    """A name starts with one of these word sequences, on whole words."""
    return alternation(names, "(?: |$)")


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

    def unaccented(values: pd.Series) -> pd.Series:
        return values.str.lower().str.normalize("NFD").str.replace(MARKS, "", regex=True)

    def key(values: pd.Series) -> pd.Series:
        return unaccented(values).str.replace(NOT_ALNUM, "", regex=True)

    def words(values: pd.Series) -> pd.Series:
        return unaccented(values).str.replace(NOT_ALNUM, " ", regex=True).str.strip()

    def holder_words(values: pd.Series) -> pd.Series:
        return words(values).str.replace(LEGAL_FORM, "", n=1, regex=True)

    def matching(column: pd.Series, normalise, pattern: str) -> pd.Series:
        """Normalise each distinct value once, keep those the pattern matches, and map
        back to the rows with isin."""
        distinct = pd.Series(column.dropna().unique(), dtype="string[pyarrow]")
        hits = normalise(distinct).str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
        return column.isin(distinct[hits])

    def siren(column: pd.Series, sirens: list) -> pd.Series:
        return column.str.slice(0, 9).isin(sirens).fillna(False)

    start = time.perf_counter()
    if fmt == "parquet":
        frame = pd.read_parquet(path, dtype_backend="pyarrow")
    else:
        frame = pd.read_csv(path, engine="pyarrow", dtype_backend="pyarrow",
                            dtype={c: "string[pyarrow]" for c in TEXT_COLUMNS})
    by_code = matching(frame["idAccordCadre"], key, codes_pattern(filters))
    holder = (siren(frame["titulaire_id"], filters["sirens"])
              | matching(frame["titulaire_nom"], holder_words, words_pattern(filters["holder_names"])))
    buyer = (siren(frame["acheteur_id"], filters["buyer_sirens"])
             | matching(frame["acheteur_nom"], words, words_pattern(filters["buyer_names"])))
    kept = frame.loc[by_code | (holder & buyer)]
    seconds = time.perf_counter() - start
    return seconds, kept["uid"].tolist()


def polars(path: Path, fmt: str, _db: Path, filters: dict) -> tuple[float, list]:
    import polars as pl

    def unaccented(name: str) -> pl.Expr:
        return pl.col(name).fill_null("").str.to_lowercase().str.normalize("NFD").str.replace_all(MARKS, "")

    def key(name: str) -> pl.Expr:
        return unaccented(name).str.replace_all(NOT_ALNUM, "")

    def words(name: str) -> pl.Expr:
        return unaccented(name).str.replace_all(NOT_ALNUM, " ").str.strip_chars(" ")

    def siren(name: str, sirens: list) -> pl.Expr:
        return pl.col(name).cast(pl.String).str.slice(0, 9).is_in(sirens)

    start = time.perf_counter()
    frame = (pl.scan_parquet(path) if fmt == "parquet"
             else pl.scan_csv(path, schema_overrides={c: pl.String for c in TEXT_COLUMNS}))
    by_code = key("idAccordCadre").str.contains(codes_pattern(filters))
    holder = (siren("titulaire_id", filters["sirens"])
              | words("titulaire_nom").str.replace(LEGAL_FORM, "").str.contains(words_pattern(filters["holder_names"])))
    buyer = (siren("acheteur_id", filters["buyer_sirens"])
             | words("acheteur_nom").str.contains(words_pattern(filters["buyer_names"])))
    kept = frame.filter(by_code | (holder & buyer)).collect()
    seconds = time.perf_counter() - start
    return seconds, kept["uid"].to_list()


CONTENDERS = {"vigie": vigie, "pandas": pandas, "polars": polars}


def main(how: str, file: str, fmt: str, db: str, filters_json: str) -> dict:
    seconds, uids = CONTENDERS[how](Path(file), fmt, Path(db), json.loads(Path(filters_json).read_text()))
    return {"seconds": seconds, "rows": len(uids), "uids_sha256": uid_digest(uids)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:6])))
