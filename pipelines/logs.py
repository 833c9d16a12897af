"""Structured logs: one logfmt line per step, French message, secrets redacted.

2026-11-24T06:30:02+01:00 niveau=INFO etape=ingest.betagouv statut=inchange duree_s=0.41 message="…"
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime

from pipelines.config import PARIS

LOGGER_NAME = "vigie"

# user:password@ in URLs, and tokens in webhook paths (/hooks/<token>, /services/T../B../x..)
_URL_PASSWORD = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I
)
_HOOK_TOKEN = re.compile(r"(?P<prefix>/(?:hooks|services)/)[^\s\"']+", re.I)
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&](?:token|key|secret|password|pwd|api_key)=)[^&\s\"']+", re.I
)


def redact(text: str) -> str:
    """Remove credentials from any string that may contain a URL."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    text = _HOOK_TOKEN.sub(lambda m: f"{m['prefix']}***", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['key']}***", text)


def _quote(value) -> str:
    text = redact(str(value))
    if re.fullmatch(r"[\w.,:+\-/@]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, PARIS).isoformat(timespec="seconds")
        fields = {"niveau": record.levelname}
        fields.update(getattr(record, "fields", {}) or {})
        fields["message"] = record.getMessage()
        return stamp + " " + " ".join(f"{k}={_quote(v)}" for k, v in fields.items())


def setup(level: int = logging.INFO, stream=None) -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers.clear()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def log_step(step: str, message: str, level: int = logging.INFO, **fields) -> None:
    logging.getLogger(LOGGER_NAME).log(level, message, extra={"fields": {"etape": step, **fields}})
