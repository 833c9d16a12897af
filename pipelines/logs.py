"""Structured logs: one logfmt line per step, French message, secrets redacted.

2026-11-24T06:30:02+01:00 niveau=INFO etape=ingest.betagouv statut=inchange duree_s=0.41 message="…"
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime

from pipelines.config import PARIS
from pipelines.secrets import redact

__all__ = ["redact", "setup", "log_step"]

LOGGER_NAME = "vigie"

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
    # Libraries' own warnings (urllib3, requests…) go through the same redacting format
    # rather than Python's last-resort handler, which prints them raw.
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_vigie", False)]
    fallback = logging.StreamHandler(stream or sys.stderr)
    fallback.setFormatter(LogfmtFormatter())
    fallback.setLevel(logging.WARNING)
    fallback._vigie = True
    root.addHandler(fallback)
    return logger


def log_step(step: str, message: str, level: int = logging.INFO, **fields) -> None:
    logging.getLogger(LOGGER_NAME).log(level, message, extra={"fields": {"etape": step, **fields}})
