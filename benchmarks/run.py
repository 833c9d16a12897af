"""Speed and memory of Vigie beside fair peers, at one scale, with its goals checked.

    BENCH_SCALE=tiny|small|full  BENCH_RUNS=5  BENCH_SCALING=0|1  BENCH_PROFILE=0|1  python -m benchmarks.run

Every measurement is a separate process started by a small spawner (benchmarks/spawner.py):
wall time, the peak RSS of its largest single process (wait4) and the peak of its whole
process tree (sampled). Each
measurement is repeated BENCH_RUNS times (at least 5), interleaved: round after round, every
contender and every stage once, so that a busy moment of the shared machine hits them alike.
Median and min are printed.

The DECP step is measured four ways (benchmarks/stages.py, benchmarks/floor.py): Vigie, the
DuckDB floor (a plain SQL script), pandas and polars as their competent users write them.
All four must keep the identical set of rows — same count, same SHA-256 of the sorted uids —
or the benchmark stops.

BENCH_SCALING (default: on at full scale) adds the full run at 25 000, 50 000, 100 000 and
200 000 orders and the DECP step at 1/4, 1/2, 1 and 2 times the national size; BENCH_PROFILE
(default: on at full scale) the import cost of each heavy library and the top costs of a full
run under cProfile. Figures are written to benchmarks/RESULTS.md between markers (the text
around is kept) and, at full scale, to the README headline.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "benchmarks" / "RESULTS.md"))  # elsewhere for a trial run
WORK = ROOT / "benchmarks" / "work"
NOW = "2026-11-24T07:00:00+01:00"  # a fixed clock: every run sees the same "today"
REPORT_MONTH = "2026-10"
MIN_RUNS = 5
CONTENDERS = ("floor", "vigie", "polars", "pandas")
FORMATS = ("parquet", "csv")
SCALING_ORDERS = (25_000, 50_000, 100_000, 200_000)
SCALING_DECP = (0.25, 0.5, 1.0, 2.0)
NATIONAL_DECP_ROWS = 1_500_000
GOALS = {"decp_floor_time": 1.1, "decp_floor_memory": 1.1, "run_seconds": 12.0, "run_tree_mb": 1024.0,
         "idle_seconds": 0.5}
# A new order file changes the orders only: the suites that may be validated again.
SUITES_FOR_NEW_ORDERS = {"commandes"}
# Growth between two sizes is called not linear when the marginal cost per unit moves by more than this.
LINEAR_TOLERANCE = 0.25
HEAVY_IMPORTS = ("duckdb", "pyarrow", "pandas", "polars", "great_expectations", "jsonschema", "openpyxl", "odf.opendocument",
                 "plotly", "jinja2", "rapidfuzz", "requests", "apscheduler", "yaml", "pipelines.cli")
LABELS = {"floor": "DuckDB seul (plancher)", "vigie": "Vigie", "polars": "polars (lazy)", "pandas": "pandas"}


class RowSetMismatch(SystemExit):
    """The contenders do not keep the same rows: their times cannot be compared."""


# ------------------------------------------------------------------ measuring


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    tree_mb: float
    output: dict = field(default_factory=dict)


@dataclass
class Stage:
    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def best(self) -> float:
        return min(s.seconds for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return statistics.median(s.rss_mb for s in self.samples)

    @property
    def tree_mb(self) -> float:
        return statistics.median(s.tree_mb for s in self.samples)


class Spawner:
    """The process that starts every measured one (see benchmarks/spawner.py)."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "spawner.py")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], env: dict, cwd: Path) -> tuple[dict, str, str]:
        with tempfile.TemporaryDirectory() as folder:
            out, err = Path(folder) / "stdout", Path(folder) / "stderr"
            request = {"argv": argv, "env": env, "cwd": str(cwd), "stdout": str(out), "stderr": str(err)}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = json.loads(self.process.stdout.readline())
            return answer, out.read_text("utf-8", "replace"), err.read_text("utf-8", "replace")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


SPAWNER: Spawner | None = None


def measure(argv: list[str], env: dict, cwd: Path, step_seconds: bool = False) -> Sample:
    """Run one process to its end; wall time (or the time it reports for its step) and peak RSS."""
    answer, stdout, stderr = SPAWNER.run(argv, env, cwd)
    # 1: vigie ran and has something to tell (findings, rejected files) — unless it broke
    if answer["returncode"] not in (0, 1) or "erreur interne" in stderr or "Traceback" in stderr:
        raise SystemExit(f"{' '.join(argv[1:])} a échoué (code {answer['returncode']}) :\n{stderr[-3000:]}")
    output = json.loads(stdout.strip().splitlines()[-1]) if step_seconds else {"stdout": stdout}
    return Sample(output["seconds"] if step_seconds else answer["seconds"], answer["rss_mb"], answer["tree_rss_mb"],
                  output)


def check_same_rows(kept: dict[str, set[tuple[int, str]]]) -> tuple[int, str]:
    """kept: contender (and format) -> the (rows, uid digest) pairs its runs gave. Every run of
    every contender must give one and the same pair; else the benchmark stops, loudly."""
    pairs = {pair for seen in kept.values() for pair in seen}
    if len(pairs) != 1:
        detail = " ; ".join(f"{name} : " + ", ".join(f"{rows} lignes (empreinte {digest[:12]}…)"
                                                       for rows, digest in sorted(seen))
                            for name, seen in sorted(kept.items()))
        raise RowSetMismatch("Les méthodes comparées ne gardent pas les mêmes lignes : les temps ne sont pas "
                             f"comparables. {detail}")
    return next(iter(pairs))


# ------------------------------------------------------------------ inputs


def signature() -> str:
    from benchmarks import generate

    sources = [Path(generate.__file__), Path(generate.__file__).with_name("world.py"),
               ROOT / "pipelines" / "sample" / "betagouv" / "startups.json",
               ROOT / "pipelines" / "reference" / "decp_schema.json",
               # the world follows the rules v2 read from these (listing dates, phases, lots, holders)
               ROOT / "pipelines" / "reference" / "startup_listing_intervals.csv",
               *sorted((ROOT / "pipelines" / "agreements").glob("*.yaml"))]
    return hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]


class Inputs:
    """Generated once per size and generator version (under benchmarks/work/inputs), then reused."""

    def __init__(self):
        self.signature = signature()
        self._world = None

    def world(self):
        if self._world is None:
            from benchmarks.world import build

            self._world = build()
        return self._world

    def _cached(self, folder: Path, make) -> dict:
        stamp = folder / "manifest.json"
        if stamp.exists() and json.loads(stamp.read_text()).get("signature") == self.signature:
            return json.loads(stamp.read_text())
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        start = time.perf_counter()
        made = make(folder)
        made["signature"], made["generated_in_s"] = self.signature, round(time.perf_counter() - start, 1)
        stamp.write_text(json.dumps(made, indent=2))
        print(f"  entrées générées dans {folder.relative_to(ROOT)} en {fr(made['generated_in_s'], 1)} s", flush=True)
        return made

    def decp(self, rows: int) -> dict:
        from benchmarks import generate

        def make(folder: Path) -> dict:
            parquet, csv_path = generate.decp(folder, rows)
            return {"decp_rows": rows, "decp_parquet": str(parquet), "decp_csv": str(csv_path)}

        return self._cached(WORK / "inputs" / f"decp-{rows}", make)

    def inbox(self, params: dict) -> dict:
        from benchmarks import generate

        def make(folder: Path) -> dict:
            return generate.inbox(folder / "inbox", params["orders"], params["order_files"], params["solicitations"],
                                  params["besoin_files"], world=self.world())

        key = "-".join(str(params[k]) for k in ("orders", "order_files", "solicitations", "besoin_files"))
        return self._cached(WORK / "inputs" / f"inbox-{key}", make)


# ------------------------------------------------------------------ the benchmark


class Bench:
    def __init__(self, scale: str, runs: int, scaling: bool, profile: bool, scaling_runs: int = 1,
                 chain: bool = True, profile_orders: int | None = None):
        from benchmarks import generate

        self.scale, self.runs, self.scaling, self.profile, self.scaling_runs = scale, runs, scaling, profile, scaling_runs
        self.chain = chain
        self.params = generate.SCALES[scale]
        self.profile_orders = profile_orders or self.params["orders"]
        self.work = WORK / "runs" / scale
        self.inputs = Inputs()
        self.stages: dict[str, Stage] = {}
        self.facts: dict = {}
        self.scaled: dict = {"orders": {}, "decp": {}}
        self.imports: list[tuple[str, float]] = []
        self.profile_text = ""
        self.load = [os.getloadavg()[0]]

    def env(self, db: Path, inbox: str | None = None, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
        env.update({"VIGIE_DB": str(db), "VIGIE_INBOX": inbox or self.inbox["inbox"], "VIGIE_NOW": NOW,
                    "VIGIE_BETAGOUV_API": self.betagouv_api, "VIGIE_DATAGOUV_API": self.datagouv.api, **extra})
        return env

    def vigie(self, db: Path, *argv: str, inbox: str | None = None) -> Sample:
        return measure([sys.executable, "-m", "pipelines", *argv], self.env(db, inbox), self.work)

    def fresh(self, name: str, source: Path | None = None) -> Path:
        """An empty folder (optionally holding a copy of a warehouse) for one measurement."""
        folder = self.work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        db = folder / "vigie.duckdb"
        if source is not None:
            shutil.copy2(source, db)
            if (source.parent / "telechargements").exists():
                shutil.copytree(source.parent / "telechargements", folder / "telechargements")
        return db

    def record(self, name: str, sample: Sample) -> None:
        self.stages.setdefault(name, Stage(name)).samples.append(sample)

    # ------------------------------------------------------------------ set-up

    def setup(self) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.datagouv_fixture import DataGouv
        from tests.servers import LoopbackServer, Route

        self.decp_files = self.inputs.decp(self.params["decp_rows"])
        self.inbox = self.inputs.inbox(self.params)
        snapshot = ROOT / "pipelines" / "sample" / "betagouv"
        self.beta = LoopbackServer()
        for name in ("startups", "organisations", "incubators"):
            self.beta.routes[f"/api/v2.7/{name}.json"] = Route((snapshot / f"{name}.json").read_bytes())
        self.beta.start()
        self.betagouv_api = self.beta.url + "/api/v2.7"
        self.datagouv = DataGouv(self.work / "datagouv", files=(Path(self.decp_files["decp_parquet"]),
                                                                Path(self.decp_files["decp_csv"])))
        # The base warehouse: reference and beta.gouv.fr loaded, as before any DECP or order.
        self.base = self.fresh("base")
        self.vigie(self.base, "ingest", "--source", "betagouv")
        from pipelines import warehouse
        from pipelines.sources.datagouv import decp_filters

        con = warehouse.connect(self.base, read_only=True)
        self.filters = self.work / "filters.json"
        self.filters.write_text(json.dumps(decp_filters(con)))
        con.close()
        self.inbox_plus = self.one_more_file()

    def one_more_file(self) -> str:
        """The inbox again (hard links) plus one small new order export: a run that has only
        orders to add, to see which tables it validates again."""
        folder = self.work / "inbox-plus"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        source = Path(self.inbox["inbox"])
        for path in sorted(source.iterdir()):
            os.link(path, folder / path.name)
        export = next(p for p in sorted(source.iterdir()) if p.name.startswith("export"))
        rows = list(csv.reader(io.StringIO(export.read_text("utf-8-sig"))))
        body = [["99" + row[0][2:], *row[1:]] for row in rows[1:21]]
        with open(folder / "export_nouveau.csv", "w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerows([rows[0], *body])
        return str(folder)

    def close(self) -> None:
        self.beta.stop()
        self.datagouv.stop()

    # ------------------------------------------------------------------ DECP

    def decp_once(self, how: str, path: str, fmt: str, tag: str = "") -> Sample:
        db = self.fresh(f"decp-{how}", self.base if how == "vigie" else None)
        script = ([sys.executable, str(ROOT / "benchmarks" / "floor.py")] if how == "floor"
                  else [sys.executable, "-m", "benchmarks.stages", how])
        return measure([*script, path, fmt, str(db), str(self.filters)], self.env(db), ROOT, step_seconds=True)

    def decp_round(self, round_no: int, kept: dict) -> None:
        order = CONTENDERS[round_no % len(CONTENDERS):] + CONTENDERS[:round_no % len(CONTENDERS)]
        for fmt in FORMATS:
            for how in order:  # interleaved, and each contender first in turn
                sample = self.decp_once(how, self.decp_files[f"decp_{fmt}"], fmt)
                kept.setdefault(f"{how} ({fmt})", set()).add((sample.output["rows"], sample.output["uids_sha256"]))
                self.record(f"decp_{fmt}_{how}", sample)

    # ------------------------------------------------------------------ the chain and the run

    def chain_round(self) -> None:
        """Orders ingest, validate, check, report: each on a copy of the previous stage's warehouse."""
        previous = self.base
        for name, argv in (("ingest_orders", ["ingest", "--source", "orders"]), ("validate", ["validate"]),
                           ("check", ["check"]), ("report", ["report", "--month", REPORT_MONTH])):
            db = self.fresh(name, previous)
            if name == "report":
                argv = [*argv, "--output", str(db.parent / "rapport")]
            self.record(name, self.vigie(db, *argv))
            previous = db
        self.last_chain = previous

    def run_round(self, first: bool) -> None:
        """`vigie run` from nothing (both sources over HTTP, DECP downloaded, the whole inbox),
        again with nothing new, then (first round only: it is a check, not a timing goal) with
        one new order file."""
        db = self.fresh("run")
        self.record("run", self.vigie(db, "run"))
        before = validated_runs(db)
        self.record("run_idle", self.vigie(db, "run"))
        self.facts["idle_suites"] = sorted(set(self.facts.get("idle_suites", [])) | set(suites_validated_since(db, before)))
        self.facts["idle_output"] = self.stages["run_idle"].samples[-1].output["stdout"].strip().splitlines()
        self.last_run = db
        if not first:
            return
        plus = self.fresh("run-plus", db)
        before = validated_runs(plus)
        self.record("run_one_file", self.vigie(plus, "run", inbox=self.inbox_plus))
        self.facts["one_file_suites"] = suites_validated_since(plus, before)
        self.facts["suites"] = all_suites()

    def warehouse_facts(self) -> None:
        import duckdb

        con = duckdb.connect(str(self.last_run), read_only=True)
        self.facts["orders_loaded"], self.facts["orders_quarantined"] = con.execute(
            "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) FROM raw.inbox_files").fetchone()
        self.facts["findings"] = con.execute("SELECT count(*) FROM findings.findings").fetchone()[0]
        con.close()

    # ------------------------------------------------------------------ scaling

    def scaling_series(self) -> None:
        from benchmarks import generate

        for factor in SCALING_DECP:
            rows = int(NATIONAL_DECP_ROWS * factor)
            if rows == self.params["decp_rows"] and "decp_parquet_vigie" in self.stages:
                self.scaled["decp"][rows] = {f"{fmt}_{how}": self.stages[f"decp_{fmt}_{how}"]
                                             for fmt in FORMATS for how in ("floor", "vigie")}
                continue
            files = self.inputs.decp(rows)
            stages, kept = {}, {}
            for _ in range(self.scaling_runs):
                for fmt in FORMATS:
                    for how in ("floor", "vigie"):
                        sample = self.decp_once(how, files[f"decp_{fmt}"], fmt)
                        kept.setdefault(f"{how} ({fmt})", set()).add(
                            (sample.output["rows"], sample.output["uids_sha256"]))
                        stages.setdefault(f"{fmt}_{how}", Stage(f"{fmt}_{how}")).samples.append(sample)
            check_same_rows(kept)
            self.scaled["decp"][rows] = stages
            print(f"  étape DECP à {fr(rows, 0)} lignes : Vigie {fr(stages['parquet_vigie'].best)} s en parquet",
                  flush=True)
            self.write_scaling()
        for orders in SCALING_ORDERS:
            if orders == self.params["orders"] and "run" in self.stages:
                self.scaled["orders"][orders] = self.stages["run"]
                continue
            made = self.inputs.inbox(generate.orders_scale(orders))
            stage = Stage(f"run-{orders}")
            for _ in range(self.scaling_runs):
                stage.samples.append(self.vigie(self.fresh(f"run-{orders}"), "run", inbox=made["inbox"]))
            self.scaled["orders"][orders] = stage
            print(f"  vigie run à {fr(orders, 0)} commandes : {fr(stage.best, 1)} s", flush=True)
            self.write_scaling()

    def write_scaling(self) -> str:
        """Written after each size: a series stopped midway still leaves what it measured."""
        done = [f"{fr(n, 0)} commandes" for n in sorted(self.scaled["orders"])]
        text = "\n".join([f"Mesuré le {datetime.now().strftime('%d/%m/%Y')} (échelle `{self.scale}` ; "
                           f"{self.scaling_runs} exécution(s) par taille, sauf la taille de l'échelle elle-même, "
                           f"reprise des {self.runs} tours ; mesurées : {', '.join(done) or 'aucune taille de run'}).",
                           "", *scaling_markdown(self)]) + "\n"
        write_between(RESULTS, "scaling", text)
        return text

    # ------------------------------------------------------------------ profile

    def import_costs(self) -> None:
        """Seconds to import each heavy library in a fresh interpreter (best of 3)."""
        for module in HEAVY_IMPORTS:
            # the IRI grammars are skipped as Vigie does; nothing else of Vigie is imported before the clock starts
            code = ("import time, sys\n"
                    "if sys.argv[1] in ('great_expectations', 'jsonschema'):\n"
                    "    sys.modules['rfc3987_syntax'] = None\n"
                    "t = time.perf_counter()\n__import__(sys.argv[1])\nprint(time.perf_counter() - t)")
            best = min(float(subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True,
                                            cwd=ROOT, check=True).stdout) for _ in range(3))
            self.imports.append((module, best))

    def profile_run(self) -> None:
        """A full run under cProfile, the inbox read in this process (workers = 1) so that
        parsing shows in the profile."""
        from benchmarks import generate

        config = self.work / "profile.toml"
        config.write_text("[inbox]\nworkers = 1\n")
        inbox = self.inbox if self.profile_orders == self.params["orders"] else self.inputs.inbox(
            generate.orders_scale(self.profile_orders))
        db = self.fresh("profile")
        out = self.work / "run.prof"
        sample = measure([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "pipelines", "run"],
                         self.env(db, inbox["inbox"], VIGIE_CONFIG=str(config)), self.work)
        self.profile_text = profile_markdown(out, sample, self.profile_orders)


def rounds_done(bench: Bench) -> int:
    """Rounds of the slowest part measured so far (the runs come after the DECP rounds)."""
    return len(bench.stages["run"].samples) if "run" in bench.stages else 0


def decp_rounds(bench: Bench) -> int:
    return len(bench.stages["decp_parquet_floor"].samples) if "decp_parquet_floor" in bench.stages else 0


def validated_runs(db: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r for (r,) in con.execute("SELECT DISTINCT run_id FROM validation.results").fetchall()}
    finally:
        con.close()


def suites_validated_since(db: Path, before: set[str]) -> list[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return sorted({s for run_id, s in con.execute("SELECT DISTINCT run_id, suite FROM validation.results")
                       .fetchall() if run_id not in before})
    finally:
        con.close()


def all_suites() -> list[str]:
    return sorted(p.stem for p in (ROOT / "expectations").glob("*.json"))


# ------------------------------------------------------------------ output


def machine() -> dict:
    import duckdb
    import pandas
    import polars

    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), None) if Path("/proc/meminfo").exists() else None
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "memory_mb": memory, "cpu": cpu, "python": platform.python_version(), "duckdb": duckdb.__version__,
            "pandas": pandas.__version__, "polars": polars.__version__}


def fr(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def verdict(ok: bool, measured: str, goal: str) -> str:
    return f"atteint ({measured} pour {goal})" if ok else f"**MANQUÉ** ({measured} pour {goal})"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(r) + " |" for r in rows)]


def decp_table(s: dict[str, Stage]) -> list[str]:
    rows = []
    for fmt in FORMATS:
        floor = s[f"decp_{fmt}_floor"]
        for how in CONTENDERS:
            st = s[f"decp_{fmt}_{how}"]
            rows.append([fmt, LABELS[how], fr(st.seconds), fr(st.best), fr(st.rss_mb, 0),
                         fr(st.seconds / floor.seconds), fr(st.rss_mb / floor.rss_mb),
                         " ; ".join(fr(x.seconds) for x in st.samples)])
    return table(["Format", "Méthode", "Médiane (s)", "Min (s)", "Mémoire de pointe (Mo)", "Temps / plancher",
                  "Mémoire / plancher", "Exécutions (s)"], rows)


STAGE_LABELS = {
    "ingest_orders": "Import de la boîte de dépôt (`vigie ingest --source orders`)",
    "validate": "Validation (`vigie validate`)",
    "check": "Règles (`vigie check`)",
    "report": f"Rapport mensuel (`vigie report --month {REPORT_MONTH}`)",
    "run": "`vigie run` complet depuis zéro (sources HTTP + boîte de dépôt)",
    "run_idle": "`vigie run` sans rien de nouveau",
    "run_one_file": "`vigie run` avec un seul nouveau fichier de commandes",
}


def stage_table(s: dict[str, Stage]) -> list[str]:
    rows = [[label, fr(s[k].seconds), fr(s[k].best), fr(s[k].rss_mb, 0), fr(s[k].tree_mb, 0),
             " ; ".join(fr(x.seconds) for x in s[k].samples)] for k, label in STAGE_LABELS.items() if k in s]
    return table(["Étape", "Médiane (s)", "Min (s)", "Mémoire, plus gros processus (Mo)",
                  "Mémoire, arbre de processus (Mo)", "Exécutions (s)"], rows)


def goals(bench: Bench) -> list[tuple[bool, str]]:
    s, found = bench.stages, []
    for fmt in FORMATS:
        v, f, p = s[f"decp_{fmt}_vigie"], s[f"decp_{fmt}_floor"], s[f"decp_{fmt}_polars"]
        found.append((v.seconds / f.seconds <= GOALS["decp_floor_time"],
                      f"Étape DECP ({fmt}) ≤ 1,1 × le plancher en temps : "))
        found[-1] = (found[-1][0], found[-1][1] + verdict(found[-1][0], f"{fr(v.seconds / f.seconds)} ×", "1,1 ×"))
        ok = v.rss_mb / f.rss_mb <= GOALS["decp_floor_memory"]
        found.append((ok, f"Étape DECP ({fmt}) ≤ 1,1 × le plancher en mémoire : "
                      + verdict(ok, f"{fr(v.rss_mb / f.rss_mb)} ×", "1,1 ×")))
        ok = v.seconds < p.seconds
        found.append((ok, f"Étape DECP ({fmt}) plus rapide que polars : "
                      + verdict(ok, f"Vigie {fr(v.seconds)} s, polars {fr(p.seconds)} s", "Vigie devant")))
    orders = fr(bench.params["orders"], 0)
    if "run" not in s:
        found.append((False, f"`vigie run` complet ({orders} commandes), sans rien de nouveau, validation : "
                             "**NON MESURÉ** (série interrompue avant les runs)"))
        return found
    run, idle = s["run"], s["run_idle"]
    ok = run.seconds <= GOALS["run_seconds"]
    found.append((ok, f"`vigie run` complet ({orders} commandes) ≤ 12 s : "
                  + verdict(ok, f"{fr(run.seconds, 1)} s", "12 s")))
    ok = run.tree_mb <= GOALS["run_tree_mb"]
    found.append((ok, f"`vigie run` complet ({orders} commandes), arbre de processus ≤ 1 Go : "
                  + verdict(ok, f"{fr(run.tree_mb, 0)} Mo", "1 024 Mo")))
    ok = idle.seconds <= GOALS["idle_seconds"]
    found.append((ok, "`vigie run` sans rien de nouveau ≤ 0,5 s : " + verdict(ok, f"{fr(idle.seconds)} s", "0,5 s")))
    idle_suites, one = bench.facts["idle_suites"], bench.facts["one_file_suites"]
    ok = not idle_suites and set(one) <= SUITES_FOR_NEW_ORDERS
    found.append((ok, "Validation des seules tables dont les données ont changé : " + verdict(
        ok, f"sans rien de nouveau, {len(idle_suites)} suite(s) validée(s) ; avec un nouveau fichier de commandes, "
            f"{len(one)} sur {len(bench.facts['suites'])} ({', '.join(one) or 'aucune'})",
        "aucune, puis « commandes » seule")))
    return found


def scaling_markdown(bench: Bench) -> list[str]:
    lines = []
    orders = bench.scaled["orders"]
    if orders:
        rows, costs = [], []
        previous = None
        for n, st in sorted(orders.items()):
            t, m = st.best, max(x.tree_mb for x in st.samples)
            marginal = "—" if previous is None else fr((t - previous[1]) / (n - previous[0]) * 1000, 3)
            if previous is not None:
                costs.append((previous[0], n, (t - previous[1]) / (n - previous[0])))
            rows.append([fr(n, 0), fr(t, 1), fr(t / n * 1000, 3), marginal, fr(m, 0), fr(m / n * 1000, 2),
                         str(len(st.samples))])
            previous = (n, t)
        lines += ["`vigie run` complet depuis zéro selon le nombre de commandes (DECP national, 3 sollicitations "
                  "par commande, 500 commandes par fichier) ; temps : min des exécutions :", "",
                  *table(["Commandes", "Temps (s)", "s / 1 000 commandes", "coût marginal (s / 1 000)",
                          "Arbre de processus, pointe (Mo)", "Mo / 1 000 commandes", "Exécutions"], rows), "",
                  *growth_remarks(costs, "`vigie run`, commandes"), ""]
    decp = bench.scaled["decp"]
    if decp:
        rows, remarks = [], []
        for fmt in FORMATS:
            costs, previous = [], None
            for n, stages in sorted(decp.items()):
                v, f = stages[f"{fmt}_vigie"], stages[f"{fmt}_floor"]
                rows.append([fmt, fr(n, 0), fr(v.best), fr(v.best / n * 1e6), fr(v.rss_mb, 0),
                             fr(v.rss_mb / n * 1e6, 0), fr(f.best), fr(f.best / n * 1e6), fr(v.best / f.best)])
                if previous is not None:
                    costs.append((previous[0], n, (v.best - previous[1]) / (n - previous[0])))
                previous = (n, v.best)
            remarks += growth_remarks(costs, f"Vigie, lignes DECP ({fmt})", 1_000_000, "un million de lignes")
        lines += ["Étape DECP selon la taille du fichier (¼, ½, 1 et 2 × la taille nationale) ; temps : min ; "
                  "mémoire : pointe du processus :", "",
                  *table(["Format", "Lignes", "Vigie (s)", "Vigie s / million", "Vigie mémoire (Mo)",
                          "Vigie Mo / million", "Plancher (s)", "Plancher s / million", "Vigie / plancher"], rows),
                  "", *remarks, ""]
    return lines


def growth_remarks(costs: list[tuple[int, int, float]], unit: str, per: int = 1000, per_label: str = "1 000") -> list[str]:
    """Linear growth is a flat marginal cost (seconds per unit between two sizes): say where it
    moves by more than the tolerance."""
    remarks = []
    for (a, b, c1), (_, d, c2) in zip(costs, costs[1:], strict=False):
        if c1 <= 0 or abs(c2 / c1 - 1) > LINEAR_TOLERANCE:
            kind = "plus que linéaire" if c2 > c1 else "moins que linéaire"
            remarks.append(f"- {unit} : croissance **{kind}** — coût marginal de {fr(c1 * per, 3)} s pour {per_label} "
                           f"entre {fr(a, 0)} et {fr(b, 0)}, {fr(c2 * per, 3)} s entre {fr(b, 0)} et {fr(d, 0)}"
                           + (f" ({fr(c2 / c1)} ×)." if c1 > 0 else "."))
    if costs and not remarks:
        remarks.append(f"- {unit} : croissance linéaire à {int(LINEAR_TOLERANCE * 100)} % près (coût marginal stable).")
    return remarks


def profile_markdown(out: Path, sample: Sample, orders: int) -> str:
    stats = pstats.Stats(str(out))
    entries = []
    for (filename, line, name), (_cc, calls, own, cumulative, _callers) in stats.stats.items():
        entries.append((short(filename), line, name, calls, own, cumulative))
    total = max(e[5] for e in entries)

    def rows(key, count, keep=lambda e: True):
        chosen = sorted((e for e in entries if keep(e)), key=key, reverse=True)[:count]
        return [[f"`{name}` ({where}:{line})", fr(calls, 0), fr(own), fr(cumulative)]
                for where, line, name, calls, own, cumulative in chosen]

    header = ["Fonction", "Appels", "Temps propre (s)", "Temps cumulé (s)"]
    ours = lambda e: e[0].startswith("pipelines/") and e[2] not in ("main", "<module>")  # noqa: E731
    return "\n".join([
        f"`vigie run` complet depuis zéro ({fr(orders, 0)} commandes) sous cProfile, fichiers lus dans le "
        f"processus principal (`[inbox] workers = 1`, pour que la lecture paraisse au profil) : "
        f"{fr(sample.seconds, 1)} s de bout en bout, {fr(total, 1)} s profilées (cProfile ralentit le code Python).",
        "", "Les 20 fonctions qui coûtent le plus en propre :", "",
        *table(header, rows(lambda e: e[4], 20)), "",
        "Les 20 fonctions de Vigie (`pipelines/`) qui coûtent le plus en cumulé :", "",
        *table(header, rows(lambda e: e[5], 20, ours)), ""])


def short(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.rsplit("/", 1)[-1]


def markdown(bench: Bench, info: dict, elapsed: float) -> str:
    s, made, facts = bench.stages, bench.inbox, bench.facts
    found = goals(bench)
    missed = [text for ok, text in found if not ok]
    rows, digest = facts["decp_rows_kept"]
    lines = [
        f"### Échelle `{bench.scale}` — mesuré le {datetime.now().strftime('%d/%m/%Y')} en {fr(elapsed / 60, 1)} min",
        "",
        f"Machine : {info['cores']} cœur(s), {fr(info['memory_mb'] / 1024, 1)} Go de mémoire ({info['cpu']}), "
        f"partagée avec d'autres travaux pendant la mesure (charge moyenne sur 1 min : {fr(bench.load[0], 1)} au "
        f"début, {fr(bench.load[-1], 1)} à la fin) ; Python {info['python']}, DuckDB {info['duckdb']}, "
        f"pandas {info['pandas']}, polars {info['polars']}.",
        f"Entrées : DECP de {fr(bench.params['decp_rows'], 0)} lignes (parquet et CSV), {fr(made['orders'], 0)} "
        f"commandes en {made['order_files']} fichiers, {fr(made['solicitations'], 0)} sollicitations en "
        f"{made['besoin_files']} journaux du tourniquet. Étape DECP : {decp_rounds(bench)} tours entrelacés (chaque "
        f"méthode une fois par tour) ; puis `vigie run` : {rounds_done(bench)} tours (depuis zéro, puis sans rien de "
        "nouveau) ; médiane et min"
        + ("." if rounds_done(bench) >= bench.runs else f" — **série interrompue : {rounds_done(bench)} tours de "
           f"`vigie run` sur {bench.runs} achevés**."),
        f"Mêmes lignes pour les quatre méthodes de l'étape DECP, vérifié à chaque exécution : {fr(rows, 0)} contrats "
        f"retenus en parquet comme en CSV, empreinte SHA-256 des uid triés `{digest[:16]}…`.",
        (f"`vigie run` : {fr(facts['orders_loaded'], 0)} lignes chargées, {fr(facts['orders_quarantined'], 0)} en "
         f"quarantaine ; {fr(facts['findings'], 0)} constats." if "orders_loaded" in facts else ""),
        "",
        *decp_table(s),
        "",
        *stage_table(s),
        "",
        ("" if bench.chain else "Étapes séparées (`ingest`, `validate`, `check`, `report`) non mesurées à cette "
         "échelle, faute de temps machine : `BENCH_CHAIN=1` les ajoute. ")
        + "`vigie run` avec un seul nouveau fichier : une exécution, au premier tour (c'est un contrôle de ce qui "
        "est revalidé, pas un objectif de temps). "
        "Mémoire de l'arbre : somme des RSS du processus et de tous ses descendants (lecteurs de la boîte de dépôt), "
        "échantillonnée toutes les 20 ms — un majorant (une page partagée compte dans chaque processus).",
        "",
        f"Objectifs ({len(found) - len(missed)} atteints, {len(missed)} manqués"
        + (") :" if bench.scale == "full" else f" ; à cette échelle, {fr(made['orders'], 0)} commandes) :"),
        "",
        *(f"- {text}" for _, text in found),
    ]
    return "\n".join(lines) + "\n"


def imports_markdown(bench: Bench) -> str:
    rows = [[f"`{m}`", fr(t)] for m, t in sorted(bench.imports, key=lambda x: -x[1])]
    return "\n".join([
        "Import de chaque bibliothèque lourde dans un interpréteur neuf (min de 3 ; `great_expectations` et "
        "`jsonschema` comme Vigie les importe, sans les grammaires IRI ; `pipelines.cli` est ce que paie chaque "
        "commande `vigie` avant de travailler) :", "", *table(["Module", "Import (s)"], rows), ""])


def headline(bench: Bench) -> str:
    """The figures the README quotes (full scale)."""
    s = bench.stages
    lines = []
    for fmt in FORMATS:
        v, f, p, pl = (s[f"decp_{fmt}_{h}"] for h in ("vigie", "floor", "pandas", "polars"))
        lines.append(
            f"- Étape DECP ({fmt}, médianes) : Vigie {fr(v.seconds)} s et {fr(v.rss_mb, 0)} Mo, soit "
            f"**{fr(v.seconds / f.seconds)} × le plancher DuckDB en temps** et {fr(v.rss_mb / f.rss_mb)} × en "
            f"mémoire ; polars {fr(pl.seconds)} s ({fr(pl.seconds / v.seconds)} × Vigie), pandas {fr(p.seconds)} s "
            f"({fr(p.seconds / v.seconds)} × Vigie, {fr(p.rss_mb / v.rss_mb, 1)} × sa mémoire).")
    if "run" not in s:
        lines.append("- `vigie run` complet : non mesuré (série interrompue avant les runs).")
        return "\n".join(lines) + "\n"
    run = s["run"]
    lines.append(f"- `vigie run` complet depuis zéro ({fr(bench.params['orders'], 0)} commandes) : "
                 f"**{fr(run.seconds, 1)} s**, **{fr(run.tree_mb, 0)} Mo** pour tout l'arbre de processus "
                 f"({fr(run.rss_mb, 0)} Mo pour le plus gros processus seul) ; sans rien de nouveau : "
                 f"**{fr(s['run_idle'].seconds)} s**.")
    missed = [text for ok, text in goals(bench) if not ok]
    lines.append(f"- Objectifs : {len(missed)} manqué(s) sur {len(goals(bench))}"
                 + (" — " + " ; ".join(t.split(" : ", 1)[0] for t in missed) if missed else "") + ".")
    lines.append(f"- Mesuré le {datetime.now().strftime('%d/%m/%Y')} sur une machine de 2 cœurs partagée avec "
                 f"d'autres travaux (charge moyenne de {fr(min(bench.load), 1)} à {fr(max(bench.load), 1)} : les temps "
                 "absolus en sont gonflés, les rapports entre méthodes entrelacées le sont moins), "
                 f"médianes de {rounds_done(bench)} exécutions entrelacées"
                 + ("." if rounds_done(bench) >= bench.runs else f" (série interrompue : {rounds_done(bench)} tours "
                    f"sur {bench.runs})."))
    return "\n".join(lines) + "\n"


def write_between(path: Path, marker: str, text: str) -> None:
    """Replace what stands between `<!-- marker:start -->` and `<!-- marker:end -->` in path
    (appended at the end when the markers are missing); the text around is kept."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{text}{end}"
    if start in current and end in current:
        before, rest = current.split(start, 1)
        current = before + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")


def main() -> int:
    global SPAWNER
    SPAWNER = Spawner()  # first, while this process is small
    try:
        return bench_main()
    finally:
        SPAWNER.close()


def flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value not in ("0", "", "non", "false")


def bench_main() -> int:
    from benchmarks import generate

    scale = os.environ.get("BENCH_SCALE", "small")
    if scale not in generate.SCALES:
        print(f"BENCH_SCALE inconnu « {scale} » : {', '.join(generate.SCALES)}.", file=sys.stderr)
        return 2
    runs = int(os.environ.get("BENCH_RUNS", str(MIN_RUNS)))
    if runs < MIN_RUNS and scale != "tiny":
        print(f"BENCH_RUNS={runs} : il faut au moins {MIN_RUNS} exécutions pour une médiane et un min qui disent "
              "quelque chose.", file=sys.stderr)
        return 2
    bench = Bench(scale, runs, flag("BENCH_SCALING", scale == "full"), flag("BENCH_PROFILE", scale == "full"),
                  int(os.environ.get("BENCH_SCALING_RUNS", "1")), flag("BENCH_CHAIN", scale != "full"),
                  int(os.environ.get("BENCH_PROFILE_ORDERS", "0")) or None)
    started = time.perf_counter()
    print(f"Benchmarks Vigie, échelle « {scale} », {runs} exécutions entrelacées par mesure.", flush=True)
    bench.setup()
    print(f"Entrées prêtes ({fr(bench.params['decp_rows'], 0)} lignes DECP, {fr(bench.params['orders'], 0)} "
          "commandes).", flush=True)
    kept: dict = {}
    try:
        def write() -> str:
            # after every round: a series stopped later still leaves what it measured, said as such
            bench.load.append(os.getloadavg()[0])
            text = markdown(bench, machine(), time.perf_counter() - started)
            write_between(RESULTS, f"results:{scale}", text)
            if scale == "full":
                write_between(ROOT / "README.md", "bench-headline", headline(bench))
            return text

        # The DECP contenders interleaved with one another, then the runs: the short step first,
        # so that a series cut short by the clock still compares the four methods.
        for round_no in range(runs):
            t0 = time.perf_counter()
            bench.decp_round(round_no, kept)
            bench.facts["decp_rows_kept"] = check_same_rows(kept)  # at once: a mismatch stops before the rest
            text = write()
            s = bench.stages
            print(f"  étape DECP, tour {round_no + 1}/{runs} : {fr(time.perf_counter() - t0, 1)} s (Vigie parquet "
                  f"{fr(s['decp_parquet_vigie'].samples[-1].seconds)} s)", flush=True)
        for round_no in range(runs):
            t0 = time.perf_counter()
            if bench.chain:
                bench.chain_round()
            bench.run_round(round_no == 0)
            bench.warehouse_facts()
            text = write()
            print(f"  vigie run, tour {round_no + 1}/{runs} : {fr(time.perf_counter() - t0, 1)} s (run "
                  f"{fr(bench.stages['run'].samples[-1].seconds, 1)} s)", flush=True)
        print()
        print(text, flush=True)
        profile_and_scaling(bench)
    finally:
        bench.close()
    print(f"Écrit dans {RESULTS} en {fr((time.perf_counter() - started) / 60, 1)} min.")
    missed = [text for ok, text in goals(bench) if not ok]
    print(f"Objectifs manqués : {len(missed)}." if missed else "Tous les objectifs sont atteints.")
    return 0


def profile_and_scaling(bench: Bench) -> None:
    """What the full scale adds after the timed rounds: import costs and a profile of one
    run, then the scaling series."""
    if bench.profile:
        bench.import_costs()
        print(imports_markdown(bench), flush=True)
        bench.profile_run()
        profile = imports_markdown(bench) + "\n" + bench.profile_text
        print(bench.profile_text, flush=True)
        write_between(RESULTS, "profile", profile)
    if bench.scaling:
        bench.scaling_series()
        print(bench.write_scaling(), flush=True)


if __name__ == "__main__":
    sys.exit(main())
