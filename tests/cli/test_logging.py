"""Logs for a log collector: `--log-format json` (or ONBOARD_SYNC_LOG_FORMAT=json) writes one JSON object
per stderr line, one INFO line per run with its counts, API calls, duration and exit status; no secret
ever appears, whatever the level."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_run import assert_no_secret, clean_env, run_cli

from onboard_sync import logs
from onboard_sync.cli.demo import TOKEN_ENV
from onboard_sync.runtime import load_runtime
from onboard_sync.store import Store


def json_lines(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line parsed as JSON (fails on a line that is not)."""
    out = []
    for line in stderr.splitlines():
        if line.startswith("error: "):  # the CLI's one-line error is for people, not a log line
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    return out


def run_lines(stderr: str, command: str = "sync") -> list[dict[str, Any]]:
    return [e for e in json_lines(stderr) if e.get("event") == f"{command}.finished"]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_sync_writes_one_json_info_line_with_its_counts(sandbox_project: Any, hubspot_sandbox: Any, how: str) -> None:
    sandbox_project.setup_crm()
    env = {TOKEN_ENV: hubspot_sandbox.token}
    args: list[str | Path] = ["sync", "--json", "--config", sandbox_project.config_path]
    if how == "option":
        args = ["--log-format", "json", *args]
    else:
        env["ONBOARD_SYNC_LOG_FORMAT"] = "json"

    result = run_cli(*args, env=clean_env(env))

    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    [line] = run_lines(result.stderr)
    assert line["level"] == "INFO"
    assert line["status"] == "ok"
    assert line["exit_code"] == 0
    assert line["writes"] == report["writes"]
    assert line["writes"]["created"] > 0, "the first sync creates handoff tasks"
    assert line["api_calls"] == report["api_calls"]["total"]
    assert line["run_id"] == report["run_id"]
    assert 0 < line["duration_s"] <= report["duration_s"] + 0.01
    hubspot = line["connectors"]["hubspot"]
    assert hubspot["created"] == report["connectors"]["hubspot"]["writes"]["created"]
    assert hubspot["deals_pulled"] == report["connectors"]["hubspot"]["deals_pulled"]
    assert hubspot["error"] is None
    assert line["message"].startswith("sync ok (exit 0) in ")
    assert_no_secret(result, hubspot_sandbox.token)


def test_text_logs_stay_quiet_by_default_and_say_the_run_at_info(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    sandbox_project.setup_crm()
    quiet = run_cli("sync", "--config", sandbox_project.config_path, env=clean_env({TOKEN_ENV: hubspot_sandbox.token}))
    info = run_cli(
        "--log-level",
        "INFO",
        "sync",
        "--config",
        sandbox_project.config_path,
        env=clean_env({TOKEN_ENV: hubspot_sandbox.token}),
    )

    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "", "cron mails whatever a run prints on stderr"
    assert info.returncode == 0, info.stderr
    [line] = [line for line in info.stderr.splitlines() if " INFO onboard_sync.run: " in line]
    assert "sync ok (exit 0) in " in line
    assert "hubspot: " in line
    assert " created, " in line


def test_a_sync_refused_by_the_lock_logs_exit_2(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    url = load_runtime(sandbox_project.config_path).config.store_url
    with Store.open(url) as store, store.run_lock("sync"):
        result = run_cli(
            "--log-format",
            "json",
            "sync",
            "--config",
            sandbox_project.config_path,
            env=clean_env({TOKEN_ENV: hubspot_sandbox.token}),
        )

    assert result.returncode == 2
    [line] = run_lines(result.stderr)
    assert line["status"] == "error"
    assert line["exit_code"] == 2
    assert "holds the 'sync' lock" in line["error"]
    assert result.stderr.splitlines()[-1].startswith("error: "), "people still get the one-line error"


def test_debug_json_logs_never_contain_the_token(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    sandbox_project.setup_crm()
    result = run_cli(
        "--log-format",
        "json",
        "--log-level",
        "DEBUG",
        "sync",
        "--config",
        sandbox_project.config_path,
        env=clean_env({TOKEN_ENV: hubspot_sandbox.token}),
    )

    assert result.returncode == 0, result.stderr[-2000:]
    lines = json_lines(result.stderr)
    assert any(e["level"] == "DEBUG" for e in lines), "DEBUG logging was not on: the check below would prove nothing"
    assert len(run_lines(result.stderr)) == 1
    assert_no_secret(result, hubspot_sandbox.token)


def test_a_bad_log_format_is_named_and_the_command_still_runs(tmp_path: Path) -> None:
    result = run_cli("connectors", "--json", env=clean_env({"ONBOARD_SYNC_LOG_FORMAT": "xml"}))

    assert result.returncode == 0
    assert result.stderr == "onboard-sync: ignoring log format 'xml' (ONBOARD_SYNC_LOG_FORMAT): use text or json\n"
    assert json.loads(result.stdout)


# -- the formatters scrub secrets -----------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, ours = logging.getLogger(), logging.getLogger("onboard_sync")
    handlers, levels = list(root.handlers), (root.level, ours.level)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(levels[0])
        ours.setLevel(levels[1])


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_protected_value_is_scrubbed_from_messages_and_tracebacks(
    log_format: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    monkeypatch.delenv("ONBOARD_SYNC_LOG_FORMAT", raising=False)
    monkeypatch.delenv("ONBOARD_SYNC_LOG_LEVEL", raising=False)
    secret = "pat-na1-0123456789abcdef"
    logs.protect([secret])
    logs.setup_logging(log_format, "INFO")
    log = logging.getLogger("onboard_sync.test")

    log.info("calling with token %s", secret)
    try:
        raise RuntimeError(f"refused: Bearer {secret}")
    except RuntimeError:
        log.exception("a call failed")

    err = capsys.readouterr().err
    assert secret not in err
    assert err.count("***") == 2, err  # the message and the traceback's exception line
    if log_format == "json":
        entries = [json.loads(line) for line in err.splitlines()]
        assert [e["message"] for e in entries] == ["calling with token ***", "a call failed"]
        assert "RuntimeError: refused: Bearer ***" in entries[1]["exception"]


def test_the_runtime_protects_the_secrets_its_config_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from onboard_sync.cli.setup import init

    init(directory=tmp_path, force=False)
    config = tmp_path / "config.toml"
    text = config.read_text(encoding="utf-8").replace(
        'store = "sqlite:///onboard-sync.db"', 'store = "postgresql://sync:db-pass-4242@127.0.0.1:1/x"'
    )
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-na1-secret-token-value")
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "client-secret-value")

    assert load_runtime(config).config.secret_values() == {
        "pat-na1-secret-token-value",
        "client-secret-value",
        "db-pass-4242",
    }
    assert logs.scrub("token pat-na1-secret-token-value, db-pass-4242") == "token ***, ***"
