"""Type stub of the package's lazily imported names: ``lazy_loader.attach_stub`` reads this list, type
checkers read it as the module."""

from .base import ReadOnlyStoreError
from .database import redact_url
from .health import AccountLink, AlertEpisode, HealthRecord
from .rows import AuditEntry, InboxEvent, OwnedTask, RunRecord, TaskState
from .store import Store

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
