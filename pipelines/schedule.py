"""`vigie schedule`: stay up, run `vigie run` every day and `vigie report` every month.

APScheduler, cron expressions from settings.toml ([schedule]), Europe/Paris time. A job
late by less than `misfire_grace_seconds` (machine asleep, restart) still runs, once
(coalesced); later than that it is skipped and logged. Each job runs in its own process,
so a failing run never brings the scheduler down; the warehouse lock keeps runs from
overlapping with manual ones. SIGTERM and Ctrl-C stop it cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipelines import fr
from pipelines.config import child_environment
from pipelines.logs import log_step


def previous_month(now: datetime) -> str:
    return (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _vigie(settings, *argv: str) -> int:
    env = child_environment(VIGIE_TRIGGER="planifie", VIGIE_DB=str(settings.db_path), VIGIE_INBOX=str(settings.inbox))
    result = subprocess.run([sys.executable, "-m", "pipelines", *argv], env=env)
    return result.returncode


def daily_job(settings) -> None:
    code = _vigie(settings, "run")
    log_step("schedule", f"vigie run terminé (code {code})", 20 if code == 0 else 30, tache="run", code=code)


def monthly_job(settings) -> None:
    month = previous_month(settings.now())
    folder = settings.schedule.reports_dir
    code = _vigie(settings, "report", "--month", month, "--output", os.path.join(folder, month))
    log_step("schedule", f"rapport de {month} : code {code}", 20 if code == 0 else 30, tache="report", code=code)


def build(settings, scheduler_class=None, daily=None, monthly=None):
    """The scheduler with its two jobs (callables injectable for tests)."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger

    conf = settings.schedule
    tz = ZoneInfo(conf.timezone)
    scheduler = (scheduler_class or BlockingScheduler)(
        timezone=tz,
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(conf.misfire_grace_seconds)},
    )
    scheduler.add_job(daily or (lambda: daily_job(settings)), CronTrigger.from_crontab(conf.daily_run, timezone=tz),
                      id="vigie-run", name="vigie run (quotidien)")
    scheduler.add_job(monthly or (lambda: monthly_job(settings)),
                      CronTrigger.from_crontab(conf.monthly_report, timezone=tz),
                      id="vigie-report", name="rapport mensuel (mois précédent)")
    return scheduler


def serve(settings) -> int:
    from apscheduler.events import EVENT_JOB_MISSED
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = build(settings, BackgroundScheduler)
    stop_requested = threading.Event()
    signals = []

    def stop(signum, frame):
        signals.append(signum)
        stop_requested.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.add_listener(lambda event: log_step(
        "schedule", f"tâche {event.job_id} manquée (prévue le {fr.moment(event.scheduled_run_time)}), "
        "au-delà du délai de rattrapage : elle n'est pas rejouée.", 30), EVENT_JOB_MISSED)
    now = datetime.now(scheduler.timezone)
    print(f"Planificateur démarré (fuseau {scheduler.timezone}). Prochaines exécutions :", flush=True)
    for job in scheduler.get_jobs():
        print(f"  {job.name} : {fr.moment(job.trigger.get_next_fire_time(None, now))}", flush=True)
    scheduler.start()
    if not stop_requested.is_set():
        print("Planificateur en marche.", flush=True)
    # The main thread wakes every second: a signal the kernel hands to another thread
    # (DuckDB's workers) only runs its handler when the main thread runs Python code, so a
    # main thread blocked without a timeout would never see SIGTERM.
    while not stop_requested.wait(1.0):
        pass
    log_step("schedule", "arrêt demandé : le planificateur s'arrête proprement.", signal=signals[0])
    scheduler.shutdown(wait=False)
    print("Planificateur arrêté.", flush=True)
    return 0
