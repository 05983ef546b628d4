"""The state store: onboardings, the task idempotency ledger, cached facts, cursors, audit, runs.

``Store.open(url)`` opens a SQLite file (default) or PostgreSQL database and migrates it;
``Store.open(url, read_only=True)`` is for ``plan`` and changes nothing. See ``store.Store``.
"""

from onboard_sync.store.base import ReadOnlyStoreError
from onboard_sync.store.database import redact_url
from onboard_sync.store.health import AccountLink, AlertEpisode, HealthRecord
from onboard_sync.store.rows import AuditEntry, InboxEvent, OwnedTask, RunRecord, TaskState
from onboard_sync.store.store import Store

__all__ = [
    "AccountLink",
    "AlertEpisode",
    "AuditEntry",
    "HealthRecord",
    "InboxEvent",
    "OwnedTask",
    "ReadOnlyStoreError",
    "RunRecord",
    "Store",
    "TaskState",
    "redact_url",
]
