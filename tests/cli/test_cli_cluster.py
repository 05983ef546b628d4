"""`onboard-sync cluster` on the embedded default (a SQLite store no worker ever ran on) says so
and leaves the folder as it was: it only reads, and must not create the engine's database file."""

from __future__ import annotations

from pathlib import Path

from cli_run import clean_env, run_cli

from onboard_sync.cli.demo import write_demo_config
from onboard_sync.store import Store


def test_cluster_on_a_sqlite_store_without_an_engine_reads_only(tmp_path: Path) -> None:
    write_demo_config(tmp_path, "http://127.0.0.1:9")
    store = tmp_path / "state.db"
    with Store.open(f"sqlite:///{store}"):
        pass
    before = sorted(p.name for p in tmp_path.iterdir())
    env = clean_env({"ONBOARD_SYNC_STORE": f"sqlite:///{store}", "COLUMNS": "80"})

    result = run_cli("cluster", "--config", tmp_path / "config.toml", env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["workers: 0 alive", "  none: start one with `onboard-sync worker`"]
    assert "queue: 0 waiting, 0 running" in lines
    assert "no worker has started on this store yet" in result.stdout
    assert max(len(line) for line in lines) <= 80
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "no engine file, nothing else either"
