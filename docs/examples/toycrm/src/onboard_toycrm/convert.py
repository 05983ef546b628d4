"""ToyCRM's JSON to onboard-sync's records, and task writes to ToyCRM's JSON (pure functions).

A ToyCRM record is ``{"id", "updated_at", "properties": {...}}`` plus its links (``account_ids``,
``contact_ids``, ``deal_id``, ``account_id``). The toolkit's ``record`` copies what shares a name with
the record's fields, converted by their types (times, numbers, tuples); these functions add the rest.
"""

from __future__ import annotations

from typing import Any

from onboard_sync import Account, Contact, Deal, ObjectKind, ReadOptions, Task, TaskWrite
from onboard_sync.toolkit import record, task_text


def asked(raw: dict[str, Any], kind: ObjectKind, options: ReadOptions) -> dict[str, str | None]:
    """The vendor properties the mapping files asked for (``[KIND.read]`` and ``[KIND.write]``), as text."""
    return {name: raw["properties"].get(name) for name in options.for_kind(kind)}


def to_deal(source: str, raw: dict[str, Any], options: ReadOptions) -> Deal:
    stage = raw["properties"]["stage"]
    won, closed = stage == "won", stage in ("won", "lost")
    extra = asked(raw, ObjectKind.DEAL, options)
    return record(Deal, raw["properties"] | raw, source=source, is_won=won, is_closed=closed, properties=extra)


def to_account(source: str, raw: dict[str, Any], options: ReadOptions) -> Account:
    return record(Account, raw["properties"] | raw, source=source, properties=asked(raw, ObjectKind.ACCOUNT, options))


def to_contact(source: str, raw: dict[str, Any], options: ReadOptions) -> Contact:
    return record(Contact, raw["properties"] | raw, source=source, properties=asked(raw, ObjectKind.CONTACT, options))


def to_task(source: str, raw: dict[str, Any], key_property: str) -> Task:
    return record(Task, raw["properties"] | raw, source=source, key=raw["properties"].get(key_property))


def task_input(write: TaskWrite, key_property: str) -> dict[str, Any]:
    """A task to create: its fields and key as properties, its deal, account and contacts as links."""
    links = {"deal_id": write.deal_id, "account_id": write.account_id, "contact_ids": list(write.contact_ids)}
    return {"properties": task_text(write) | {key_property: write.key}, **links}
