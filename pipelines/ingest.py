"""Ingest steps: each pulls one source into the warehouse in one transaction.

A step that fails leaves the warehouse as it was (the transaction rolls back) and the
source's freshness records the failure, so staleness follows.
"""

from __future__ import annotations

from pipelines import agreements, warehouse
from pipelines.errors import SourceError
from pipelines.http import HttpClient
from pipelines.jobs import Job, StepOutcome, record_source
from pipelines.sources import betagouv


def sync_reference(job: Job) -> StepOutcome:
    """Agreement files and reference lists into `ref` (only when a file changed)."""
    dirs = job.settings.agreements_dirs
    if agreements.is_current(job.con, dirs):
        names = [r[0] for r in job.con.execute("SELECT agreement_id FROM ref.agreements ORDER BY 1").fetchall()]
        return StepOutcome("inchange", f"Accords-cadres inchangés ({', '.join(names)}).", {"accords": len(names)})
    found = agreements.load_agreements(dirs)
    with warehouse.transaction(job.con):
        agreements.load_into_warehouse(job.con, found)
        warehouse.bump_data_version(job.con, job.run_id, "accords-cadres", job.settings.now())
    names = ", ".join(a.id for a in found)
    return StepOutcome("ok", f"Accords-cadres chargés : {names}.", {"accords": len(found)}, True)


def ingest_betagouv(job: Job) -> StepOutcome:
    settings, con = job.settings, job.con
    base = settings.betagouv_api
    now = settings.now()
    try:
        if betagouv.is_local(base):
            snapshot = betagouv.read_local(base, now)
        elif settings.offline:
            return StepOutcome("ignore", "Mode hors ligne : l'API beta.gouv.fr n'est pas interrogée.")
        else:
            cache = {
                url: (etag, last_modified, sha)
                for url, etag, last_modified, sha in con.execute(
                    "SELECT url, etag, last_modified, content_sha256 FROM meta.http_cache "
                    "WHERE content_sha256 IN (SELECT content_sha256 FROM raw.betagouv_payloads)"
                ).fetchall()
            }

            def stored_body(sha: str) -> bytes:
                return warehouse.scalar(
                    con, "SELECT body FROM raw.betagouv_payloads WHERE content_sha256 = ?", [sha]
                ).encode("utf-8")

            client = HttpClient(settings)
            try:
                payloads = betagouv.fetch(client, base, cache, stored_body)
            finally:
                client.close()
            snapshot = betagouv.Snapshot(payloads, now, now, "http", base)
    except SourceError as exc:
        record_source(con, betagouv.SOURCE, now, "echec", error=exc.message)
        raise

    with warehouse.transaction(con):
        changed = betagouv.load(con, snapshot)
        for p in snapshot.payloads.values():
            if snapshot.mode == "http":
                con.execute(
                    "INSERT OR REPLACE INTO meta.http_cache VALUES (?, ?, ?, ?, ?)",
                    [p.url, p.etag, p.last_modified, p.sha256, now],
                )
        if changed:
            warehouse.bump_data_version(con, job.run_id, "beta.gouv.fr", now)
    record_source(con, betagouv.SOURCE, now, "ok" if changed else "inchange",
                  data_as_of=snapshot.data_as_of, changed=changed)
    counts = {
        "startups": len(snapshot.payloads["startups"].parsed["startups"]),
        "organisations": len(snapshot.payloads["organisations"].parsed["rows"]),
        "incubateurs": len(snapshot.payloads["incubators"].parsed["rows"]),
        "telecharges": sum(p.changed for p in snapshot.payloads.values()),
    }
    if changed:
        msg = (f"beta.gouv.fr : nouvel instantané ({counts['startups']} startups, "
               f"{counts['organisations']} organisations, {counts['incubateurs']} incubateurs).")
        return StepOutcome("ok", msg, counts, True)
    return StepOutcome("inchange", f"beta.gouv.fr : inchangé ({counts['startups']} startups).", counts)
