"""Typer options that several commands share (``--config``, ``--json``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Path of config.toml (default: ./config.toml or $ONBOARD_SYNC_CONFIG)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
