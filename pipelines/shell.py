"""Command lines Vigie prints for the user to copy, quoted for a POSIX shell.

A leaf module: the rule messages and the alias command both need `alias_command`, and the
rules must not import the alias machinery (which imports the resolver, which reads the
agreements, which read the rule catalogue).
"""

from __future__ import annotations

import re

NONE = "-"  # « is none of them »


def quote(text: str) -> str:
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def alias_command(kind: str, raw: str, target: str | None, reason: str = "…") -> str:
    """The exact command line that records this alias (CLI.md syntax)."""
    if raw.startswith("-"):  # would read as an option: options first, then `--`
        return f"vigie alias --reason {quote(reason)} -- {kind} {quote(raw)} {target or NONE}"
    return f"vigie alias {kind} {quote(raw)} {target or NONE} --reason {quote(reason)}"
