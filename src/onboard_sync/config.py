"""config.toml and secrets: load, validate and resolve paths, with errors that name file:line.

Layout of config.toml::

    [onboard_sync]            # core settings (all optional)
    store = "sqlite:///onboard-sync.db"
    rules = "rules"           # a rules .toml file or a directory of them
    mappings = "mappings"     # directory of <instance>.toml mapping files
    timezone = "UTC"          # due dates, days and dates shown to people (calendar_config)
    due_time = "17:00"        # local time day-based tasks are due
    business_days = false     # true: due dates move off weekends and holidays
    holidays = { country = "US", subdivision = "CA" }
    catch_up = "adopt"        # or "replay" (onboarding.catchup)
    lookback_minutes = 10
    onboard_won_since = 2026-11-01   # optional: older won deals get no onboarding
    secrets_file = ".env"     # optional dotenv file with secrets

    [owners]                  # task owner roles (see defaults.resolve_owner)
    csm = ["cs.one@example.com", "cs.two@example.com"]

    [connectors.hubspot]      # one table per connector instance; `type` picks the plugin
    type = "hubspot"
    token_env = "HUBSPOT_TOKEN"

    [serve]                   # `onboard-sync serve` (see serve_config.ServeSettings)
    full_sync_every_minutes = 15

Environment overrides (``config_env.EnvOverrides``): ``ONBOARD_SYNC_CONFIG`` (path of config.toml),
``ONBOARD_SYNC_STORE`` (store URL) and ``ONBOARD_SYNC_SECRETS_FILE``. Secrets are read from
the environment, overlaid on the secrets file; they are never part of config.toml.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from onboard_sync.calendar_config import ScheduleSettings
from onboard_sync.config_env import EnvOverrides, load_secrets
from onboard_sync.connector import ConnectorSettings
from onboard_sync.errors import ConfigError
from onboard_sync.serve_config import ServeSettings
from onboard_sync.tomlfile import TomlDocument, pydantic_error, read_toml


class CoreSettings(ScheduleSettings):
    """The ``[onboard_sync]`` table (dates and catch-up: ``calendar_config.ScheduleSettings``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    store: str = Field("sqlite:///onboard-sync.db", description="SQLAlchemy URL of the state store.")
    rules: str = Field("rules", description="Playbook rules: a .toml file or a directory of them.")
    mappings: str = Field("mappings", description="Directory of field-mapping files.")
    lookback_minutes: int = Field(10, ge=0, le=24 * 60, description="Overlap of incremental pulls.")
    chunk_size: int = Field(
        1000, ge=1, le=100_000, description="Deals evaluated, planned and applied at a time (bounds a run's memory)."
    )
    onboard_won_since: date | None = Field(
        None,
        description="Won deals whose close date (its day in UTC, as CRMs store close dates) is before "
        "this day get no onboarding; onboardings that exist go on. Unset: every won deal.",
    )
    deleted_check_hours: int = Field(
        24,
        ge=0,
        le=24 * 31,
        description="How often a sync reads the open onboardings' deals by id to find deleted ones; 0: never.",
    )
    secrets_file: str | None = Field(None, description="Optional dotenv file holding secrets.")

    @field_validator("onboard_won_since", mode="before")
    @classmethod
    def _a_day(cls, value: object) -> object:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date | None):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return date.fromisoformat(value.strip())
        raise ValueError(f"expected a day such as 2026-11-01, got {value!r}")

    def deleted_check_every(self) -> timedelta | None:
        """``deleted_check_hours`` as a timedelta (``None``: never)."""
        return timedelta(hours=self.deleted_check_hours) if self.deleted_check_hours else None

    def won_too_early(self, close_date: datetime | None) -> bool:
        """Whether a won deal closed on ``close_date`` is older than ``onboard_won_since`` (a deal
        without a close date is not: nothing says it is old)."""
        if self.onboard_won_since is None or close_date is None:
            return False
        return close_date.astimezone(UTC).date() < self.onboard_won_since


class ConfigFile(BaseModel):
    """The whole config.toml (connector tables are validated by each connector's model)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    onboard_sync: CoreSettings = CoreSettings()
    owners: dict[str, str | list[str]] = {}
    connectors: dict[str, dict[str, Any]] = {}
    serve: ServeSettings = ServeSettings()


@dataclass
class AppConfig:
    """A loaded, validated configuration with paths resolved against the config's folder."""

    path: Path | None
    base_dir: Path
    core: CoreSettings
    owners: dict[str, str | list[str]]
    connectors: dict[str, ConnectorSettings]
    store_url: str
    document: TomlDocument | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    serve: ServeSettings = field(default_factory=ServeSettings)
    store_where: str = ""
    """Where ``store_url`` was set, for errors: ``config.toml:LINE (onboard_sync.store)`` or ``ONBOARD_SYNC_STORE``."""
    secrets_file: Path | None = None
    """The dotenv file the secrets were read from (``None``: the environment alone)."""

    @property
    def rules_path(self) -> Path:
        return self._resolve(self.core.rules)

    @property
    def mappings_dir(self) -> Path:
        return self._resolve(self.core.mappings)

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def where(self, *key_path: str | int) -> str:
        """``config.toml:LINE (key.path)`` for error messages."""
        return self.document.where(key_path) if self.document else ".".join(map(str, key_path))

    def secret_names(self) -> set[str]:
        """The environment variables holding secrets: the value of each ``*_env`` key of a connector
        or webhook route."""
        return {
            value
            for model in (*self.connectors.values(), *self.serve.webhooks.values())
            for key, value in model.model_dump().items()
            if key.endswith("_env") and isinstance(value, str)
        }

    def secret_values(self) -> set[str]:
        """Every secret this config can reach, for the logs to scrub: the values of the environment
        variables its settings name (each ``*_env`` key of a connector or webhook route) and the
        store URL's password."""
        values = {self.secrets[name] for name in self.secret_names() if self.secrets.get(name)}
        if "@" in self.store_url:  # no "@": no password (a SQLite path), and no SQLAlchemy to import
            with contextlib.suppress(Exception):  # an unparseable URL has no password to find
                from sqlalchemy.engine import make_url

                values.add(make_url(self.store_url).password or "")
        return values - {""}


def resolve_store_url(url: str, base_dir: Path) -> str:
    """Make a relative SQLite path relative to the config's folder (not the cwd of cron)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:" and not rest.startswith("file:"):
            return prefix + str((base_dir / rest).resolve())
    return url


def load_config(path: Path | None = None) -> AppConfig:
    """Load and validate config.toml (and each connector table with its plugin's model)."""
    from onboard_sync.plugins import connector_type  # the plugin manager imports config-free modules

    overrides = EnvOverrides.from_environment()
    path = overrides.config_file(path)
    if not path.exists():
        raise ConfigError(
            "no config file here; run `onboard-sync init` to write a starter set, or pass --config PATH",
            where=str(path),
        )
    doc = read_toml(path)
    try:
        parsed = ConfigFile.model_validate(doc.data)
    except ValidationError as exc:
        raise pydantic_error(doc, exc, model=ConfigFile) from None

    connectors: dict[str, ConnectorSettings] = {}
    for name, table in parsed.connectors.items():
        type_name = table.get("type")
        if not isinstance(type_name, str):
            raise doc.error(("connectors", name), "missing required key 'type' (e.g. type = \"hubspot\")")
        ctype = connector_type(type_name, where=doc.where(("connectors", name, "type")))
        try:
            connectors[name] = ctype.cls.settings_model.model_validate(table)
        except ValidationError as exc:
            raise pydantic_error(doc, exc, prefix=("connectors", name), model=ctype.cls.settings_model) from None

    base_dir = path.resolve().parent
    secrets_file = overrides.secrets_file or (
        base_dir / parsed.onboard_sync.secrets_file if parsed.onboard_sync.secrets_file else None
    )
    store_url = resolve_store_url(overrides.store or parsed.onboard_sync.store, base_dir)
    return AppConfig(
        path=path,
        base_dir=base_dir,
        core=parsed.onboard_sync,
        owners=parsed.owners,
        connectors=connectors,
        store_url=store_url,
        document=doc,
        secrets=load_secrets(secrets_file),
        serve=parsed.serve,
        store_where="ONBOARD_SYNC_STORE" if overrides.store else doc.where(("onboard_sync", "store")),
        secrets_file=secrets_file,
    )
