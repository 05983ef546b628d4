"""Helpers for the Salesforce end-to-end tests (the engine against the Salesforce sandbox over HTTPS)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from onboard_sync.store import TaskState

KEY_FIELD = "OnboardSync_Key__c"


def sf_tasks_by_key(sandbox: Any) -> Counter[str]:
    """How many Salesforce Tasks carry each onboard-sync key (must be 1 each)."""
    return Counter(t.get(KEY_FIELD) for t in sandbox.backend.tasks.values() if t.get(KEY_FIELD))


def sf_created_tasks(project: Any) -> dict[str, Any]:
    with project.store() as store:
        return {k: t for k, t in store.owned_tasks_for("salesforce").items() if t.state is TaskState.CREATED}
