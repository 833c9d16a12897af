"""What every source shares: reading a JSON body that an HTTP 200 may not really hold."""

from __future__ import annotations

import json

from pipelines.http import InvalidPayload


def decode_json(body: bytes, content_type: str | None, what: str):
    """The document in `body`; InvalidPayload (French, naming `what`) for what an HTTP 200
    can hide: an HTML error page, a cut or invalid JSON, a nesting too deep to parse."""
    head = body[:512].lstrip().lower()
    if (content_type and "html" in content_type.lower()) or head.startswith((b"<!doctype", b"<html")):
        raise InvalidPayload(f"{what} : page HTML reçue au lieu de JSON")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidPayload(f"{what} : JSON invalide ou tronqué ({exc.__class__.__name__})") from None
    except RecursionError:
        raise InvalidPayload(f"{what} : JSON imbriqué trop profondément pour être une réponse de l'API") from None
