"""Speed and memory of each stage, side by side with DuckDB alone and pandas.

    BENCH_SCALE=small|full|tiny  BENCH_RUNS=3  python -m benchmarks.run

Every measurement is a separate process (so its peak RSS is its own, read from wait4),
repeated BENCH_RUNS times; medians are printed and written to benchmarks/RESULTS.md
between this scale's markers (the text around them is kept). Sources are served on
127.0.0.1 (beta.gouv.fr snapshot, data.gouv.fr documents and the generated DECP file).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
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
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
NOW = "2026-11-24T07:00:00+01:00"  # a fixed clock: every run sees the same "today"
REPORT_MONTH = "2026-10"
DECP_MIN_RUNS = 5  # at full scale: one-second steps on a shared 2-core machine vary by ±30 %
GOALS = {"decp_floor_ratio": 1.3, "pandas_ratio": 5.0, "run_seconds": 60.0, "run_rss_mb": 2048.0,
         "idle_seconds": 3.0, "report_seconds": 5.0}


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    output: dict = field(default_factory=dict)


@dataclass
class Stage:
    name: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return statistics.median(s.rss_mb for s in self.samples)


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
    if answer["returncode"] not in (0, 1) or "erreur interne" in stderr:
        raise SystemExit(f"{' '.join(argv[2:])} a échoué (code {answer['returncode']}) :\n{stderr[-3000:]}")
    output = json.loads(stdout.strip().splitlines()[-1]) if step_seconds else {"stdout": stdout}
    return Sample(output["seconds"] if step_seconds else answer["seconds"], answer["rss_mb"], output)


class Bench:
    def __init__(self, scale: str, runs: int):
        self.scale, self.runs = scale, runs
        self.decp_runs = max(runs, DECP_MIN_RUNS) if scale == "full" else runs  # small must stay < 2 min
        self.work = ROOT / "benchmarks" / "work" / scale
        self.stages: dict[str, Stage] = {}
        self.facts: dict = {}

    # ------------------------------------------------------------------ inputs

    def inputs(self) -> dict:
        """Generated once per scale and generator version, then reused."""
        from benchmarks import generate

        stamp = self.work / "inputs" / "manifest.json"
        sources = [Path(generate.__file__), Path(generate.__file__).with_name("world.py"), ROOT / "pipelines" / "sample"
                   / "betagouv" / "startups.json"]
        signature = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
        if stamp.exists() and json.loads(stamp.read_text()).get("signature") == signature:
            return json.loads(stamp.read_text())
        shutil.rmtree(self.work / "inputs", ignore_errors=True)
        start = time.perf_counter()
        made = generate.generate(self.scale, self.work / "inputs")
        made["signature"], made["generated_in_s"] = signature, round(time.perf_counter() - start, 1)
        stamp.write_text(json.dumps(made, indent=2))
        return made

    def env(self, db: Path, **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
        env.update({"VIGIE_DB": str(db), "VIGIE_INBOX": self.made["inbox"], "VIGIE_NOW": NOW,
                    "VIGIE_BETAGOUV_API": self.betagouv_api, "VIGIE_DATAGOUV_API": self.datagouv.api, **extra})
        return env

    def vigie(self, db: Path, *argv: str) -> Sample:
        return measure([sys.executable, "-m", "pipelines", *argv], self.env(db), self.work)

    def fresh(self, name: str, source: Path | None = None) -> Path:
        """An empty folder (optionally holding a copy of a warehouse) for one measurement."""
        folder = self.work / "runs" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        db = folder / "vigie.duckdb"
        if source is not None:
            shutil.copy2(source, db)
            if (source.parent / "telechargements").exists():
                shutil.copytree(source.parent / "telechargements", folder / "telechargements")
        return db

    def record(self, name: str, sample: Sample, note: str = "") -> None:
        stage = self.stages.setdefault(name, Stage(name, note=note))
        stage.samples.append(sample)

    # ------------------------------------------------------------------ stages

    def setup(self) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.datagouv_fixture import DataGouv
        from tests.servers import LoopbackServer, Route

        self.made = self.inputs()
        snapshot = ROOT / "pipelines" / "sample" / "betagouv"
        self.beta = LoopbackServer()
        for name in ("startups", "organisations", "incubators"):
            self.beta.routes[f"/api/v2.7/{name}.json"] = Route((snapshot / f"{name}.json").read_bytes())
        self.beta.start()
        self.betagouv_api = self.beta.url + "/api/v2.7"
        self.datagouv = DataGouv(self.work / "inputs" / "decp",
                                 files=(Path(self.made["decp_parquet"]), Path(self.made["decp_csv"])))
        # The base warehouse: reference and beta.gouv.fr loaded, as before any DECP or order.
        self.base = self.fresh("base")
        self.vigie(self.base, "ingest", "--source", "betagouv")
        from pipelines import warehouse
        from pipelines.sources.datagouv import decp_filters

        con = warehouse.connect(self.base, read_only=True)
        self.filters = self.work / "runs" / "filters.json"
        self.filters.write_text(json.dumps(decp_filters(con)))
        con.close()

    def decp(self) -> None:
        for fmt, path in (("parquet", self.made["decp_parquet"]), ("csv", self.made["decp_csv"])):
            kept = set()
            for _ in range(self.decp_runs):
                for how in ("floor", "vigie", "pandas"):  # interleaved: drift hits all three alike
                    db = self.fresh(f"decp-{how}", self.base if how == "vigie" else None)
                    sample = measure([sys.executable, "-m", "benchmarks.stages", how, path, fmt, str(db),
                                      str(self.filters)], self.env(db), ROOT, step_seconds=True)
                    kept.add(sample.output["rows"])
                    self.record(f"decp_{fmt}_{how}", sample)
            if len(kept) != 1:
                raise SystemExit(f"DECP {fmt} : les trois méthodes ne retiennent pas les mêmes lignes ({kept}).")
            self.facts[f"decp_{fmt}_rows_kept"] = kept.pop()

    def chain(self) -> None:
        """Orders ingest, validate, check, report: each on a copy of the previous stage's warehouse."""
        previous = self.base
        for name, argv in (("ingest_orders", ["ingest", "--source", "orders"]), ("validate", ["validate"]),
                           ("check", ["check"])):
            for _ in range(self.runs):
                db = self.fresh(name, previous)
                self.record(name, self.vigie(db, *argv))
            previous = self.work / "runs" / f"after-{name}.duckdb"
            shutil.copy2(db, previous)
        for _ in range(self.runs):
            db = self.fresh("report", previous)
            self.record("report", self.vigie(db, "report", "--month", REPORT_MONTH, "--output",
                                             str(db.parent / "rapport")))
        import duckdb

        con = duckdb.connect(str(previous), read_only=True)
        self.facts["orders_loaded"], self.facts["orders_quarantined"] = con.execute(
            "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) FROM raw.inbox_files").fetchone()
        self.facts["findings"] = con.execute("SELECT count(*) FROM findings.findings").fetchone()[0]
        con.close()

    def full_run(self) -> None:
        """`vigie run` from nothing (both sources over HTTP, DECP downloaded, the whole inbox),
        then again with nothing new."""
        for _ in range(self.runs):
            db = self.fresh("run")
            self.record("run", self.vigie(db, "run"))
        for _ in range(self.runs):
            self.record("run_idle", self.vigie(db, "run"))
        self.facts["idle_output"] = self.stages["run_idle"].samples[-1].output["stdout"].strip().splitlines()

    def close(self) -> None:
        self.beta.stop()
        self.datagouv.stop()


# ------------------------------------------------------------------ output


def machine() -> dict:
    import duckdb
    import pandas

    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), None) if Path("/proc/meminfo").exists() else None
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "memory_mb": memory, "cpu": cpu, "python": platform.python_version(), "duckdb": duckdb.__version__,
            "pandas": pandas.__version__}


def fr(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def verdict(ok: bool, measured: str, goal: str, how_far: str) -> str:
    return f"atteint ({measured} pour {goal})" if ok else f"**manqué de {how_far}** ({measured} pour {goal})"


def summary(bench: Bench) -> tuple[list[list[str]], list[list[str]], list[str]]:
    s = bench.stages
    rows = []
    labels = {
        "decp_parquet_floor": "DECP parquet — DuckDB seul (plancher)",
        "decp_parquet_vigie": "DECP parquet — Vigie",
        "decp_parquet_pandas": "DECP parquet — pandas",
        "decp_csv_floor": "DECP CSV — DuckDB seul (plancher)",
        "decp_csv_vigie": "DECP CSV — Vigie",
        "decp_csv_pandas": "DECP CSV — pandas",
        "ingest_orders": "Import de la boîte de dépôt (`vigie ingest --source orders`)",
        "validate": "Validation (`vigie validate`)",
        "check": "Règles (`vigie check`)",
        "report": f"Rapport mensuel (`vigie report --month {REPORT_MONTH}`)",
        "run": "`vigie run` complet depuis zéro (sources HTTP + boîte de dépôt)",
        "run_idle": "`vigie run` sans rien de nouveau",
    }
    for key, label in labels.items():
        if key in s:
            rows.append([label, fr(s[key].seconds), fr(s[key].rss_mb, 0), " ; ".join(fr(x.seconds) for x in s[key].samples)])
    ratios = []
    for fmt in ("parquet", "csv"):
        if f"decp_{fmt}_vigie" in s:
            v, f, p = s[f"decp_{fmt}_vigie"].seconds, s[f"decp_{fmt}_floor"].seconds, s[f"decp_{fmt}_pandas"].seconds
            ratios.append([f"DECP {fmt}", fr(v / f), fr(p / v)])
    goals = []
    if "decp_parquet_vigie" in s:
        v, f, p = (s["decp_parquet_vigie"].seconds, s["decp_parquet_floor"].seconds, s["decp_parquet_pandas"].seconds)
        goals.append("Étape DECP ≤ 1,3 × le plancher DuckDB : " + verdict(
            v / f <= GOALS["decp_floor_ratio"], f"{fr(v / f)} ×", "1,3 ×", f"{fr(v / f - 1.3)} ×"))
        goals.append("Étape DECP ≥ 5 × plus rapide que pandas : " + verdict(
            p / v >= GOALS["pandas_ratio"], f"{fr(p / v)} ×", "5 ×", f"{fr(5 - p / v)} ×"))
    if "run" in s:
        run = s["run"]
        goals.append("`vigie run` complet ≤ 60 s : " + verdict(
            run.seconds <= GOALS["run_seconds"], f"{fr(run.seconds, 1)} s", "60 s", f"{fr(run.seconds - 60, 1)} s"))
        goals.append("`vigie run` complet, mémoire de pointe ≤ 2 Go : " + verdict(
            run.rss_mb <= GOALS["run_rss_mb"], f"{fr(run.rss_mb, 0)} Mo", "2 048 Mo", f"{fr(run.rss_mb - 2048, 0)} Mo"))
        idle = s["run_idle"]
        goals.append("`vigie run` sans rien de nouveau ≤ 3 s : " + verdict(
            idle.seconds <= GOALS["idle_seconds"], f"{fr(idle.seconds)} s", "3 s", f"{fr(idle.seconds - 3)} s"))
    if "report" in s:
        rep = s["report"]
        goals.append("Rapport mensuel ≤ 5 s : " + verdict(
            rep.seconds <= GOALS["report_seconds"], f"{fr(rep.seconds)} s", "5 s", f"{fr(rep.seconds - 5)} s"))
    return rows, ratios, goals


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(r) + " |" for r in rows)]


def markdown(bench: Bench, info: dict, elapsed: float) -> str:
    rows, ratios, goals = summary(bench)
    made = bench.made
    lines = [
        f"### Échelle `{bench.scale}` — mesuré le {datetime.now().strftime('%d/%m/%Y')} en {fr(elapsed / 60, 1)} min",
        "",
        f"Machine : {info['cores']} cœur(s), {fr(info['memory_mb'] / 1024, 1)} Go de mémoire ({info['cpu']}) ; "
        f"Python {info['python']}, DuckDB {info['duckdb']}, pandas {info['pandas']}.",
        f"Entrées : DECP de {fr(made['decp_rows'], 0)} lignes (parquet et CSV), {fr(made['orders'], 0)} commandes "
        f"en {made['order_files']} fichiers, {fr(made['solicitations'], 0)} sollicitations en "
        f"{made['besoin_files']} journaux du tourniquet. Chaque mesure : {bench.runs} exécution(s) "
        f"({bench.decp_runs} pour l'étape DECP, courte donc plus bruitée), médiane.",
        f"Résultats : {fr(bench.facts.get('decp_parquet_rows_kept', 0), 0)} contrats DECP retenus (les trois méthodes "
        f"d'accord) ; {fr(bench.facts.get('orders_loaded', 0), 0)} lignes chargées, "
        f"{fr(bench.facts.get('orders_quarantined', 0), 0)} en quarantaine ; {fr(bench.facts.get('findings', 0), 0)} "
        "constats.",
        "",
        *table(["Étape", "Médiane (s)", "Mémoire de pointe (Mo)", "Exécutions (s)"], rows),
        "",
        *table(["Étape DECP", "Vigie / plancher DuckDB", "pandas / Vigie"], ratios),
        "",
        "Objectifs (fixés pour l'échelle `full` sur une machine de 2 cœurs et 24 Go"
        + (") :" if bench.scale == "full" else " ; à cette échelle, indicatifs seulement) :"),
        "",
        *(f"- {g}" for g in goals),
    ]
    return "\n".join(lines) + "\n"


def headline(bench: Bench) -> str:
    """The figures the README quotes (full scale only)."""
    s = bench.stages
    v, f, p = (s["decp_parquet_vigie"].seconds, s["decp_parquet_floor"].seconds, s["decp_parquet_pandas"].seconds)
    vc, fc, pc = (s["decp_csv_vigie"].seconds, s["decp_csv_floor"].seconds, s["decp_csv_pandas"].seconds)
    return "\n".join([
        f"- Étape DECP (parquet) : **{fr(v / f)} × le plancher** DuckDB seul, **{fr(p / v, 1)} × plus rapide que "
        f"pandas** ({fr(v)} s contre {fr(f)} s et {fr(p)} s) ; en CSV : {fr(vc / fc)} × le plancher, "
        f"{fr(pc / vc, 1)} × plus rapide que pandas.",
        f"- `vigie run` complet depuis zéro : **{fr(s['run'].seconds, 1)} s**, "
        f"**{fr(s['run'].rss_mb, 0)} Mo** de mémoire de pointe ; sans rien de nouveau : "
        f"**{fr(s['run_idle'].seconds)} s** ; rapport mensuel : **{fr(s['report'].seconds)} s**.",
        f"- Mesuré le {datetime.now().strftime('%d/%m/%Y')}, médianes de {bench.runs} exécutions "
        f"({bench.decp_runs} pour l'étape DECP).",
    ]) + "\n"


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


def bench_main() -> int:
    from benchmarks import generate

    scale = os.environ.get("BENCH_SCALE", "small")
    if scale not in generate.SCALES:
        print(f"BENCH_SCALE inconnu « {scale} » : {', '.join(generate.SCALES)}.", file=sys.stderr)
        return 2
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    started = time.perf_counter()
    bench = Bench(scale, runs)
    print(f"Benchmarks Vigie, échelle « {scale} », {runs} exécution(s) par mesure.", flush=True)
    bench.setup()
    print(f"Entrées prêtes dans {bench.work / 'inputs'} (générées en {bench.made.get('generated_in_s')} s).", flush=True)
    try:
        for label, step in (("étape DECP", bench.decp), ("chaîne ingest → validate → check → report", bench.chain),
                            ("vigie run", bench.full_run)):
            t0 = time.perf_counter()
            step()
            print(f"  {label} : mesurée en {fr(time.perf_counter() - t0, 1)} s", flush=True)
    finally:
        bench.close()
    text = markdown(bench, machine(), time.perf_counter() - started)
    print()
    print(text)
    write_between(RESULTS, f"results:{scale}", text)
    print(f"Écrit dans {RESULTS.relative_to(ROOT)}.")
    if scale == "full":
        write_between(ROOT / "README.md", "bench-headline", headline(bench))
        print("Chiffres clés recopiés dans README.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
