"""Helpers for the end-to-end tests: the engine against the HubSpot sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from onboard_sync.store import TaskState


def run_cli(
    project: Any, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``onboard-sync ARGS --config <project>`` as a user would, in a child process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "onboard_sync.cli", *args, "--config", str(project.config_path)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def tasks_by_key(sandbox: Any, key_property: str = "onboard_sync_key") -> Counter[str]:
    """How many CRM tasks carry each onboard-sync key (must be 1 each)."""
    return Counter(
        t.properties.get(key_property) for t in sandbox.backend.tasks.values() if t.properties.get(key_property)
    )


def store_fingerprint(folder: Path) -> dict[str, str]:
    """Names and content hashes of every file in the project folder."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def created_tasks(project: Any) -> dict[str, Any]:
    with project.store() as store:
        return {k: t for k, t in store.owned_tasks_for("hubspot").items() if t.state is TaskState.CREATED}


def set_core_keys(config_path: Path, **keys: object) -> None:
    """Put ``keys`` into config.toml's ``[onboard_sync]`` table (strings quoted, dates as TOML dates)."""
    lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {_toml_literal(v)}" for k, v in keys.items()]
    text = config_path.read_text()
    config_path.write_text(text.replace("[onboard_sync]\n", "[onboard_sync]\n" + "".join(f"{x}\n" for x in lines), 1))


def replay_history(config_path: Path) -> None:
    """``catch_up = "replay"``: judge the sandbox's customers, won before the first sync, by their
    history. For tests of alert and health mechanics on seeded history; under the default "adopt"
    those customers' alerts are held after adoption and lateness counts from it (tests/e2e/test_day_one.py)."""
    set_core_keys(config_path, catch_up="replay")


def _toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value)
