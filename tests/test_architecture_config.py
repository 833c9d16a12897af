"""Configuration has one home (issue #20): defaults in settings.toml only, read once into
typed sections by pipelines/config.py, the only module that reads the environment."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from pipelines import config
from pipelines.config import load_settings, typed_sections
from pipelines.errors import UsageError

PACKAGE = Path(config.__file__).parent
ENV_ACCESS = re.compile(r"os\.environ|\bgetenv\b|\bputenv\b|from os import [^\n]*\benviron\b")


def _defaults() -> dict:
    with open(PACKAGE / "settings.toml", "rb") as fh:
        return tomllib.load(fh)


def test_only_config_reads_the_environment():
    readers = sorted(
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in PACKAGE.rglob("*.py") if path.name != "config.py" or path.parent != PACKAGE
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if ENV_ACCESS.search(line)
    )
    assert not readers, f"l'environnement est lu hors de pipelines/config.py : {readers}"


def test_every_setting_of_the_file_is_a_typed_field_and_the_reverse():
    settings = load_settings(env={})
    for name in config.SECTIONS:
        section = settings.inbox_limits if name == "inbox" else getattr(settings, name)
        assert dataclasses.is_dataclass(section), name
    assert settings.toml == {name: _plain(value) for name, value in _defaults().items()}


def _plain(node):
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    return tuple(node) if isinstance(node, list) else node


def test_the_values_are_those_of_the_file():
    settings, defaults = load_settings(env={}), _defaults()
    assert settings.resolution.startup_fuzzy_threshold == defaults["resolution"]["startup_fuzzy_threshold"]
    assert settings.resolution.holder_fuzzy_threshold == defaults["resolution"]["holder_fuzzy_threshold"]
    assert settings.http.attempts == defaults["http"]["attempts"]
    assert settings.db_path == Path(defaults["paths"]["db"]).absolute()
    assert settings.betagouv_api == defaults["apis"]["betagouv"]


def test_an_override_of_a_typed_section_reaches_what_the_signature_digests():
    settings = load_settings(env={})
    once = dataclasses.replace(settings, http=dataclasses.replace(settings.http, attempts=1))
    assert once.http.attempts == 1 and once.toml["http"]["attempts"] == 1
    assert settings.toml["http"]["attempts"] == _defaults()["http"]["attempts"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.http.attempts = 2  # type: ignore[misc]


@pytest.mark.parametrize(("change", "said"), [
    (lambda t: t["http"].pop("attempts"), "« http.attempts » manque dans settings.toml"),
    (lambda t: t["http"].update(attempts="4"), "« http.attempts » (settings.toml) doit être un nombre entier"),
    (lambda t: t["inbox"].update(extra=1), "Réglage inconnu « inbox.extra » dans settings.toml"),
    (lambda t: t.pop("alerts"), "La section « [alerts] » manque dans settings.toml"),
])
def test_a_settings_file_out_of_step_with_the_fields_is_a_french_usage_error(change, said):
    toml = _defaults()
    change(toml)
    with pytest.raises(UsageError, match=re.escape(said)):
        typed_sections(toml)
