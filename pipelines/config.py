"""Settings, read when called: command-line options, then environment, then defaults.

Nothing here runs at import. `load_settings()` is the only entry point; every command
calls it once and passes the result down.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipelines import secrets
from pipelines.errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
PARIS = ZoneInfo("Europe/Paris")

DEFAULTS = {
    "VIGIE_DB": "data/vigie.duckdb",
    "VIGIE_INBOX": "data/inbox",
    "VIGIE_BETAGOUV_API": "https://beta.gouv.fr/api/v2.7",
    "VIGIE_DATAGOUV_API": "https://www.data.gouv.fr/api/1",
}


def _merge(base: dict, override: Mapping) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml_settings(env: Mapping[str, str]) -> dict:
    with open(PACKAGE_DIR / "settings.toml", "rb") as fh:
        settings = tomllib.load(fh)
    extra = env.get("VIGIE_CONFIG")
    if extra:
        path = Path(extra)
        try:
            with open(path, "rb") as fh:
                settings = _merge(settings, tomllib.load(fh))
        except FileNotFoundError:
            raise UsageError(
                f"Le fichier de configuration {path} (VIGIE_CONFIG) est introuvable."
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(
                f"Le fichier de configuration {path} (VIGIE_CONFIG) est illisible : {exc}."
            ) from None
    return settings


def parse_now(value: str) -> datetime:
    """VIGIE_NOW pins the clock (reproducible runs and tests); naive means Paris time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"VIGIE_NOW doit être une date ISO (ex. 2026-11-24T09:00:00), reçu « {value} »."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def remember_secrets(env: Mapping[str, str]) -> None:
    """Every secret of the configuration is known to `secrets.redact` before anything
    is logged, stored or raised: the only unmasked copies stay here and in the channel
    that uses them."""
    secrets.remember(*secrets.url_secrets(env.get("VIGIE_SMTP_URL")))
    secrets.remember(*secrets.url_secrets(env.get("VIGIE_WEBHOOK_URL"), webhook=True))
    for name in ("VIGIE_BETAGOUV_API", "VIGIE_DATAGOUV_API"):
        secrets.remember(*secrets.url_secrets(env.get(name)))


@dataclass(frozen=True)
class Settings:
    db_path: Path
    inbox: Path
    betagouv_api: str
    datagouv_api: str
    smtp_url: str | None = None
    alert_to: tuple[str, ...] = ()
    webhook_url: str | None = None
    agreements_dirs: tuple[Path, ...] = ()
    fixed_now: datetime | None = None
    offline: bool = False
    toml: dict = field(default_factory=dict)

    # Everything Vigie writes lives beside the warehouse file.
    @property
    def data_dir(self) -> Path:
        return self.db_path.parent

    @property
    def outbox(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def downloads(self) -> Path:
        return self.data_dir / "telechargements"

    @property
    def rejected_dir(self) -> Path:
        return self.data_dir / "fichiers_rejetes"

    @property
    def lock_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".lock")

    def now(self) -> datetime:
        return self.fixed_now or datetime.now(PARIS)

    def section(self, name: str) -> dict:
        node = self.toml
        for part in name.split("."):
            node = node.get(part, {})
        return node


def load_settings(
    db: str | os.PathLike | None = None,
    inbox: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    offline: bool = False,
) -> Settings:
    env = os.environ if env is None else env

    def pick(option, name):
        if option not in (None, ""):
            return str(option)
        return env.get(name) or DEFAULTS[name]

    agreements_dirs = [PACKAGE_DIR / "agreements"]
    # VIGIE_AGREEMENTS_DIR adds agreement files (a file with a known id replaces it).
    for extra in filter(None, env.get("VIGIE_AGREEMENTS_DIR", "").split(os.pathsep)):
        agreements_dirs.append(Path(extra))

    alert_to = tuple(
        a.strip() for a in env.get("VIGIE_ALERT_TO", "").replace(";", ",").split(",") if a.strip()
    )
    fixed_now = parse_now(env["VIGIE_NOW"]) if env.get("VIGIE_NOW") else None
    remember_secrets(env)
    return Settings(
        db_path=Path(pick(db, "VIGIE_DB")).expanduser().absolute(),
        inbox=Path(pick(inbox, "VIGIE_INBOX")).expanduser().absolute(),
        betagouv_api=pick(None, "VIGIE_BETAGOUV_API").rstrip("/"),
        datagouv_api=pick(None, "VIGIE_DATAGOUV_API").rstrip("/"),
        smtp_url=env.get("VIGIE_SMTP_URL") or None,
        alert_to=alert_to,
        webhook_url=env.get("VIGIE_WEBHOOK_URL") or None,
        agreements_dirs=tuple(agreements_dirs),
        fixed_now=fixed_now,
        offline=offline,
        toml=read_toml_settings(env),
    )
