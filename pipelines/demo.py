"""`vigie demo`: the whole chain on the embedded sample, offline.

Reads the real beta.gouv.fr snapshot and the sample exports shipped in
pipelines/sample/, writes a fresh warehouse in settings.toml's [paths] demo_dir (or --db),
the findings, the alerts it would send (outbox, whatever channel is configured), and the HTML report of
the sample's last month; ends by printing where each output is.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

from pipelines import fr, jobs, pipeline, steps, warehouse
from pipelines.config import PACKAGE_DIR, command_hint, demo_db, load_settings
from pipelines.sources import orders
from pipelines.warehouse import relative_to_home

SAMPLE = PACKAGE_DIR / "sample"


def demo_settings(args):
    db = Path(args.db) if args.db else demo_db()
    settings = load_settings(db=db, inbox=args.inbox or SAMPLE / "inbox", offline=True)
    # The sample's sources, never the network; alerts to the outbox only.
    datagouv = SAMPLE / "datagouv"
    return dataclasses.replace(
        settings,
        betagouv_api=str(SAMPLE / "betagouv"),
        datagouv_api=str(datagouv) if datagouv.is_dir() else settings.datagouv_api,
        smtp_url=None, webhook_url=None, alert_to=(),
    )


def run(args, out=None) -> int:
    out = out or sys.stdout
    settings = demo_settings(args)
    orders.check_inbox(settings)
    if not args.db and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)  # [paths] demo_dir is the demo's own: start afresh
    print(f"Démonstration Vigie sur l'échantillon embarqué ({relative_to_home(SAMPLE)}), sans réseau.", file=out)
    with jobs.run(settings, "demo", trigger="demo") as job:
        problems = pipeline.run_all(job, err=out)
        for name, outcome in job.outcomes.items():
            print(f"  {name} : {outcome.message}", file=out)
        month = warehouse.scalar(job.con, "SELECT strftime(max(date_bc), '%Y-%m') FROM mart.orders")
        report_path = None
        if month:
            report = job.step("report", steps.report_step, month=month, folder=settings.data_dir / "rapports" / month)
            report_path = report.counts.get("fichier")
        print("", file=out)
        print("Constats par règle et gravité :", file=out)
        print("\n".join(steps.findings_summary(job.con)), file=out)
        files = job.con.execute(
            "SELECT count(*), sum(rows_loaded), sum(rows_quarantined), count(*) FILTER (WHERE status = 'rejete'), "
            "count(*) FILTER (WHERE status = 'doublon') FROM raw.inbox_files").fetchone()
    print("", file=out)
    print(f"Fichiers lus : {files[0]} ({fr.number(files[1] or 0)} lignes chargées, {fr.number(files[2] or 0)} en "
          f"quarantaine, {files[3]} fichier(s) rejeté(s), {files[4]} doublon(s)).", file=out)
    print("Résultats :", file=out)
    print(f"  entrepôt DuckDB      : {relative_to_home(settings.db_path)}", file=out)
    print(f"  constats             : vigie findings --db {relative_to_home(settings.db_path)}", file=out)
    print(f"  fichiers, quarantaine : {command_hint(settings, 'status')}", file=out)
    print(f"  alertes (outbox)     : {relative_to_home(settings.outbox)}/", file=out)
    if settings.rejected_dir.exists():
        print(f"  fichiers rejetés     : {relative_to_home(settings.rejected_dir)}/", file=out)
    if report_path:
        print(f"  rapport HTML ({fr.month(int(month[:4]), int(month[5:]))}) : {report_path}", file=out)
    print(f"  explorer             : make lab (JupyterLab sur {relative_to_home(settings.db_path)})", file=out)
    if problems:
        # The sample holds a file rejected on purpose: a demo that ran is a success.
        print("(Les fichiers rejetés et les constats font partie de l'échantillon : la démonstration a abouti.)", file=out)
    return 0
