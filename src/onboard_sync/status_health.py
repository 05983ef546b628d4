"""The helpdesk side of ``onboard-sync status --json``: explainable health, links, open alerts.

Read from the store alone (no API calls): each onboarding's latest health components (what
passed, what failed and why, what had no data), the helpdesk organizations that did not link
to a CRM account (with the reason), and the alert episodes that are open. Called by the
``status`` command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from onboard_sync.store import Store


def health_explanations(store: Store, onboarding_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per onboarding: the day, score, status, reasons and every component of its latest health."""
    return {
        oid: {
            "day": rec.day,
            "score": rec.score,
            "status": rec.status,
            "reasons": list(rec.reasons),
            "components": list(rec.components),
        }
        for oid, rec in store.latest_health(list(onboarding_ids)).items()
    }


def helpdesk_status(store: Store, sources: Iterable[str]) -> dict[str, Any]:
    """Account links (counts and every unlinked organization) and open alert episodes."""
    links = store.account_links()
    linked: dict[str, int] = {}
    for link in links:
        if link.crm_account_id:
            linked[link.source] = linked.get(link.source, 0) + 1
    open_alerts = [
        {
            "onboarding": e.onboarding_id,
            "alert": e.alert,
            "episode": e.episode,
            "task_key": e.task_key,
            "opened_at": e.opened_at.isoformat(),
        }
        for source in sources
        for e in store.alert_episodes(source)
        if e.cleared_at is None
    ]
    return {
        "linked_organizations": linked,
        "unlinked_organizations": [
            {
                "source": link.source,
                "organization_id": link.remote_id,
                "name": link.name,
                "reason": link.detail,
            }
            for link in links
            if not link.crm_account_id
        ],
        "open_alerts": open_alerts,
    }


__all__ = ["health_explanations", "helpdesk_status"]
