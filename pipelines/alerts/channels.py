"""Where digests go: email (SMTP), webhook (Mattermost/Slack-compatible), or the outbox
folder when no channel is configured. Each channel knows how to describe its target
without its secrets."""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import requests

from pipelines.alerts.digest import Digest
from pipelines.errors import UsageError
from pipelines.logs import redact

DEFAULT_FROM = "Vigie <vigie@beta.gouv.fr>"


def email_message(digest: Digest, sender: str, recipients: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = digest.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(idstring=digest.digest_id, domain="vigie.local")
    msg["X-Vigie-Digest"] = digest.digest_id
    msg.set_content(digest.text)
    msg.add_alternative(digest.html, subtype="html")
    return msg


class EmailChannel:
    name = "email"

    def __init__(self, url: str, recipients: list[str], sender: str | None = None, timeout: float = 30):
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps", "smtp+starttls") or not parsed.hostname:
            raise UsageError(
                "VIGIE_SMTP_URL doit ressembler à smtp://utilisateur:motdepasse@serveur:587?starttls=1 "
                f"(reçu : {redact(url)})."
            )
        if not recipients:
            raise UsageError("VIGIE_SMTP_URL est défini mais VIGIE_ALERT_TO est vide : à qui écrire ?")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.host, self.port = parsed.hostname, parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.ssl = parsed.scheme == "smtps"
        self.starttls = parsed.scheme == "smtp+starttls" or options.get("starttls") in ("1", "true", "oui")
        self.recipients = recipients
        self.sender = sender or options.get("from") or DEFAULT_FROM
        self.timeout = timeout

    @property
    def target(self) -> str:
        return f"{'smtps' if self.ssl else 'smtp'}://{self.host}:{self.port} → {', '.join(self.recipients)}"

    def send(self, digest: Digest) -> None:
        msg = email_message(digest, self.sender, self.recipients)
        context = ssl.create_default_context()
        cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        kwargs = {"context": context} if self.ssl else {}
        with cls(self.host, self.port, timeout=self.timeout, **kwargs) as smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, timeout: float = 20):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise UsageError(f"VIGIE_WEBHOOK_URL doit être une adresse http(s) (reçu : {redact(url)}).")
        self.url, self.timeout = url, timeout

    @property
    def target(self) -> str:
        return redact(self.url) if "/hooks/" in self.url or "/services/" in self.url else _origin(self.url)

    def send(self, digest: Digest) -> None:
        # Mattermost and Slack incoming webhooks both read `text` (markdown).
        payload = {"text": f"### {digest.subject}\n\n{digest.markdown}", "username": "Vigie"}
        session = requests.Session()
        session.trust_env = False
        try:
            response = session.post(self.url, json=payload, timeout=self.timeout)
        finally:
            session.close()
        if response.status_code >= 300:
            raise RuntimeError(f"le webhook a répondu {response.status_code}")


class OutboxChannel:
    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = folder

    @property
    def target(self) -> str:
        return str(self.folder)

    def send(self, digest: Digest) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / digest.digest_id
        msg = email_message(digest, DEFAULT_FROM, ["compta@beta.gouv.fr"])
        payload = {"digest_id": digest.digest_id, "subject": digest.subject, "text": digest.text,
                   "findings": [{k: f.get(k) for k in ("finding_id", "rule", "severity", "agreement_id", "subject",
                                                        "numero_bc", "numero_besoin", "acheteur", "startup",
                                                        "titulaire", "amount_ht", "message", "source_file",
                                                        "source_line", "contact")} for f in digest.findings]}
        for suffix, data in ((".eml", msg.as_bytes()),
                             (".json", json.dumps(payload, ensure_ascii=False, indent=2, default=str).encode())):
            tmp = stem.with_suffix(suffix + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, stem.with_suffix(suffix))


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.hostname}" + (f":{parsed.port}" if parsed.port else "") + "/…"


def configured(settings) -> list:
    """The channels the environment asks for; the outbox when there is none."""
    channels = []
    if settings.smtp_url:
        channels.append(EmailChannel(settings.smtp_url, list(settings.alert_to),
                                     os.environ.get("VIGIE_ALERT_FROM")))
    if settings.webhook_url:
        channels.append(WebhookChannel(settings.webhook_url))
    return channels or [OutboxChannel(settings.outbox)]
