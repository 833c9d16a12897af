"""Costly imports, made cheaper.

jsonschema (imported by our agreement loader, and by Great Expectations through altair)
imports rfc3987_syntax when it is installed — Jupyter installs it — to check "iri"
formats: it compiles ~40 lark grammars, 1.7 to 2.3 s of every such import. Neither our
schema nor GX's use of altair checks IRIs; without the module, jsonschema simply skips
that format.
"""

from __future__ import annotations

import sys


def skip_iri_grammars() -> None:
    """Call before importing jsonschema or great_expectations."""
    if "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment] - import now raises ImportError
