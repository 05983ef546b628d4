"""A plugin installed outside onboard-sync adds, through the real CLI, what the built-ins add:

* ``init --connector relaycrm`` writes its starter table and default mapping, and ``validate`` passes;
* ``sandbox relaycrm`` serves its simulator and prints the connector table and the secret it names;
* ``serve`` verifies deliveries with its ``relay-hmac`` scheme (401 when the signature is wrong)
  and the worker reconciles the deal a verified delivery names; ``validate`` knows the scheme.

The plugin (tests/plugins/onboard_everyhook.py) is installed as pip would: a distribution on
PYTHONPATH whose ``entry_points.txt`` names it in the ``onboard_sync`` group.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_run import clean_env, run_cli, user_error
from onboard_everyhook import RelayCrm, relay_signature

PLUGIN_SOURCE = Path(__file__).resolve().parent
SECRET = "relay-secret-7f2c"


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a process in which the plugin is installed."""
    site = tmp_path / "site"
    dist = site / "onboard_everyhook-0.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onboard-everyhook\nVersion: 0.3\n")
    (dist / "entry_points.txt").write_text("[onboard_sync]\neveryhook = onboard_everyhook\n")
    return clean_env({"PYTHONPATH": os.pathsep.join([str(site), str(PLUGIN_SOURCE)]), "PYTHONUNBUFFERED": "1"})


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.05)
    return value


def test_init_writes_the_plugins_starter_table_and_mapping(tmp_path: Path, plugin_env: dict[str, str]) -> None:
    project = tmp_path / "project"

    result = run_cli("init", project, "--connector", "hubspot", "--connector", "relaycrm", env=plugin_env)

    assert result.returncode == 0, result.stderr
    tables = tomllib.loads((project / "config.toml").read_text())["connectors"]
    assert tables["relaycrm"] == {
        "type": "relaycrm",
        "base_url": "http://127.0.0.1:8790",
        "api_key_env": "RELAYCRM_API_KEY",
    }
    assert (project / "mappings" / "relaycrm.toml").read_text() == RelayCrm.default_mapping()
    assert "export HUBSPOT_TOKEN=… RELAYCRM_API_KEY=…" in result.stdout
    validated = run_cli("validate", "--config", project / "config.toml", env=plugin_env)
    assert validated.returncode == 0, validated.stderr


def test_sandbox_serves_the_plugins_simulator(plugin_env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "onboard_sync.cli", "sandbox", "relaycrm", "--port", "0", "--seed", "7"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=plugin_env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
        printed = "".join(lines)
        url = re.search(r"relaycrm sandbox on (http://127\.0\.0\.1:\d+)", printed)
        key = re.search(r"export RELAYCRM_API_KEY=(\S+)", printed)
        assert url, printed
        assert key, printed
        assert f'  base_url = "{url.group(1)}"\n' in lines
        assert "never-printed" not in printed, "only the secrets the table names are printed"
        health = httpx.get(f"{url.group(1)}/v1/health", headers={"X-Api-Key": key.group(1)})
        assert health.json() == {"ok": True, "seed": 7}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _serve_config(project: Any, scheme: str) -> None:
    with project.config_path.open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[serve]\nfull_sync_every_minutes = 0\ncoalesce_seconds = 0.05\nworker = "thread"\n'
            f'[serve.webhooks.hubspot]\nscheme = "{scheme}"\n'
        )


def test_validate_names_the_plugins_scheme(sandbox_project: Any, plugin_env: dict[str, str]) -> None:
    _serve_config(sandbox_project, "relay-hmc")

    error = user_error(run_cli("validate", "--config", sandbox_project.config_path, env=plugin_env))

    assert "unknown webhook scheme 'relay-hmc' (did you mean 'relay-hmac'?)" in error


def test_serve_verifies_deliveries_with_the_plugins_scheme(
    sandbox_project: Any, plugin_env: dict[str, str], tmp_path: Path
) -> None:
    from onboard_sync.cli.demo_crm import TOKEN_ENV

    sandbox_project.setup_crm()
    _serve_config(sandbox_project, "relay-hmac")
    backend = sandbox_project.sandbox.backend
    deal_id = next(  # an open deal with an owner and a company: winning it starts an onboarding
        d
        for d, deal in sorted(backend.deals.items())
        if deal.properties.get("dealstage") not in ("closedwon", "closedlost")
        and deal.properties.get("hubspot_owner_id")
        and backend.associations("deals", d, "companies")
    )
    backend.set_deal_stage(deal_id, "closedwon")
    env = {**plugin_env, TOKEN_ENV: sandbox_project.sandbox.token, "HUBSPOT_CLIENT_SECRET": SECRET}
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "onboard_sync.cli", "serve", "--config", str(sandbox_project.config_path)]
    command += ["--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env)
    try:
        base = wait_for(lambda: re.search(r"listening on (http://\S+)", log.read_text(errors="replace")))
        url = f"{base.group(1)}/webhooks/hubspot"
        body = json.dumps([{"id": "delivery-1", "object": "deal", "objectId": deal_id}]).encode()

        forged = httpx.post(url, content=body, headers={"X-Relay-Signature": relay_signature("not the secret", body)})
        assert forged.status_code == 401
        signed = httpx.post(url, content=body, headers={"X-Relay-Signature": relay_signature(SECRET, body)})
        assert (signed.status_code, signed.json()) == (200, {"status": "ok"})

        def tasks_of_the_deal() -> list[str]:
            return [
                key
                for task in list(backend.tasks.values())
                if (key := task.properties.get("onboard_sync_key", "")).startswith(f"hubspot:{deal_id}:")
            ]

        assert wait_for(tasks_of_the_deal), "the worker reconciled the deal the verified delivery named"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert SECRET not in log.read_text(errors="replace")
