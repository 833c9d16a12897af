"""Where digests go: email (SMTP), webhook (Mattermost/Slack-compatible), or the outbox
folder when no channel is configured. Each channel knows how to describe its target
without its secrets."""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import requests

from pipelines.alerts.digest import Digest
from pipelines.deadline import DeadlineExceeded, within
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


class ChannelError(Exception):
    """A delivery that did not happen, said in French (recorded, retried next run)."""


class EmailChannel:
    name = "email"

    def __init__(self, url: str, recipients: list[str], sender: str | None = None, timeout: float = 30,
                 total_timeout: float = 120, ca_file: str | None = None, clear_password: bool = False):
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps", "smtp+starttls") or not parsed.hostname:
            raise UsageError(
                "VIGIE_SMTP_URL doit ressembler à smtp://utilisateur:motdepasse@serveur:587 "
                f"(STARTTLS) ou smtps://utilisateur:motdepasse@serveur:465 (reçu : {redact(url)})."
            )
        if not recipients:
            raise UsageError("VIGIE_SMTP_URL est défini mais VIGIE_ALERT_TO est vide : à qui écrire ?")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        self.host, self.port = parsed.hostname, parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.ssl = parsed.scheme == "smtps"
        # With credentials STARTTLS is required; without, it is used whenever offered.
        self.starttls = parsed.scheme == "smtp+starttls" or options.get("starttls") in ("1", "true", "oui")
        self.recipients = recipients
        self.sender = sender or options.get("from") or DEFAULT_FROM
        self.timeout = timeout
        self.total_timeout = total_timeout
        self.ca_file = ca_file
        self.clear_password = clear_password

    @property
    def target(self) -> str:
        return f"{'smtps' if self.ssl else 'smtp'}://{self.host}:{self.port} → {', '.join(self.recipients)}"

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)

    def send(self, digest: Digest) -> None:
        msg = email_message(digest, self.sender, self.recipients)
        holder: list[smtplib.SMTP] = []

        def abort() -> None:
            sock = getattr(holder[0], "sock", None) if holder else None
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()

        try:
            within(self.total_timeout, lambda: self._converse(msg, holder), "serveur SMTP", abort)
        except DeadlineExceeded as exc:
            raise ChannelError(str(exc)) from None
        except ssl.SSLCertVerificationError as exc:
            raise ChannelError(f"certificat TLS du serveur SMTP refusé ({exc.verify_message})") from None

    def _converse(self, msg, holder: list) -> None:
        context = self._context()
        if self.ssl:
            smtp = smtplib.SMTP_SSL(timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(timeout=self.timeout)
        smtp._host = self.host  # the name the certificate is checked against (STARTTLS)
        holder.append(smtp)
        try:
            smtp.connect(self.host, self.port)
            smtp.ehlo()
            encrypted = self.ssl
            if not encrypted and (self.starttls or self.user or smtp.has_extn("starttls")):
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                    encrypted = True
                elif self.starttls or not self.clear_password:
                    raise ChannelError(
                        "le serveur SMTP ne propose pas STARTTLS : le mot de passe n'est pas envoyé en clair "
                        "(utilisez smtps://, ou, sur un réseau de confiance seulement, "
                        "[alerts] mot_de_passe_smtp_en_clair = true)"
                        if self.user else "le serveur SMTP ne propose pas STARTTLS, demandé par starttls=1")
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)
            smtp.quit()
        finally:
            smtp.close()


class WebhookChannel:
    name = "webhook"
    MAX_ANSWER_BYTES = 64 * 1024

    def __init__(self, url: str, timeout: float = 20, total_timeout: float = 60):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise UsageError(f"VIGIE_WEBHOOK_URL doit être une adresse http(s) (reçu : {redact(url)}).")
        self.url, self.timeout, self.total_timeout = url, timeout, total_timeout

    @property
    def target(self) -> str:
        # The path and query of a webhook are its token: masked (known secrets and shapes).
        return redact(self.url)

    def send(self, digest: Digest) -> None:
        # Mattermost and Slack incoming webhooks both read `text` (markdown).
        payload = {"text": f"### {digest.subject}\n\n{digest.markdown}", "username": "Vigie"}
        session = requests.Session()
        session.trust_env = False
        try:
            status, location = within(self.total_timeout, lambda: self._post(session, payload), "webhook",
                                      session.close)
        except DeadlineExceeded as exc:
            raise ChannelError(str(exc)) from None
        except requests.exceptions.SSLError:
            raise ChannelError("certificat TLS du webhook refusé") from None
        except requests.RequestException as exc:
            raise ChannelError(f"webhook injoignable ({exc.__class__.__name__})") from None
        finally:
            session.close()
        if 300 <= status < 400:
            where = _origin(location) if location else "adresse inconnue"
            raise ChannelError(f"le webhook a répondu {status} (redirection vers {where}, non suivie) : "
                               "vérifiez VIGIE_WEBHOOK_URL")
        if status >= 300:
            raise ChannelError(f"le webhook a répondu {status}")

    def _post(self, session: requests.Session, payload: dict) -> tuple[int, str | None]:
        # A redirect is never followed: it would carry the digest to another server.
        with session.post(self.url, json=payload, timeout=self.timeout, allow_redirects=False,
                          stream=True) as response:
            read = 0
            for chunk in response.iter_content(8192):
                read += len(chunk)
                if read > self.MAX_ANSWER_BYTES:
                    break
            return response.status_code, response.headers.get("Location")


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
    try:
        parsed = urlparse(url)
        return f"{parsed.scheme}://{parsed.hostname}" + (f":{parsed.port}" if parsed.port else "") + "/…"
    except ValueError:
        return "adresse illisible"


def configured(settings) -> list:
    """The channels the environment asks for; the outbox when there is none."""
    channels = []
    conf = settings.alerts
    if settings.smtp_url:
        channels.append(EmailChannel(
            settings.smtp_url, list(settings.alert_to), settings.alert_from,
            timeout=float(conf.smtp_timeout_seconds),
            total_timeout=float(conf.total_timeout_seconds),
            ca_file=conf.smtp_ca_file or None,
            clear_password=conf.mot_de_passe_smtp_en_clair))
    if settings.webhook_url:
        channels.append(WebhookChannel(settings.webhook_url, timeout=float(conf.webhook_timeout_seconds),
                                       total_timeout=float(conf.total_timeout_seconds)))
    return channels or [OutboxChannel(settings.outbox)]
