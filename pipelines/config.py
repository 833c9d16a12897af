"""Settings, read when called: command-line options, then environment, then settings.toml.

Nothing here runs at import. `load_settings()` is the only entry point; every command
calls it once and passes the result down. Defaults live in settings.toml only: each of
its sections is read once into a frozen dataclass below (`settings.http.attempts`), and
this module is the only one that reads the environment.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pipelines import secrets
from pipelines.errors import UsageError

PACKAGE_DIR = Path(__file__).resolve().parent
PARIS = ZoneInfo("Europe/Paris")

# Not a setting: how a run was started, recorded with it (the scheduler says « planifie »).
MANUAL_TRIGGER = "manuel"


def _merge(base: dict, override: Mapping) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_sections(env: Mapping[str, str]) -> dict:
    """settings.toml merged with the VIGIE_CONFIG file, checked, as {section: dataclass}."""
    sections = typed_sections(read_toml_settings(env))
    _check_sections(sections)
    return sections


def default_paths() -> PathsSettings:
    """settings.toml's own [paths] (no VIGIE_CONFIG, no check): what `vigie --help` calls the defaults."""
    with open(PACKAGE_DIR / "settings.toml", "rb") as fh:
        return _typed_section(PathsSettings, tomllib.load(fh).get("paths"), "paths")


def read_toml_settings(env: Mapping[str, str]) -> dict:
    with open(PACKAGE_DIR / "settings.toml", "rb") as fh:
        defaults = tomllib.load(fh)
    settings = defaults
    extra = env.get("VIGIE_CONFIG")
    if extra:
        path = Path(extra)
        try:
            override = _parse_toml(path)
        except (FileNotFoundError, NotADirectoryError):
            raise UsageError(
                f"Le fichier de configuration {path} (VIGIE_CONFIG) est introuvable."
            ) from None
        except IsADirectoryError:
            raise UsageError(f"VIGIE_CONFIG désigne un dossier ({path}) : un fichier TOML est attendu.") from None
        except OSError as exc:
            raise UsageError(f"Le fichier de configuration {path} (VIGIE_CONFIG) ne peut pas être lu : "
                             f"{exc.strerror}.") from None
        _check_types(override, defaults, "", path)
        settings = _merge(settings, override)
    _check_values(settings)
    return settings


# tomllib's messages, as the user reads them.
_TOML_FR = [
    ("Expected ']' at the end of a table declaration", "« ] » manque à la fin de l'en-tête de section"),
    ("Expected ']]' at the end of an array declaration", "« ]] » manque à la fin de l'en-tête de tableau"),
    ("Expected '=' after a key in a key/value pair", "« = » attendu après le nom du réglage"),
    ("Invalid value", "valeur invalide (un texte s'écrit entre guillemets)"),
    ("Cannot overwrite a value", "réglage donné deux fois"),
    ("Cannot declare", "section déclarée deux fois"),
    ("Unterminated string", "texte sans guillemet fermant"),
    ("Invalid statement", "ligne qui n'est ni une section ni un réglage « nom = valeur »"),
    ("Expected newline or end of document after a statement", "une seule instruction par ligne"),
]


def _parse_toml(path: Path) -> dict:
    """The user's TOML file; its faults said in French with line and column (UsageError)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UsageError(f"Le fichier de configuration {path} (VIGIE_CONFIG) n'est pas encodé en UTF-8 (octet "
                         f"illisible 0x{data[exc.start]:02x} à la ligne {line}) : réenregistrez-le en UTF-8.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        place = (f"à la ligne {where[1]}, colonne {where[2]}" if where
                 else "à la fin du fichier" if "end of document" in message else "")
        what = next((fr for en, fr in _TOML_FR if message.startswith(en)), "syntaxe TOML invalide")
        quoted = ""
        if where and 0 < int(where[1]) <= len(text.splitlines()):
            quoted = f" (« {text.splitlines()[int(where[1]) - 1].strip()[:80]} »)"
        raise UsageError(f"Le fichier de configuration {path} (VIGIE_CONFIG) n'est pas du TOML valide {place}{quoted} : "
                         f"{what}.") from None


# ---------------------------------------------------------------- validation
# Every value is checked when read: a wrong one is a French usage error (exit 2) naming
# the setting, never an internal error later in the run.

# Numbers that must be strictly positive (the others must not be negative).
_POSITIVE = ("attempts", "timeout", "max_", "backoff_seconds", "header_search_rows")
# Upper bounds where one exists.
_AT_MOST = {"resolution.startup_fuzzy_threshold": 100, "resolution.holder_fuzzy_threshold": 100,
            "resolution.buyer_fuzzy_threshold": 100, "resolution.startup_fuzzy_margin": 100,
            "http.attempts": 20, "inbox.settle_seconds": 60, "inbox.workers": 64}
DURATIONS = ("_seconds", "_hours")
_TYPE_FR = {bool: "vrai ou faux (true / false)", int: "un nombre entier", float: "un nombre",
            str: "un texte entre guillemets", list: "une liste [ … ]", dict: "une section [ … ]"}


def _kind(value) -> type:
    for kind in (bool, int, float, str, list, dict):
        if isinstance(value, kind):
            return kind
    return type(value)


def _check_types(override: Mapping, defaults: Mapping, prefix: str, path: Path) -> None:
    """Each key of the user's file must exist in settings.toml, with the same type."""
    for key, value in override.items():
        name = f"{prefix}{key}"
        if key not in defaults:
            known = ", ".join(sorted(defaults)) if isinstance(defaults, Mapping) else ""
            raise UsageError(f"Réglage inconnu « {name} » dans {path} (VIGIE_CONFIG) : réglages possibles à cet "
                             f"endroit : {known}.")
        expected, got = _kind(defaults[key]), _kind(value)
        # A duration may have a fraction even when its default has none (1.5 s).
        if (expected is float and got is int) or (expected is int and got is float and key.endswith(DURATIONS)):
            continue
        if expected is not got:
            raise UsageError(f"Le réglage « {name} » ({path}, VIGIE_CONFIG) doit être {_TYPE_FR.get(expected, '?')}, "
                             f"reçu « {value} ».")
        if expected is dict:
            _check_types(value, defaults[key], name + ".", path)
        elif expected is list and defaults[key]:
            item = _kind(defaults[key][0])
            if any(_kind(v) is not item for v in value):
                raise UsageError(f"Le réglage « {name} » ({path}, VIGIE_CONFIG) doit être une liste de "
                                 f"{_TYPE_FR.get(item, '?')}.")


def _numbers(node: Mapping, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, Mapping):
            yield from _numbers(value, f"{prefix}{key}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield f"{prefix}{key}", key, value


def _check_values(settings: Mapping) -> None:
    for name, key, value in _numbers(settings):
        if value != value or value in (float("inf"), float("-inf")):
            raise UsageError(f"Le réglage « {name} » doit être un nombre fini, reçu « {value} ».")
        if any(part in key for part in _POSITIVE) and value <= 0:
            raise UsageError(f"Le réglage « {name} » doit être strictement positif, reçu « {value} ».")
        if value < 0:
            raise UsageError(f"Le réglage « {name} » ne peut pas être négatif, reçu « {value} ».")
        if name in _AT_MOST and value > _AT_MOST[name]:
            raise UsageError(f"Le réglage « {name} » doit valoir au plus {_AT_MOST[name]}, reçu « {value} ».")


def _check_sections(sections: Mapping) -> None:
    """What a type does not say: a known time zone, valid cron lines, usable paths."""
    schedule = sections["schedule"]
    try:
        tz = ZoneInfo(schedule.timezone)
    except (ValueError, KeyError, OSError):
        raise UsageError(f"Le réglage « schedule.timezone » n'est pas un fuseau horaire connu "
                         f"(ex. Europe/Paris), reçu « {schedule.timezone} ».") from None
    for key in ("daily_run", "monthly_report"):
        _check_cron(f"schedule.{key}", getattr(schedule, key), tz)
    reports = Path(schedule.reports_dir).expanduser()
    _check_writable_dir("schedule.reports_dir", reports)
    ca_file = sections["alerts"].smtp_ca_file
    if ca_file and not Path(ca_file).expanduser().is_file():
        raise UsageError(f"Le réglage « alerts.smtp_ca_file » désigne « {ca_file} », qui n'est pas un fichier.")


def _check_cron(name: str, expression: str, tz) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=tz)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"Le réglage « {name} » n'est pas une expression cron valide (5 champs : minute heure "
                         f"jour mois jour-de-semaine, ex. « 30 6 * * * »), reçu « {expression} » ({exc}).") from None


def _check_writable_dir(name: str, folder: Path, writable: bool = True) -> None:
    """A folder Vigie will write into: a file in its place, or an existing folder it
    cannot write (when `writable`), is an error now rather than at the end of a run."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(f"{name} : « {probe} » est un fichier, pas un dossier : Vigie ne pourra pas y écrire.")
    if writable and folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{name} : le dossier « {folder} » n'est pas accessible en écriture.")


def _check_paths(db: Path, inbox: Path, env: Mapping[str, str], apis: Mapping[str, str]) -> None:
    if db.is_dir():
        raise UsageError(f"VIGIE_DB (ou --db) désigne un dossier ({db}) : indiquez le fichier de l'entrepôt, "
                         "par exemple data/vigie.duckdb.")
    _check_writable_dir("VIGIE_DB (ou --db)", db.parent, writable=False)  # reading needs no write
    if inbox.exists() and not inbox.is_dir():
        raise UsageError(f"VIGIE_INBOX (ou --inbox) désigne un fichier ({inbox}) : un dossier est attendu.")
    for name, value in apis.items():
        _check_api(name, value)
    for folder in filter(None, env.get("VIGIE_AGREEMENTS_DIR", "").split(os.pathsep)):
        if not Path(folder).is_dir():
            raise UsageError(f"VIGIE_AGREEMENTS_DIR : « {folder} » n'est pas un dossier.")
    for address in filter(None, (a.strip() for a in env.get("VIGIE_ALERT_TO", "").replace(";", ",").split(","))):
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
            raise UsageError(f"VIGIE_ALERT_TO : « {address} » n'est pas une adresse électronique.")


# ---------------------------------------------------------------- typed sections
# One frozen dataclass per section of settings.toml, with no default of its own: the
# file holds every value, and a key it lacks or of another type stops the run (exit 2).
# Durations and thresholds are `float` (an `int` from the file is a valid float).

@dataclass(frozen=True)
class PathsSettings:
    db: str
    inbox: str
    notebook_db: str
    demo_dir: str


@dataclass(frozen=True)
class ApisSettings:
    betagouv: str
    datagouv: str


@dataclass(frozen=True)
class ScheduleSettings:
    timezone: str
    daily_run: str
    monthly_report: str
    misfire_grace_seconds: float
    reports_dir: str


@dataclass(frozen=True)
class SourceSettings:
    label: str
    max_age_hours: float


@dataclass(frozen=True)
class SourcesSettings:
    betagouv: SourceSettings
    datagouv: SourceSettings
    orders: SourceSettings

    def items(self) -> list[tuple[str, SourceSettings]]:
        """(source, its settings), sorted by source."""
        return sorted((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))


@dataclass(frozen=True)
class WarehouseSettings:
    lock_wait_seconds: float


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout_seconds: float
    read_timeout_seconds: float
    total_timeout_seconds: float
    attempts: int
    backoff_seconds: float
    max_response_bytes: int
    max_download_bytes: int
    max_json_depth: int
    user_agent: str


@dataclass(frozen=True)
class AlertsSettings:
    total_timeout_seconds: float
    smtp_timeout_seconds: float
    webhook_timeout_seconds: float
    smtp_ca_file: str
    mot_de_passe_smtp_en_clair: bool


@dataclass(frozen=True)
class DatagouvSettings:
    decp_dataset: str
    decp_resource_ids: tuple[str, ...]
    decp_resources: tuple[str, ...]


@dataclass(frozen=True)
class ResolutionSettings:
    startup_fuzzy_threshold: float
    startup_fuzzy_margin: float
    holder_fuzzy_threshold: float
    buyer_fuzzy_threshold: float


@dataclass(frozen=True)
class InboxSettings:
    max_file_bytes: int
    max_unzipped_bytes: int
    max_columns: int
    max_cell_chars: int
    header_search_rows: int
    max_amount_ht: float
    settle_seconds: float
    min_file_age_seconds: float
    workers: int


SECTIONS = {"paths": PathsSettings, "apis": ApisSettings, "schedule": ScheduleSettings, "sources": SourcesSettings,
            "warehouse": WarehouseSettings, "http": HttpSettings, "alerts": AlertsSettings,
            "datagouv": DatagouvSettings, "resolution": ResolutionSettings, "inbox": InboxSettings}


def _typed_value(kind, value, name: str):
    """`value` as the dataclass field of type `kind` expects it (UsageError otherwise)."""
    if dataclasses.is_dataclass(kind):
        return _typed_section(kind, value, name)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is float:
        ok, label = number, _TYPE_FR[float]
    elif kind is int:
        ok, label = number and isinstance(value, int), _TYPE_FR[int]
    elif kind == tuple[str, ...]:
        ok, label = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value), "une liste de textes"
        value = tuple(value) if ok else value
    else:
        ok, label = isinstance(value, kind), _TYPE_FR.get(kind, "?")
    if not ok:
        raise UsageError(f"Le réglage « {name} » (settings.toml) doit être {label}, reçu « {value} ».")
    return value


def _typed_section(cls, node, name: str):
    if node is None:
        raise UsageError(f"La section « [{name}] » manque dans settings.toml.")
    if not isinstance(node, Mapping):
        raise UsageError(f"Le réglage « {name} » (settings.toml) doit être {_TYPE_FR[dict]}, reçu « {node} ».")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(node) - set(hints))
    if unknown:
        raise UsageError(f"Réglage inconnu « {name}.{unknown[0]} » dans settings.toml : réglages possibles à cet "
                         f"endroit : {', '.join(sorted(hints))}.")
    missing = [key for key in hints if key not in node]
    if missing:
        raise UsageError(f"Le réglage « {name}.{missing[0]} » manque dans settings.toml.")
    return cls(**{key: _typed_value(kind, node[key], f"{name}.{key}") for key, kind in hints.items()})


def typed_sections(toml: Mapping) -> dict:
    """The merged TOML as {section name: frozen dataclass}, checked against the classes above."""
    unknown = sorted(set(toml) - set(SECTIONS))
    if unknown:
        raise UsageError(f"Section inconnue « [{unknown[0]}] » dans settings.toml : sections possibles : "
                         f"{', '.join(sorted(SECTIONS))}.")
    return {name: _typed_section(cls, toml.get(name), name) for name, cls in SECTIONS.items()}


def _check_api(name: str, value: str) -> None:
    """An API's address, or a local copy of it (the demo's snapshot)."""
    try:
        parsed = urlsplit(value)
        host = parsed.hostname
    except ValueError:
        parsed, host = None, None
    if parsed is not None and parsed.scheme in ("http", "https") and host:
        return
    if parsed is not None and not parsed.scheme and Path(value).expanduser().is_dir():
        return
    raise UsageError(f"{name} doit être une adresse http(s)://… ou un dossier local existant, reçu "
                     f"« {secrets.redact(value)} ».")


def parse_now(value: str) -> datetime:
    """VIGIE_NOW pins the clock (reproducible runs and tests); naive means Paris time."""
    try:
        moment = datetime.fromisoformat(value.strip())
        moment = moment if moment.tzinfo else moment.replace(tzinfo=PARIS)
        moment.astimezone(PARIS)  # an offset that cannot be placed on the calendar
    except (ValueError, OverflowError):
        raise UsageError(
            f"VIGIE_NOW doit être une date ISO (ex. 2026-11-24T09:00:00), reçu « {value} »."
        ) from None
    if not 2000 <= moment.year <= 2100:
        raise UsageError(f"VIGIE_NOW doit être une date entre 2000 et 2100, reçu « {value} ».")
    return moment


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
    # settings.toml (merged with VIGIE_CONFIG), one typed section each
    paths: PathsSettings
    apis: ApisSettings
    schedule: ScheduleSettings
    sources: SourcesSettings
    warehouse: WarehouseSettings
    http: HttpSettings
    alerts: AlertsSettings
    datagouv: DatagouvSettings
    resolution: ResolutionSettings
    inbox_limits: InboxSettings
    # the environment
    smtp_url: str | None = None
    alert_to: tuple[str, ...] = ()
    alert_from: str | None = None  # VIGIE_ALERT_FROM; the channel picks one from the SMTP URL otherwise
    webhook_url: str | None = None
    agreements_dirs: tuple[Path, ...] = ()
    fixed_now: datetime | None = None
    offline: bool = False
    inbox_given: bool = False  # --inbox or VIGIE_INBOX, rather than the default data/inbox
    trigger: str = MANUAL_TRIGGER  # VIGIE_TRIGGER: who started the run

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

    @property
    def toml(self) -> dict:
        """Every section as plain data, as in settings.toml (what a signature digests)."""
        return {name: dataclasses.asdict(self._section_object(name)) for name in SECTIONS}

    def _section_object(self, name: str):
        return self.inbox_limits if name == "inbox" else getattr(self, name)


def _from_env(env: Mapping[str, str], option, name: str, default: str) -> str:
    """A command-line option, else the environment variable, else settings.toml's value."""
    if option not in (None, ""):
        return str(option)
    return env.get(name) or default


def load_settings(
    db: str | os.PathLike | None = None,
    inbox: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    offline: bool = False,
) -> Settings:
    env = os.environ if env is None else env
    agreements_dirs = [PACKAGE_DIR / "agreements"]
    # VIGIE_AGREEMENTS_DIR adds agreement files (a file with a known id replaces it).
    for extra in filter(None, env.get("VIGIE_AGREEMENTS_DIR", "").split(os.pathsep)):
        agreements_dirs.append(Path(extra))

    alert_to = tuple(
        a.strip() for a in env.get("VIGIE_ALERT_TO", "").replace(";", ",").split(",") if a.strip()
    )
    fixed_now = parse_now(env["VIGIE_NOW"]) if env.get("VIGIE_NOW") else None
    remember_secrets(env)
    sections = read_sections(env)
    paths, apis = sections["paths"], sections["apis"]
    db_path = Path(_from_env(env, db, "VIGIE_DB", paths.db)).expanduser().absolute()
    inbox_path = Path(_from_env(env, inbox, "VIGIE_INBOX", paths.inbox)).expanduser().absolute()
    betagouv_api = _from_env(env, None, "VIGIE_BETAGOUV_API", apis.betagouv)
    datagouv_api = _from_env(env, None, "VIGIE_DATAGOUV_API", apis.datagouv)
    _check_paths(db_path, inbox_path, env, {
        "VIGIE_BETAGOUV_API" if env.get("VIGIE_BETAGOUV_API") else "Le réglage « apis.betagouv »": betagouv_api,
        "VIGIE_DATAGOUV_API" if env.get("VIGIE_DATAGOUV_API") else "Le réglage « apis.datagouv »": datagouv_api,
    })
    sections["inbox_limits"] = sections.pop("inbox")
    return Settings(
        db_path=db_path,
        inbox=inbox_path,
        betagouv_api=betagouv_api.rstrip("/"),
        datagouv_api=datagouv_api.rstrip("/"),
        **sections,
        smtp_url=env.get("VIGIE_SMTP_URL") or None,
        alert_to=alert_to,
        alert_from=env.get("VIGIE_ALERT_FROM") or None,
        webhook_url=env.get("VIGIE_WEBHOOK_URL") or None,
        agreements_dirs=tuple(agreements_dirs),
        fixed_now=fixed_now,
        offline=offline,
        inbox_given=inbox not in (None, "") or bool(env.get("VIGIE_INBOX")),
        trigger=env.get("VIGIE_TRIGGER") or MANUAL_TRIGGER,
    )


def command_hint(settings: Settings, command: str, env: Mapping[str, str] | None = None) -> str:
    """« vigie status » as the user must type it to reach this warehouse: with --db when
    a plain `vigie` would open another one (the demo's, or one given with --db)."""
    env = os.environ if env is None else env
    plain = Path(env.get("VIGIE_DB") or settings.paths.db).expanduser().absolute()
    if plain == settings.db_path:
        return f"vigie {command}"
    try:
        shown = settings.db_path.relative_to(Path.cwd())
    except ValueError:
        shown = settings.db_path
    return f"vigie {command} --db {shown}"


def reviewer(by: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Who reviews or teaches: --by, else VIGIE_REVIEWER, else the system user."""
    env = os.environ if env is None else env
    name = (by or "").strip() or env.get("VIGIE_REVIEWER", "").strip()
    if name:
        return name
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return env.get("USER") or env.get("USERNAME") or "utilisateur inconnu"


# ---------------------------------------------------------------- the environment elsewhere
# Knobs read outside a command's Settings (before they exist, or in code called without
# them): still read here, so that no other module touches the environment.

def debug_enabled(env: Mapping[str, str] | None = None) -> bool:
    """VIGIE_DEBUG: an internal error prints its traceback."""
    env = os.environ if env is None else env
    return bool(env.get("VIGIE_DEBUG"))


def chromium_override(env: Mapping[str, str] | None = None) -> str | None:
    """VIGIE_CHROMIUM: the Chromium that prints the PDF, rather than the first on PATH."""
    env = os.environ if env is None else env
    return env.get("VIGIE_CHROMIUM") or None


def expectations_dir(env: Mapping[str, str] | None = None) -> Path:
    """The Great Expectations suites: VIGIE_EXPECTATIONS, else those shipped with the package
    (the repository's expectations/ folder, package data `pipelines.expectations`)."""
    env = os.environ if env is None else env
    if env.get("VIGIE_EXPECTATIONS"):
        return Path(env["VIGIE_EXPECTATIONS"])
    return PACKAGE_DIR / "expectations"


def notebook_db(env: Mapping[str, str] | None = None) -> Path:
    """The warehouse a notebook opens: VIGIE_DB, else settings.toml's paths.notebook_db."""
    env = os.environ if env is None else env
    return Path(env.get("VIGIE_DB") or read_sections(env)["paths"].notebook_db)


def demo_db(env: Mapping[str, str] | None = None) -> Path:
    """The warehouse `vigie demo` writes without --db: in settings.toml's paths.demo_dir."""
    env = os.environ if env is None else env
    return Path(read_sections(env)["paths"].demo_dir) / "vigie.duckdb"


def child_environment(**overrides: str) -> dict[str, str]:
    """The environment of a child process (the scheduler's `vigie`, Chromium): ours, changed."""
    return {**os.environ, **overrides}


def quiet_great_expectations() -> None:
    """Great Expectations never phones home (unless the user set it otherwise)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
