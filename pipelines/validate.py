"""Data validation with Great Expectations 1.x: one suite per staged table.

The suites are JSON files in expectations/ (one per table, named after it); each
expectation carries a French `meta.notes` (what it protects) and `meta.bloquant`
(whether a failure stops checks and alerts). The frame each suite validates is the
query `pipelines/sql/validation/<suite>.sql`, read from DuckDB into pandas: GX's SQL
datasource does not work on DuckDB.

Great Expectations is imported here only, and only when a validation runs (~8 s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from pipelines.config import PACKAGE_DIR, expectations_dir, quiet_great_expectations
from pipelines.errors import UsageError
from pipelines.heavy_imports import skip_iri_grammars
from pipelines.warehouse import insert_rows

QUERIES = PACKAGE_DIR / "sql" / "validation"
SAMPLE_SIZE = 20


def suites_dir() -> Path:
    return expectations_dir()


def load_suites(folder: Path | None = None) -> dict[str, dict]:
    """Every suite of the folder. None at all, one Vigie has no table for, or one that is not
    JSON is an installation fault (exit 2): validating nothing must never read as « toutes
    les attentes sont satisfaites »."""
    folder = folder or suites_dir()
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not paths:
        raise UsageError(f"Aucune suite Great Expectations trouvée dans {folder} (fichiers .json) : l'installation "
                         "de Vigie est incomplète, ou VIGIE_EXPECTATIONS désigne un mauvais dossier. Rien n'a été validé.")
    suites = {}
    for path in paths:
        if not (QUERIES / f"{path.stem}.sql").is_file():
            known = ", ".join(sorted(q.stem for q in QUERIES.glob("*.sql")))
            raise UsageError(f"La suite {path} ne correspond à aucune table validée par Vigie (suites possibles : "
                             f"{known}). Rien n'a été validé.")
        try:
            suites[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"La suite {path} n'est pas un JSON lisible ({exc.__class__.__name__}) : "
                             "rien n'a été validé.") from None
    return suites


def read_frame(con, suite: str) -> pd.DataFrame:
    """The suite's frame; DATE columns as Python dates, so ISO bounds compare as dates."""
    frame = con.execute((QUERIES / f"{suite}.sql").read_text(encoding="utf-8")).df()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = pd.Series([None if pd.isna(v) else v.date() for v in frame[column]], dtype=object)
    return frame


@dataclass
class Result:
    suite: str
    expectation_type: str
    column: str | None
    kwargs: dict
    blocking: bool
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_sample: list
    notes: str


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Validator:
    """An ephemeral GX context built from the suite files (no GX project on disk)."""

    def __init__(self, suites: dict[str, dict]):
        quiet_great_expectations()
        skip_iri_grammars()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = self.context.data_sources.add_pandas("vigie").add_dataframe_asset("frame")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        self.suites = {}
        for name, doc in suites.items():
            suite = gx.ExpectationSuite(name=name, expectations=doc["expectations"], meta=doc.get("meta") or {})
            self.suites[name] = self.context.suites.add(suite)

    def validate(self, name: str, frame: pd.DataFrame) -> list[Result]:
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(self.suites[name], result_format="COMPLETE")
        results = []
        for r in outcome.results:
            config = r.expectation_config
            meta = dict(config.meta or {})
            kwargs = {k: _plain(v) for k, v in dict(config.kwargs).items() if k not in ("batch_id",)}
            info = r.result or {}
            sample = info.get("partial_unexpected_list") or []
            if not sample and config.type == "expect_table_row_count_to_be_between":
                sample = [info.get("observed_value")]
            results.append(Result(
                suite=name, expectation_type=config.type,
                column=kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else
                                                (f"{kwargs.get('column_A')},{kwargs.get('column_B')}" if "column_A" in kwargs else None)),
                kwargs=kwargs, blocking=bool(meta.get("bloquant")), success=bool(r.success),
                element_count=info.get("element_count"), unexpected_count=info.get("unexpected_count"),
                unexpected_sample=[_plain(v) for v in sample[:SAMPLE_SIZE]], notes=meta.get("notes", ""),
            ))
        return results


def run(con, run_id: str, now: datetime, data_version: int, run_hint: str) -> dict:
    """Validate every suite, store every result, return a summary; `run_hint` is « vigie run »
    as the user types it for this warehouse (config.command_hint)."""
    suites = load_suites()
    validator = Validator(suites)
    results: list[Result] = []
    for name in suites:
        results += validator.validate(name, read_frame(con, name))
    insert_rows(con, "validation.results", [{
        "run_id": run_id, "validated_at": now, "data_version": data_version, "suite": r.suite,
        "expectation_type": r.expectation_type, "column_name": r.column, "kwargs": json.dumps(r.kwargs, ensure_ascii=False),
        "blocking": r.blocking, "success": r.success, "element_count": r.element_count,
        "unexpected_count": r.unexpected_count,
        "unexpected_sample": json.dumps(r.unexpected_sample, ensure_ascii=False, default=str), "notes": r.notes,
    } for r in results], ["run_id", "validated_at", "data_version", "suite", "expectation_type", "column_name", "kwargs",
                          "blocking", "success", "element_count", "unexpected_count", "unexpected_sample", "notes"])
    failed = [r for r in results if not r.success]
    blocking = [r for r in failed if r.blocking]
    return {"suites": len(suites), "attentes": len(results), "echecs": len(failed), "bloquants": len(blocking),
            "details": [("BLOQUANT " if r.blocking else "") + describe(
                r.suite, r.expectation_type, r.column, r.kwargs, r.unexpected_count, r.unexpected_sample, r.notes,
                run_hint=run_hint)
                for r in sorted(failed, key=lambda r: not r.blocking)]}


# -- saying what failed, in French ------------------------------------------------------------

def table_of(suite: str) -> str:
    """The warehouse table a suite reads (first FROM of its query)."""
    import re

    path = QUERIES / f"{suite}.sql"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    match = re.search(r"\bFROM\s+([a-z_][\w.]*)", re.sub(r"--[^\n]*", "", text), re.I)
    return match.group(1) if match else suite


def _list(values, limit: int = 6) -> str:
    values = list(values)
    shown = ", ".join(f"« {v} »" for v in values[:limit])
    return shown + (f" (et {len(values) - limit} autres)" if len(values) > limit else "")


def _bound(value):
    """A bound as people write it: « 0 », « 2,5 », « 1 000 000 » (not « 0.0 »); dates and texts as given."""
    from pipelines import fr

    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return fr.number(value, 0 if float(value).is_integer() else 2)


def expectation_fr(kind: str, kwargs: dict) -> str:
    """What the expectation asks, as an analyst would say it."""
    low, high = (_bound(kwargs.get(k)) for k in ("min_value", "max_value"))
    bounds = (f"entre {low} et {high}" if low is not None and high is not None else
              f"au moins {low}" if low is not None else f"au plus {high}" if high is not None else "bornée")
    return {
        "expect_column_values_to_not_be_null": "doit être renseignée",
        "expect_column_values_to_be_unique": "ne doit pas contenir de doublon",
        "expect_compound_columns_to_be_unique": "ne doit pas contenir deux fois la même combinaison",
        "expect_column_values_to_be_in_set": f"doit valoir l'une de : {_list(kwargs.get('value_set') or [])}",
        "expect_column_values_to_be_between": f"doit être {bounds}",
        "expect_column_values_to_match_regex": f"doit suivre le motif {kwargs.get('regex')}",
        "expect_column_values_to_not_match_regex": f"ne doit pas suivre le motif {kwargs.get('regex')}",
        "expect_column_pair_values_a_to_be_greater_than_b":
            f"{kwargs.get('column_A')} doit être {'supérieur ou égal' if kwargs.get('or_equal') else 'supérieur'} "
            f"à {kwargs.get('column_B')}",
        "expect_table_row_count_to_be_between": f"doit contenir {bounds} ligne(s)",
    }.get(kind, f"attente « {kind} »")


def describe(suite: str, kind: str, column: str | None, kwargs: dict, count: int | None, sample: list,
             notes: str = "", *, run_hint: str) -> str:
    """« suite (table T, colonne C) : ce qu'on attend — N valeur(s) en cause, ex. … » — never « ? » or « [0] »."""
    table = table_of(suite)
    where = f"{suite} (table {table}, colonne {column})" if column else f"{suite} (table {table})"
    head = f"{where} : {expectation_fr(kind, kwargs)}"
    if kind == "expect_table_row_count_to_be_between":
        observed = sample[0] if sample else None
        tail = f"elle en contient {observed}" if observed is not None else "nombre de lignes non mesuré"
        if observed == 0:
            tail += (f" : la source n'a jamais été chargée (lancez « {run_hint} », ou « {run_hint} --offline » "
                     "sans réseau)")
    else:
        examples = [json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for v in sample
                    if v is not None]
        if count is None:
            count = len(sample)
        tail = f"{count} valeur(s) en cause"
        if examples:
            tail += f", ex. {_list(dict.fromkeys(str(e) for e in examples), 5)}"
        elif count:
            tail += " (valeurs vides)"
    return f"{head} — {tail}" + (f" ({notes})" if notes else "")
