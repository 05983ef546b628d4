"""`onboard-sync store upgrade`: the command the read-only commands' error names exists and does
what it says (a store behind this version's schema is brought to head; at head it writes nothing)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cli_run import clean_env, run_cli, user_error

from onboard_sync.cli.demo import write_demo_config
from onboard_sync.store import Store


def test_store_upgrade_brings_a_store_to_head_then_writes_nothing(tmp_path: Path) -> None:
    write_demo_config(tmp_path, "http://127.0.0.1:9")
    store = tmp_path / "state.db"
    store.write_bytes(b"")  # a database with no schema yet: revision none
    env = clean_env({"ONBOARD_SYNC_STORE": f"sqlite:///{store}", "HUBSPOT_TOKEN": "unused"})
    config = tmp_path / "config.toml"
    refused = user_error(run_cli("status", "--config", config, env=env))
    assert "run `onboard-sync sync` or `onboard-sync store upgrade` first" in refused

    first = run_cli("store", "upgrade", "--config", config, env=env)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"sqlite:///{store}: schema revision none -> {Store.head_revision()}"
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    again = run_cli("store", "upgrade", "--config", config, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"sqlite:///{store}: already at schema revision {Store.head_revision()}"
    assert hashlib.sha256(store.read_bytes()).hexdigest() == digest
    assert run_cli("status", "--config", config, env=env).returncode == 0
