"""The ticket pull of a CRM that is both deal and ticket source waits for that CRM's deal pages.

Both pulls share the instance's rate limiters (HubSpot: five searches in any rolling second), and
the deal pages are the run's critical path, so the tickets are read once the deal pages are in;
the task pages, which run beside them, may still be coming (the engine evaluates ahead of them once
the tickets are in: ``sync.speculation``).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from onboard_sync.cli.demo import TOKEN_ENV
from onboard_sync.errors import AuthError


def test_ticket_searches_start_after_the_deal_searches(project: Any) -> None:
    report = project.sync()
    assert report.ok, report.as_dict()
    assert report.ticket_sources["hubspot"]["tickets_pulled"] > 0
    templates = [r.template for r in project.sandbox.requests]
    page_searches = [i for i, t in enumerate(templates) if t.endswith("/deals/search")]
    ticket_searches = [i for i, t in enumerate(templates) if t.endswith("/tickets/search")]
    assert page_searches
    assert ticket_searches
    assert max(page_searches) < min(ticket_searches), "the deal pull's pages come first"


def test_a_run_whose_connector_cannot_start_fails_without_leaving_the_ticket_pull_waiting(
    project: Any,
) -> None:
    project.monkeypatch.delenv(TOKEN_ENV)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            project.sync()
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the run hangs: the ticket pull still waits for the deal pages"
    assert len(outcome) == 1
    with pytest.raises(AuthError, match=TOKEN_ENV):
        raise outcome[0]


def test_task_pages_are_background_calls_and_the_deal_pages_and_ticket_search_are_not(
    project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onboard_sync.calls.priority import is_background
    from onboard_sync.connectors.hubspot.connector import HubSpotConnector

    marked: dict[str, set[bool]] = {"read_deals": set(), "read_tasks": set(), "read_tickets": set()}

    def noting(name: str) -> Any:
        original = getattr(HubSpotConnector, name)

        def read(self: HubSpotConnector, **kwargs: Any) -> Any:
            marked[name].add(is_background())
            return original(self, **kwargs)

        return read

    for name in marked:
        monkeypatch.setattr(HubSpotConnector, name, noting(name))
    report = project.sync()
    assert report.ok, report.as_dict()
    assert marked == {"read_deals": {False}, "read_tasks": {True}, "read_tickets": {False}}
