"""Text normalisation shared by the importer, the resolvers and SQL (macro `norm_key`)."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009\u200b\ufeff]+")
# C0/C1 control characters (bell, escape…) mean nothing in a spreadsheet cell
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Characters NFKD does not decompose but people use as letters.
_LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'", "‘": "'"}
)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clean_cell(value) -> str:
    """A cell as a person meant it: no-break and repeated spaces collapsed, trimmed."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # A printable text holds no control and no whitespace but the plain space (no-break
    # spaces, tabs, zero-width marks are not printable): only double spaces to collapse.
    if text.isprintable() and "  " not in text:
        return text.strip()
    return _SPACES.sub(" ", _CONTROLS.sub("", text)).strip()


def unescape(value):
    """HTML entities as served by beta.gouv.fr (`Pr&#233;fecture`, `l&#39;Ain`)."""
    if isinstance(value, str):
        return html.unescape(value)
    return value


def norm_key(value) -> str:
    """Case, accents, spaces, hyphens, dots and other punctuation ignored.

    `norm_key("Octo-Malt") == norm_key("octo / malt") == "octomalt"`. Must agree with the
    SQL macro of the same name.
    """
    if value is None:
        return ""
    return _norm_key_text(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=1 << 16)
def _norm_key_text(text: str) -> str:
    # Names, buyers and holders repeat on thousands of rows: computed once each.
    text = html.unescape(text)
    if text.isascii():  # nothing to decompose
        return _NON_ALNUM.sub("", text.lower())
    return _NON_ALNUM.sub("", strip_accents(text).lower())


def norm_words(value) -> str:
    """Like norm_key but keeps word boundaries, for fuzzy matching: 'l aide a domicile'."""
    if value is None:
        return ""
    return _NON_ALNUM.sub(" ", strip_accents(html.unescape(str(value))).lower()).strip()
