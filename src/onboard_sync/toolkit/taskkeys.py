"""Task keys for CRMs whose tasks have no searchable custom field (Pipedrive activities and the like).

The core gives every task a key and asks the connector to find tasks by key (``find_tasks``) before it
creates anything again. A CRM with a unique or searchable task property stores the key there. One
without keeps it in the task's text instead, as a marker line (:func:`mark`, read back with
:func:`marked_key`), and looks keys up deal by deal: ``find_tasks`` receives ``deal_ids`` (key → the
deal its task belongs to, from the core's store, never parsed from the key), so
:func:`find_marked` reads only the tasks of those deals. :func:`create_unless_found` makes creates
idempotent on top of that lookup: a key already there names the existing task instead of a second one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from onboard_sync.connector import TaskWrite, WriteResult
from onboard_sync.records import Task

MARKER = "[onboard-sync key: {key}]"
MARKER_PATTERN = re.compile(r"\[onboard-sync key: ([^\]\s]+)\]")


def mark(body: str, key: str) -> str:
    """``body`` with ``key``'s marker on a line of its own at the end."""
    marker = MARKER.format(key=key)
    return f"{body}\n\n{marker}" if body else marker


def marked_key(text: str | None) -> str | None:
    """The key in a task text's marker (the last one, if a person copied another in); ``None`` without one."""
    found = MARKER_PATTERN.findall(text or "")
    return found[-1] if found else None


def find_marked(
    keys: Sequence[str], deal_ids: Mapping[str, str], tasks_of_deal: Callable[[str], Iterable[Task]]
) -> list[Task]:
    """The tasks carrying ``keys``, read from the tasks of the deals ``deal_ids`` names for them (each
    deal once); ``Task.key`` must hold the marked key. Raises ``ValueError`` for a key without a deal."""
    unnamed = [k for k in keys if not deal_ids.get(k)]
    if unnamed:
        raise ValueError(f"no deal id for task key {unnamed[0]!r}: marker keys are found through their deal")
    wanted = set(keys)
    found: dict[str, Task] = {}
    for deal_id in dict.fromkeys(deal_ids[k] for k in keys):
        for task in tasks_of_deal(deal_id):
            if task.key in wanted:
                found.setdefault(task.key, task)
    return [found[k] for k in dict.fromkeys(keys) if k in found]


def create_unless_found(
    batch: Sequence[TaskWrite],
    find: Callable[[Sequence[str], Mapping[str, str]], Iterable[Task]],
    create: Callable[[list[TaskWrite]], list[WriteResult]],
) -> list[WriteResult]:
    """Idempotent creates: the keys ``find`` (``find_tasks``) already sees succeed naming their task;
    ``create`` makes the others. One result per input, in order."""
    deals = {w.key: w.deal_id for w in batch if w.deal_id}
    existing = {t.key: t.id for t in find([w.key for w in batch], deals) if t.key}
    fresh = [w for w in batch if w.key not in existing]
    made = {r.key: r for r in create(fresh)} if fresh else {}
    return [WriteResult(w.key, ok=True, remote_id=existing[w.key]) if w.key in existing else made[w.key] for w in batch]


__all__ = ["MARKER", "create_unless_found", "find_marked", "mark", "marked_key"]
