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
