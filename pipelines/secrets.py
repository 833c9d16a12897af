"""Secrets Vigie was configured with, and `redact`, which masks them in any text.

One mechanism for every output: `pipelines.config.load_settings` remembers each secret it
reads (passwords of the SMTP and source URLs, webhook tokens in a path or a query); every
edge that writes text (logs, `meta` tables, error messages, status, report, outbox) goes
through `redact`, which masks those exact values in all their spellings, plus the shapes
of a secret whose value is not known (user:password@ in a URL, a token in a webhook path
or query, an Authorization header).

No imports from the rest of Vigie: errors, logs and config all use it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

MASK = "***"
# Shorter values would mask ordinary words everywhere.
MIN_SECRET_CHARS = 4
_KNOWN: set[str] = set()

# user:password@ in URLs; the password may itself hold '@' or '/', so it runs to the last '@'
# of the URL.
_URL_PASSWORD = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s\"'<>]*):(?P<pw>[^\s\"'<>]+)@(?=[^@\s\"'<>]*(?:[\s\"'<>]|$))",
    re.I,
)
# Tokens in webhook paths: /hooks/<token>, /services/T../B../x.., /api/webhooks/<id>/<token>
_HOOK_TOKEN = re.compile(r"(?P<prefix>/(?:hooks|services|webhooks?)/)[^\s\"'<>)]+", re.I)
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&;](?:[a-z_]*token|key|secret|password|passwd|pwd|api_?key|auth|sig|signature|code)=)"
    r"[^&\s\"'<>]+",
    re.I,
)
_AUTH_HEADER = re.compile(
    r"(?P<key>(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)"
    r"[^\s\"',}]+",
    re.I,
)
_BEARER = re.compile(r"(?P<key>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}", re.I)

# Query keys whose value is a secret in any URL (webhook URLs: every value is).
_SECRET_KEYS = re.compile(r"token|key|secret|pass|pwd|auth|sig|code", re.I)
# Path words of webhook URLs that are not secrets.
_HOOK_WORDS = {"hooks", "hook", "services", "webhook", "webhooks", "api", "v1", "v2", "v3", "incoming"}


def remember(*values: str | None) -> None:
    """Mask these values from now on, as typed and as URL-encoded."""
    for value in values:
        if not value or len(value) < MIN_SECRET_CHARS:
            continue
        for spelling in (value, unquote(value), quote(value, safe=""), quote_plus(value), quote(value)):
            if len(spelling) >= MIN_SECRET_CHARS:
                _KNOWN.add(spelling)


def url_secrets(url: str | None, webhook: bool = False) -> list[str]:
    """The secrets a URL carries: its password, secret-looking query values, and for a
    webhook every path segment and query value (the path is the token)."""
    if not url:
        return []
    try:
        parts = urlsplit(url.strip())
        password = parts.password
    except ValueError:
        return []
    found = []
    if password:
        found += [password, unquote(password)]
    # A password holding '@' or '/' fools urlsplit: take what lies between ':' and the last '@'.
    match = _URL_PASSWORD.match(url.strip())
    if match:
        found += [match["pw"], unquote(match["pw"])]
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        if webhook or _SECRET_KEYS.search(key):
            found.append(value)
    if webhook:
        found += [s for s in parts.path.split("/") if s and s.lower() not in _HOOK_WORDS and len(s) >= 6]
    return found


def redact(text):
    """`text` with every known secret and every secret-shaped value replaced by ***."""
    if not text or not isinstance(text, str):
        return text
    # Longest first: a secret that contains another is masked whole.
    for secret in sorted(_KNOWN, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _HOOK_TOKEN.sub(lambda m: f"{m['prefix']}{MASK}", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m['key']}{MASK}", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m['key']}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m['key']}{MASK}", text)
