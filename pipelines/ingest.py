"""Ingest steps: each pulls one source into the warehouse in one transaction.

A step that fails leaves the warehouse as it was (the transaction rolls back) and the
source's freshness records the failure, so staleness follows.
"""

from __future__ import annotations

from pathlib import Path

from pipelines import agreements, fr, materialise, resolve, warehouse
from pipelines.config import PACKAGE_DIR, command_hint
from pipelines.errors import SourceError, UsageError, VigieError
from pipelines.http import HttpClient
from pipelines.jobs import Job, StepOutcome, record_source
from pipelines.sources import betagouv, orders
from pipelines.sources.orders.readers import Limits
from pipelines.text import norm_key

EMBEDDED_SNAPSHOT = PACKAGE_DIR / "sample" / "betagouv"  # the real snapshot `vigie demo` reads


def sync_reference(job: Job) -> StepOutcome:
    """Agreement files and reference lists into `ref` (only when a file changed)."""
    dirs = job.settings.agreements_dirs
    if agreements.is_current(job.con, dirs):
        names = [
            r[0]
            for r in job.con.execute(
                "SELECT agreement_id FROM ref.agreements ORDER BY 1"
            ).fetchall()
        ]
        return StepOutcome(
            "inchange", f"Accords-cadres inchangés ({', '.join(names)}).", {"accords": len(names)}
        )
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
            kept = con.execute("SELECT max(data_as_of) FROM meta.source_state WHERE source = ? "
                               "AND last_success_at IS NOT NULL", [betagouv.SOURCE]).fetchone()[0]
            if kept is not None:
                return StepOutcome("ignore", "Mode hors ligne : beta.gouv.fr n'est pas interrogé ; le dernier "
                                             f"instantané conservé (du {fr.long_day(kept)}) reste en place.")
            snapshot = betagouv.read_local(str(EMBEDDED_SNAPSHOT), now)
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
                payloads = betagouv.fetch(client, base, cache, stored_body, now.date())
            finally:
                client.close()
            snapshot = betagouv.Snapshot(payloads, now, now, "http", base)
    except SourceError as exc:
        record_source(con, betagouv.SOURCE, now, "echec", error=exc.message)
        raise

    with warehouse.transaction(con):
        replay = betagouv.replay_notice(con, now)
        changed = betagouv.load(con, snapshot)
        for p in snapshot.payloads.values():
            if snapshot.mode == "http":
                con.execute(
                    "INSERT OR REPLACE INTO meta.http_cache VALUES (?, ?, ?, ?, ?)",
                    [p.url, p.etag, p.last_modified, p.sha256, now],
                )
        if changed:
            warehouse.bump_data_version(con, job.run_id, "beta.gouv.fr", now)
    record_source(
        con,
        betagouv.SOURCE,
        now,
        "ok" if changed else "inchange",
        data_as_of=snapshot.data_as_of,
        changed=changed,
    )
    counts = {
        "startups": len(snapshot.payloads["startups"].parsed["startups"]),
        "organisations": len(snapshot.payloads["organisations"].parsed["rows"]),
        "incubateurs": len(snapshot.payloads["incubators"].parsed["rows"]),
        "telecharges": sum(p.changed for p in snapshot.payloads.values()),
    }
    if settings.offline and not betagouv.is_local(base):
        return StepOutcome("ok", f"Mode hors ligne, entrepôt neuf : instantané embarqué de beta.gouv.fr (du "
                                 f"{fr.long_day(snapshot.data_as_of)}, {counts['startups']} startups) ; lancez "
                                 f"« {command_hint(settings, 'run')} » avec le réseau pour l'actualiser.", counts, changed)
    if changed:
        msg = (
            f"beta.gouv.fr : nouvel instantané ({counts['startups']} startups, "
            f"{counts['organisations']} organisations, {counts['incubateurs']} incubateurs)."
        ) + betagouv.snapshot_notes(snapshot) + (f" {replay}" if replay else "")
        return StepOutcome("ok", msg, counts, True)
    return StepOutcome(
        "inchange", f"beta.gouv.fr : inchangé ({counts['startups']} startups).", counts
    )


def agreement_codes(con) -> dict[str, str]:
    """Every way an order file may name an agreement -> its id (norm_key'd)."""
    out = {}
    for agreement_id, codes, reference in con.execute(
        "SELECT agreement_id, codes, reference FROM ref.agreements ORDER BY 1"
    ).fetchall():
        for code in [agreement_id, *(codes or []), *([reference] if reference else [])]:
            out[norm_key(code)] = agreement_id
    return out


def ingest_orders(job: Job) -> StepOutcome:
    settings, con = job.settings, job.con
    now = settings.now()
    inbox = settings.inbox
    check_inbox(settings)
    if not inbox.exists():
        inbox.mkdir(parents=True)
    if not inbox.is_dir():
        raise VigieError(f"La boîte de dépôt {inbox} n'est pas un dossier (--inbox / VIGIE_INBOX).")
    files = orders.fetch(inbox, orders.InboxRules.from_settings(settings))
    unread = {f.rel for f in files if f.problem}  # links, pipes, hard links to the warehouse: never copied
    known = {(sha, path): status for sha, path, status in con.execute(
        "SELECT content_sha256, path, status FROM raw.inbox_files").fetchall()}
    known_sha = dict(con.execute(
        "SELECT content_sha256, arg_min(path, seq) FROM raw.inbox_files WHERE status <> 'doublon' GROUP BY 1"
    ).fetchall())
    parsed = orders.parse(files, known, known_sha, Limits.from_settings(settings), agreement_codes(con),
                          workers=int(settings.section("inbox").get("workers", 0)))
    results = []  # each file's accounting; its rows are let go once loaded
    notes = []  # what the user must read, per file
    with warehouse.transaction(con):
        seq = con.execute("SELECT coalesce(max(seq), 0) FROM raw.inbox_files").fetchone()[0]
        for result in parsed:
            if result.status == "rejete" and not result.path.startswith("..") and result.path not in unread:
                source = inbox / result.path
                orders.keep_aside_or_say(result, source if not source.is_symlink() else Path(), settings.rejected_dir)
            seq += 1
            notes += file_notes(result, command_hint(settings, "status"))
            orders.load_one(con, result, seq, job.run_id, now)
            results.append(result)
        if results:
            warehouse.bump_data_version(con, job.run_id, "boîte de dépôt", now)
    loaded = [r for r in results if r.status == "charge" and r.rows_loaded]
    record_source(con, orders.SOURCE, now, "ok" if results else "inchange",
                  data_as_of=now if loaded else None, changed=bool(results))
    counts = {
        "fichiers_vus": len(files),
        "fichiers_nouveaux": len(results),
        "charges": sum(r.status == "charge" for r in results),
        "rejetes": sum(r.status == "rejete" for r in results),
        "doublons": sum(r.status == "doublon" for r in results),
        "lignes_lues": sum(r.rows_read for r in results),
        "lignes_chargees": sum(r.rows_loaded for r in results),
        "lignes_en_quarantaine": sum(r.rows_quarantined for r in results),
    }
    deferred = [f.rel for f in files if f.deferred]
    later = (f" {len(deferred)} fichier(s) en cours d'écriture, lu(s) à la prochaine exécution : "
             + ", ".join(f"« {name} »" for name in deferred) + ".") if deferred else ""
    counts["differes"] = len(deferred)
    if not results:
        return StepOutcome("inchange", f"Boîte de dépôt : aucun fichier nouveau ({len(files)} fichiers déjà lus)."
                           + later, counts)
    msg = (f"Boîte de dépôt : {counts['fichiers_nouveaux']} fichier(s) nouveau(x) — {counts['charges']} chargé(s), "
           f"{counts['rejetes']} rejeté(s), {counts['doublons']} doublon(s) ; {counts['lignes_chargees']} ligne(s) "
           f"chargée(s), {counts['lignes_en_quarantaine']} en quarantaine." + later)
    msg += "".join(f"\n  {note}" for note in notes)
    # Files refused while others loaded: the step did its work, and there is something to look at.
    status = "attention" if counts["rejetes"] else "ok"
    return StepOutcome(status, msg, counts, True)


def check_inbox(settings) -> None:
    """A misspelt --inbox / VIGIE_INBOX is said, not silently created and read as empty;
    only the default inbox (data/inbox) is created on first use."""
    if settings.inbox_given and not settings.inbox.exists():
        raise UsageError(f"La boîte de dépôt {settings.inbox} n'existe pas (--inbox / VIGIE_INBOX) : vérifiez le "
                         "chemin, ou créez ce dossier s'il doit recevoir les exports de commandes.")


def file_notes(result, status_command: str = "vigie status") -> list[str]:
    """« fichier : raison » for a refused file; its quarantined rows counted, with their first reasons."""
    if result.status == "rejete":
        kept = f" (copie : {result.kept_at})" if result.kept_at else ""
        return [f"refusé — {result.path} : {result.reason}{kept}"]
    if result.rows_quarantined:
        reasons = list(dict.fromkeys(q.get("reason") or q.get("reason_code") for q in result.quarantined))
        shown = " ; ".join(str(r) for r in reasons[:2]) + (" ; …" if len(reasons) > 2 else "")
        return [f"quarantaine — {result.path} : {result.rows_quarantined} ligne(s) sur {result.rows_read} "
                f"({shown}) — détail : « {status_command} »"]
    return []


def refresh_resolution(job: Job) -> StepOutcome:
    with warehouse.transaction(job.con):
        counts = resolve.refresh(job.con, job.settings)
        materialise.refresh(job.con)
        job.con.execute("INSERT OR REPLACE INTO meta.derived_state (name, data_version, signature) "
                        "VALUES ('resolution', ?, ?)", [warehouse.data_version(job.con), resolve.signature(job.settings)])
    return StepOutcome("ok", f"Résolution des startups, titulaires et acheteurs : {counts['a_revoir']} valeur(s) à revoir.",
                       counts, True)


def ingest_datagouv(job: Job) -> StepOutcome:
    from pipelines.sources import datagouv

    return datagouv.ingest(job)
