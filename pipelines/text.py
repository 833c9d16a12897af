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


# Invisible characters that change nothing a reader sees: zero-width spaces and joiners,
# bidirectional controls (which can reverse what is shown), word joiner, soft hyphen, BOM.
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Scripts whose letters look alike: one name mixing them is an evasion or a typing accident.
_LOOKALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC")


def fold_name(text: str) -> str:
    """A name as compared: NFKC-folded (full-width, ligatures, compatibility forms become
    plain letters), invisible characters removed (not turned into spaces)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))


def mixed_scripts(text: str) -> list[str]:
    """The lookalike scripts a name mixes (['CYRILLIC', 'LATIN'] for « DINUМ » with a
    Cyrillic М); empty when it uses at most one."""
    if text.isascii():
        return []
    scripts = set()
    for char in text:
        if char.isalpha():
            script = unicodedata.name(char, "").split(" ", 1)[0]
            if script in _LOOKALIKE_SCRIPTS:
                scripts.add(script)
    return sorted(scripts) if len(scripts) > 1 else []


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
    return _SPACES.sub(" ", _CONTROLS.sub("", _INVISIBLE.sub("", text))).strip()


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
