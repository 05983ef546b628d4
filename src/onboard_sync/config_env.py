"""What the environment says about the configuration: the ``ONBOARD_SYNC_*`` overrides, which
config.toml to read, and the secrets (a dotenv file overlaid by the process environment).

Kept apart from :mod:`onboard_sync.config` (pydantic models) so that ``status`` can tell which
configuration it is asked about, and read its secrets, without importing pydantic. Used by
``config.load_config`` and ``status_settings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from onboard_sync.errors import ConfigError

ENV_PREFIX = "ONBOARD_SYNC_"


@dataclass(frozen=True)
class EnvOverrides:
    """Settings taken from the environment: ``ONBOARD_SYNC_CONFIG``, ``ONBOARD_SYNC_STORE`` and
    ``ONBOARD_SYNC_SECRETS_FILE``, their names in any case (as pydantic-settings read them before).

    Read from ``os.environ`` directly: three strings did not need pydantic-settings, whose import
    (asyncio with it) cost every command's start ~35 ms."""

    config: Path | None = None
    store: str | None = None
    secrets_file: Path | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> EnvOverrides:
        found = {name.upper(): value for name, value in environ.items() if name.upper().startswith(ENV_PREFIX)}
        config = found.get(f"{ENV_PREFIX}CONFIG")
        secrets_file = found.get(f"{ENV_PREFIX}SECRETS_FILE")
        return cls(
            config=Path(config) if config is not None else None,
            store=found.get(f"{ENV_PREFIX}STORE"),
            secrets_file=Path(secrets_file) if secrets_file is not None else None,
        )

    def config_file(self, given: Path | None) -> Path:
        """The config.toml to read: the one ``--config`` gives, else ``ONBOARD_SYNC_CONFIG``, else
        ``config.toml`` in the current folder."""
        return given or self.config or Path("config.toml")


def load_secrets(secrets_file: Path | None) -> dict[str, str]:
    """Secrets: the dotenv file (if any) overlaid by the process environment."""
    values: dict[str, str] = {}
    if secrets_file is not None:
        if not secrets_file.exists():
            raise ConfigError("secrets file not found", where=str(secrets_file))
        from dotenv import dotenv_values  # only with a secrets file

        values.update({k: v for k, v in dotenv_values(secrets_file).items() if v is not None})
    values.update(os.environ)
    return values
