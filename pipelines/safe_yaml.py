"""YAML as Vigie reads it: safe types only, and no aliases.

An alias (`*name`) repeats a node without repeating its text: a 400-byte file of nested
aliases (« billion laughs ») expands to gigabytes. Agreement and reference files never
need one, so the first alias met is refused before anything is expanded.
"""

from __future__ import annotations

import yaml
from yaml.events import AliasEvent


class AliasRefused(yaml.YAMLError):
    def __init__(self, mark):
        super().__init__()
        self.mark = mark

    def __str__(self) -> str:
        where = f" (ligne {self.mark.line + 1})" if self.mark is not None else ""
        return f"alias YAML « *… » refusé{where} : recopiez la valeur au lieu de la référencer"


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            raise AliasRefused(self.peek_event().start_mark)
        return super().compose_node(parent, index)


def load(text: str):
    """Like yaml.safe_load, refusing aliases (raises AliasRefused, a yaml.YAMLError)."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
