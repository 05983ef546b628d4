"""Chunked runs end to end: a tiny ``chunk_size`` gives the same onboardings, writes and API calls."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from e2e_support import tasks_by_key

from onboard_sync.testing.pytest_plugin import SandboxProject


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int | None) -> SandboxProject:
    from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config
    from onboard_sync.sandbox.hubspot import HubSpotSandbox

    sandbox = HubSpotSandbox(seed=1, deals=60).__enter__()
    monkeypatch.setenv(TOKEN_ENV, sandbox.token)
    config = write_demo_config(tmp_path, sandbox.base_url)
    if chunk_size is not None:
        text = config.read_text().replace("[onboard_sync]\n", f"[onboard_sync]\nchunk_size = {chunk_size}\n")
        config.write_text(text)
    project = SandboxProject(path=tmp_path, sandbox=sandbox, monkeypatch=monkeypatch)
    project.setup_crm()
    return project


def _outcome(project: SandboxProject, report: Any) -> dict[str, Any]:
    with project.store() as store:
        states = {s.id: (s.phase, s.status, s.health_status) for s in store.onboardings(source="hubspot")}
        owned = {k: t.state for k, t in store.owned_tasks_for("hubspot").items()}
    return {"states": states, "owned": owned, "writes": report.totals(), "calls": report.api_calls()["by_endpoint"]}


def test_a_tiny_chunk_size_changes_nothing_but_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _project(tmp_path / "whole", monkeypatch, None)
    chunked = _project(tmp_path / "chunked", monkeypatch, 3)
    try:
        first = _outcome(whole, whole.sync())
        report = chunked.sync()
        assert report.ok
        assert _outcome(chunked, report) == first
        assert all(count == 1 for count in tasks_by_key(chunked.sandbox).values())
        # partial batches are carried over between chunks: write calls stay at ceil(writes / batch)
        batch = chunked.runtime().connector("hubspot").max_write_batch
        created = report.totals()["created"]
        assert report.api_calls()["by_endpoint"]["hubspot:tasks.batch_create"] == math.ceil(created / batch)
        # time-based changes and CRM changes are seen by the next (chunked) run exactly as by a whole one
        for project in (whole, chunked):
            project.sandbox.requests.clear()
        assert _outcome(chunked, chunked.sync())["writes"] == _outcome(whole, whole.sync())["writes"]
        assert chunked.sandbox.requests.writes() == []
    finally:
        whole.sandbox.__exit__(None, None, None)
        chunked.sandbox.__exit__(None, None, None)


def test_a_connector_whose_paging_loops_fails_the_run_without_moving_the_cursor(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboard_sync.connector import Page
    from onboard_sync.connectors.hubspot import HubSpotConnector

    real = HubSpotConnector.read_deals

    def looping(self: HubSpotConnector, *, since: Any, page_token: str | None, options: Any) -> Page[Any]:
        page = real(self, since=since, page_token=None, options=options)
        return Page(page.records, "always-the-same")

    monkeypatch.setattr(HubSpotConnector, "read_deals", looping)
    report = project.sync()

    assert not report.ok
    error = report.instances["hubspot"].error or ""
    assert "connectors.hubspot: the deals pull: page token 'always-the-same' came back" in error, error
    with project.store() as store:
        assert store.get_cursor("hubspot", "deals") is None
