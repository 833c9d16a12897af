"""`vigie run` (the scheduled job) and `vigie schedule`."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from pipelines import warehouse
from tests.conftest import ROOT, SAMPLE_INBOX, connect


@pytest.fixture
def sources(workspace, betagouv_server, datagouv, monkeypatch):
    """Every source served on loopback; the sample exports in the inbox."""
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv_server.url + "/api/v2.7")
    monkeypatch.setenv("VIGIE_INBOX", str(SAMPLE_INBOX))
    return workspace, betagouv_server, datagouv


def steps_of_last_run(db) -> dict:
    con = connect(db)
    run_id = con.execute("SELECT run_id FROM meta.runs WHERE command = 'run' ORDER BY started_at DESC, rowid DESC LIMIT 1").fetchone()[0]
    return dict(con.execute("SELECT step, status FROM meta.run_steps WHERE run_id = ?", [run_id]).fetchall())


def test_a_second_run_on_unchanged_input_does_no_work_and_changes_nothing(sources, cli):
    workspace, betagouv, datagouv = sources
    db = workspace / "data" / "vigie.duckdb"
    code, out, err = cli("run")
    assert code == 1  # the sample holds a rejected file: something to look at
    first = steps_of_last_run(db)
    assert first["ingest.orders"] == "attention" and first["validate"] == "ok" and first["check"] == "ok"
    before = warehouse.table_fingerprints(connect(db))
    betagouv.log.clear()
    datagouv.server.log.clear()
    # the second run in its own process, which tells whether validation loaded Great Expectations
    second_run = subprocess.run(
        [sys.executable, "-c", "import sys; from pipelines.cli import main; code = main(['run']); "
         "print('GX chargé' if 'great_expectations' in sys.modules else 'GX absent'); sys.exit(code)"],
        env=dict(os.environ), cwd=workspace, capture_output=True, text=True, timeout=300)
    code = second_run.returncode
    assert second_run.stdout.rstrip().endswith("GX absent"), second_run.stdout  # nothing changed: nothing validated
    second = steps_of_last_run(db)
    assert second == {"reference": "inchange", "ingest.betagouv": "inchange", "ingest.datagouv": "inchange",
                      "ingest.orders": "inchange", "validate": "inchange", "check": "ok", "alert": "ok"}
    assert code == 0
    assert all(r["status"] == 304 for r in betagouv.log) and sum(r["bytes"] for r in betagouv.log) == 0
    assert datagouv.downloads("decp.parquet") == 0
    assert warehouse.table_fingerprints(connect(db)) == before
    con = connect(db)
    runs = con.execute("SELECT status, counts FROM meta.runs WHERE command = 'run' ORDER BY started_at, rowid").fetchall()
    assert [r[0] for r in runs] == ["attention", "succes"]
    assert "ingest.betagouv.startups" in json.loads(runs[1][1])


def test_two_runs_started_together_do_not_both_write(sources):
    workspace, betagouv, datagouv = sources
    env = {k: v for k, v in os.environ.items()}
    first = subprocess.Popen([sys.executable, "-m", "pipelines", "run"], env=env, cwd=workspace,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = workspace / "data" / "vigie.duckdb.lock"
    deadline = time.time() + 60
    while time.time() < deadline and not (lock.exists() and lock.read_text()):
        time.sleep(0.05)
    second = subprocess.run([sys.executable, "-m", "pipelines", "run"], env=env, cwd=workspace,
                            capture_output=True, text=True, timeout=120)
    out, err = first.communicate(timeout=300)
    assert second.returncode == 1
    assert "déjà utilisé par « vigie run »" in second.stderr and "sans rien modifier" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode in (0, 1), err
    con = connect(workspace / "data" / "vigie.duckdb")
    assert con.execute("SELECT count(*) FROM meta.runs WHERE command = 'run'").fetchone()[0] == 1


def test_a_stale_source_raises_its_finding_and_shows_in_status(sources, cli, monkeypatch):
    workspace, betagouv, datagouv = sources
    cli("run")
    db = workspace / "data" / "vigie.duckdb"
    con = connect(db)
    assert con.execute("SELECT subject FROM findings.findings WHERE rule = 'SOURCE_PERIMEE' AND active").fetchall() == []
    con.close()
    # four days later, beta.gouv.fr unreachable: its data ages past 72 h
    monkeypatch.setenv("VIGIE_NOW", "2030-01-05T08:00:00")
    monkeypatch.setenv("VIGIE_BETAGOUV_API", "http://127.0.0.1:9/api/v2.7")
    code, out, err = cli("run")
    assert code == 1 and "API beta.gouv.fr" in err
    con = connect(db)
    stale = con.execute("SELECT subject, severity, message FROM findings.findings "
                        "WHERE rule = 'SOURCE_PERIMEE' AND active ORDER BY subject").fetchall()
    assert [s[0] for s in stale] == ["betagouv", "orders"]
    assert stale[0][1] == "alerte" and "Dernière erreur" in stale[0][2] and "injoignable" in stale[0][2]
    con.close()
    code, out, _ = cli("status", "--format", "json")
    flags = {s["source"]: s["stale"] for s in json.loads(out)["sources"]}
    assert flags == {"betagouv": True, "datagouv": False, "orders": True}
    # the source comes back: a 304 confirms the data, the finding goes away
    monkeypatch.setenv("VIGIE_BETAGOUV_API", betagouv.url + "/api/v2.7")
    cli("run")
    con = connect(db)
    assert con.execute("SELECT active FROM findings.findings WHERE rule = 'SOURCE_PERIMEE' AND subject = 'betagouv'"
                       ).fetchone() == (False,)


def test_logs_are_one_structured_french_line_per_step(sources, cli, capsys):
    code, out, err = cli("run")
    lines = [line for line in err.splitlines() if " etape=" in line]
    steps = [line.split(" etape=")[1].split()[0] for line in lines]
    assert steps == ["reference", "ingest.betagouv", "ingest.datagouv", "ingest.orders", "resolution", "validate",
                     "check", "alert"]
    for line in lines:
        assert line.split()[1].startswith("niveau=") and " statut=" in line and " duree_s=" in line
        assert 'message="' in line


# ------------------------------------------------------------------ scheduler


def test_the_scheduler_fires_the_daily_job_on_a_fake_clock(workspace, monkeypatch):
    monkeypatch.delenv("VIGIE_NOW")  # the clock here is freezegun's, as a scheduler's is the machine's
    from apscheduler.schedulers.background import BackgroundScheduler
    from freezegun import freeze_time

    from pipelines import schedule
    from pipelines.config import load_settings

    calls = []
    with freeze_time("2026-11-24T05:29:50+00:00") as clock:  # 06:29:50 in Paris
        scheduler = schedule.build(load_settings(), BackgroundScheduler,
                                   daily=lambda: calls.append(("run", time.time())),
                                   monthly=lambda: calls.append(("report", time.time())))
        scheduler.start()
        try:
            nexts = {job.id: job.next_run_time.isoformat() for job in scheduler.get_jobs()}
            assert nexts == {"vigie-run": "2026-11-24T06:30:00+01:00", "vigie-report": "2026-12-01T07:00:00+01:00"}
            clock.move_to("2026-11-24T05:30:05+00:00")
            scheduler.wakeup()
            _wait(lambda: calls)
            assert [c[0] for c in calls] == ["run"]
            # late by 90 minutes (machine asleep): within the grace period, run once
            clock.move_to("2026-11-25T07:00:00+00:00")
            scheduler.wakeup()
            _wait(lambda: len(calls) == 2)
            # the monthly report on the 1st, for the previous month
            clock.move_to("2026-12-01T06:00:01+00:00")
            scheduler.wakeup()
            _wait(lambda: any(c[0] == "report" for c in calls))
            assert schedule.previous_month(load_settings().now()) == "2026-11"
        finally:
            scheduler.shutdown(wait=False)


def _wait(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("the scheduler did not fire")


class Lines:
    """A process's stdout, line by line, read in a thread so that waiting has a deadline."""

    def __init__(self, process):
        self.process, self.queue, self.seen = process, queue.Queue(), []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in iter(self.process.stdout.readline, ""):
            self.queue.put(line)
        self.queue.put(None)  # end of output

    def until(self, wanted: str | None, timeout: float = 60) -> list[str]:
        """Lines up to the one holding `wanted` (a state the process reports), or to the end."""
        while True:
            try:
                line = self.queue.get(timeout=timeout)
            except queue.Empty:
                self.process.kill()
                raise AssertionError(f"never reported « {wanted} »: {self.seen}") from None
            if line is None:
                assert wanted is None, f"ended without reporting « {wanted} »: {self.seen}"
                return self.seen
            self.seen.append(line)
            if wanted is not None and wanted in line:
                return self.seen


def test_schedule_stops_cleanly_on_sigterm(workspace):
    process = subprocess.Popen([sys.executable, "-m", "pipelines", "schedule"], cwd=workspace,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        out = Lines(process)
        started = "".join(out.until("Planificateur en marche."))  # wait for the state, never for time
        assert started.startswith("Planificateur démarré")
        assert "vigie run (quotidien)" in started and "rapport mensuel" in started
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, process.stderr.read()
        assert "Planificateur arrêté." in "".join(out.until(None)).removeprefix(started)
        err = process.stderr.read()
        assert "arrêt demandé" in err and "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_schedule_stops_on_sigterm_sent_the_moment_it_starts(workspace):
    """SIGTERM may reach any thread of the process — DuckDB's workers among them — and
    Python only runs the handler when the main thread runs Python code. A main thread
    blocked without a timeout (APScheduler's BlockingScheduler) then never saw it: about
    one stop in four hung at the moment the scheduler started. Ten quick stops in a row:
    every one must end the process."""
    hung = 0
    for _ in range(10):
        process = subprocess.Popen([sys.executable, "-m", "pipelines", "schedule"], cwd=workspace,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ))
        try:
            for line in process.stdout:
                if "Planificateur en marche." in line:
                    process.send_signal(signal.SIGTERM)
                    break
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                hung += 1
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert hung == 0, f"{hung} arrêt(s) sur 10 sans effet"


def test_deploy_files_for_the_system_scheduler():
    timer = (ROOT / "deploy" / "systemd" / "vigie-run.timer").read_text()
    assert "OnCalendar=*-*-* 06:30:00 Europe/Paris" in timer and "Persistent=true" in timer
    assert "ExecStart=/opt/vigie/.venv/bin/vigie run" in (ROOT / "deploy" / "systemd" / "vigie-run.service").read_text()
    assert "vigie schedule" in (ROOT / "deploy" / "systemd" / "vigie-schedule.service").read_text()
    cron = (ROOT / "deploy" / "cron" / "crontab.example").read_text()
    assert "CRON_TZ=Europe/Paris" in cron and "vigie run" in cron and "vigie report --month" in cron
