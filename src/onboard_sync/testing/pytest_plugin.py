"""pytest fixtures: a running HubSpot sandbox and a config folder that points at it.

* ``hubspot_sandbox``: a fresh ``HubSpotSandbox`` (seeded, 60 deals) on 127.0.0.1, stopped after the test.
* ``sandbox_project``: a folder with config.toml and mappings wired to that sandbox and a
  SQLite store in it; yields a ``SandboxProject`` with ``runtime()``, ``store()`` and ``sync()``.
* ``salesforce_sandbox`` / ``salesforce_project``: the same for the Salesforce sandbox (HTTPS with a
  generated CA, client-credentials login; connector instance ``salesforce``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class SandboxProject:
    """A config folder wired to a running sandbox."""

    path: Path
    sandbox: Any
    monkeypatch: pytest.MonkeyPatch
    instance: str = "hubspot"

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    def runtime(self) -> Any:
        from onboard_sync.runtime import load_runtime

        return load_runtime(self.config_path)

    def store(self, *, read_only: bool = False) -> Any:
        from onboard_sync.store import Store

        return Store.open(self.runtime().config.store_url, read_only=read_only)

    def setup_crm(self) -> None:
        from onboard_sync.schema import property_specs

        rt = self.runtime()
        connector = rt.connector(self.instance)
        try:
            specs = connector.required_properties() + property_specs(rt.mappings[self.instance], rt.playbook)
            connector.ensure_properties(specs, apply=True)
        finally:
            connector.close()

    def sync(self, **kwargs: Any) -> Any:
        from onboard_sync.sync.engine import Engine

        rt = self.runtime()
        with self.store() as store:
            return Engine(rt, store, **kwargs).run()


@pytest.fixture
def hubspot_sandbox() -> Iterator[Any]:
    from onboard_sync.sandbox.hubspot import HubSpotSandbox

    with HubSpotSandbox(seed=1, deals=60) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox_project(tmp_path: Path, hubspot_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> SandboxProject:
    from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config

    monkeypatch.setenv(TOKEN_ENV, hubspot_sandbox.token)
    write_demo_config(tmp_path, hubspot_sandbox.base_url)
    return SandboxProject(path=tmp_path, sandbox=hubspot_sandbox, monkeypatch=monkeypatch)


@pytest.fixture
def salesforce_sandbox() -> Iterator[Any]:
    from onboard_sync.sandbox.salesforce import SalesforceSandbox

    with SalesforceSandbox(seed=1, deals=60) as sandbox:
        yield sandbox


@pytest.fixture
def salesforce_project(tmp_path: Path, salesforce_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> SandboxProject:
    from onboard_sync.cli.demo_crm import write_salesforce_config

    for name, value in salesforce_sandbox.connector_secrets().items():
        monkeypatch.setenv(name, value)
    write_salesforce_config(tmp_path, salesforce_sandbox)
    return SandboxProject(path=tmp_path, sandbox=salesforce_sandbox, monkeypatch=monkeypatch, instance="salesforce")
