"""Alerts: announce each new finding that deserves it, once, on every channel.

Deserves it: an open, active finding that is `critique`, or of a rule that always
alerts (HORS_STARTUP). Announced once per channel: a delivery marked `envoye` is never
repeated; one that failed stays pending and is retried at the next run. Reviewed
findings are never announced.
"""

from __future__ import annotations

import hashlib

from pipelines.alerts import channels as channel_module
from pipelines.alerts.digest import build
from pipelines.logs import log_step, redact

PENDING = """
SELECT f.finding_id, f.rule, f.severity, f.agreement_id, f.subject, f.numero_bc, f.numero_besoin, f.holder_id,
       f.titulaire, f.acheteur, f.startup, f.amount_ht, f.message, f.source_file, f.source_line, f.contact,
       f.first_seen_at
FROM findings.findings f
JOIN ref.rules r ON r.rule = f.rule
WHERE f.active AND f.status = 'open' AND (f.severity = 'critique' OR r.alerts_always)
  AND NOT EXISTS (
      SELECT 1 FROM alerts.deliveries d
      WHERE d.finding_id = f.finding_id AND d.channel = ? AND d.status = 'envoye'
  )
ORDER BY CASE f.severity WHEN 'critique' THEN 0 ELSE 1 END, f.first_seen_at, f.finding_id
"""


def pending(con, channel: str) -> list[dict]:
    cursor = con.execute(PENDING, [channel])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def send_all(con, settings, now, run_id: str, dry_run: bool = False, out=None) -> dict:
    """Send one digest per channel. Delivery bookkeeping is written on a cursor of its
    own, outside any data transaction: a send that happened is recorded even if a later
    step fails."""
    titles = dict(con.execute("SELECT rule, title FROM ref.rules").fetchall())
    summary = {"canaux": [], "envoyes": 0, "echecs": 0, "constats": 0}
    for channel in channel_module.configured(settings):
        todo = pending(con, channel.name)
        if not todo:
            summary["canaux"].append(f"{channel.name} : rien de nouveau")
            continue
        digest_id = "D" + hashlib.sha256(
            (run_id + channel.name + ",".join(f["finding_id"] for f in todo)).encode()).hexdigest()[:11].upper()
        digest = build(todo, titles, now, digest_id)
        summary["constats"] = max(summary["constats"], len(todo))
        if dry_run:
            if out is not None:
                print(f"--- {channel.name} → {channel.target}\n{digest.subject}\n\n{digest.text}\n", file=out)
            summary["canaux"].append(f"{channel.name} : {len(todo)} constat(s) (simulation, rien envoyé)")
            continue
        error = None
        try:
            channel.send(digest)
        except channel_module.ChannelError as exc:
            error = redact(str(exc))
        except Exception as exc:  # network, SMTP, disk: recorded and retried next run
            error = redact(f"{exc.__class__.__name__} : {exc}")
        _record(con, channel, digest, todo, now, error)
        if error:
            summary["echecs"] += 1
            summary["canaux"].append(f"{channel.name} : échec ({error}), nouvel essai à la prochaine exécution")
            log_step("alert", f"envoi {channel.name} échoué : {error}", 30, canal=channel.name)
        else:
            summary["envoyes"] += 1
            summary["canaux"].append(f"{channel.name} : {len(todo)} constat(s) envoyé(s) ({channel.target})")
    return summary


def _record(con, channel, digest, todo: list[dict], now, error: str | None) -> None:
    cur = con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        cur.execute(
            "INSERT INTO alerts.digests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [digest.digest_id, channel.name, channel.target, now, "echec" if error else "envoye", len(todo),
             digest.subject, error],
        )
        # One statement for the whole digest: thousands of findings on a first run.
        cur.execute(
            "INSERT INTO alerts.deliveries (finding_id, channel, status, attempts, queued_at, last_attempt_at, "
            "sent_at, digest_id, last_error) "
            "SELECT DISTINCT unnest($ids::VARCHAR[]), $channel, $status, 1, $now, $now, $sent, $digest, $error "
            "ON CONFLICT (finding_id, channel) DO UPDATE SET status = excluded.status, "
            "attempts = alerts.deliveries.attempts + 1, last_attempt_at = excluded.last_attempt_at, "
            "sent_at = excluded.sent_at, digest_id = excluded.digest_id, last_error = excluded.last_error",
            {"ids": [f["finding_id"] for f in todo], "channel": channel.name, "status": "echec" if error else "envoye",
             "now": now, "sent": None if error else now, "digest": digest.digest_id, "error": error},
        )
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
