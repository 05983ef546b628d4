"""ToyCRM with tasks as *activities*: the task-key strategy for CRMs whose tasks have no searchable field.

Pipedrive's activities, and ToyCRM's here, have no custom fields and can be listed only per deal. So
the task key rides in the activity's note as a marker (``toolkit.mark``), ``find_tasks`` reads the
activities of the deals the core names for the keys (``deal_ids``: never parsed from a key) and
``create_tasks`` looks the keys up that way before it creates, one activity per call. Deals, accounts
and fields are ToyCRM's as in ``connector.py``; only the task methods differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from onboard_sync import Page, PropertySpec, Task, TaskPatch, TaskStatus, TaskWrite, WriteResult
from onboard_sync.toolkit import (
    CursorPaginator,
    create_unless_found,
    find_marked,
    mark,
    marked_key,
    patch_text,
    record,
    write_each,
)
from onboard_toycrm.connector import ToyCrmConnector

RECENT = CursorPaginator(cursor_path="next", cursor_param="after")
OF_DEAL = CursorPaginator(cursor_path="next", cursor_param="start", more_path="more")


class ToyActivitiesConnector(ToyCrmConnector):
    """ToyCRM deals and fields, with onboard-sync's tasks as activities keyed by a marker in the note."""

    type_name = "toycrm-activities"

    def required_properties(self) -> list[PropertySpec]:
        return []  # nothing to create: the key lives in the note

    def read_tasks(self, *, since: datetime | None, page_token: str | None) -> Page[Task]:
        """Activities changed at or after ``since`` that carry a key marker (onboard-sync's own)."""
        params = {"limit": self.settings.page_size} | ({"since": since.isoformat()} if since else {})
        page = self.rest.page(
            "activities.recent", "/v1/activities/recent", RECENT, page_token, records="data", params=params
        )
        return Page([t for t in map(self._task, page.records) if t.key], page.next_token)

    def find_tasks(self, keys: Sequence[str], deal_ids: Mapping[str, str]) -> list[Task]:
        """The activities of the keys' deals (``deal_ids``, from the core) whose notes carry the keys."""
        return find_marked(keys, deal_ids, self._activities_of)

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        """One activity per call, each key looked up first: a key already there names its activity."""
        return create_unless_found(
            batch, self.find_tasks, lambda fresh: write_each(fresh, lambda w: w.key, self._create)
        )

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        return write_each(batch, lambda p: p.key, self._update)

    def _activities_of(self, deal_id: str) -> list[Task]:
        found = self.rest.records("activities.of_deal", f"/v1/deals/{deal_id}/activities", OF_DEAL, records="data")
        return [self._task(a) for a in found]

    def _create(self, w: TaskWrite) -> str:
        body = {"subject": w.subject, "note": mark(w.body, w.key), "due_at": w.due_at.isoformat(), "done": False}
        body |= {"owner_id": w.owner_id, "deal_id": w.deal_id, "account_id": w.account_id}
        return str(self.rest.request("activities.create", "POST", "/v1/activities", json=body, write=True)["id"])

    def _update(self, p: TaskPatch) -> str:
        body: dict[str, Any] = patch_text(p.changes)
        if "status" in body:
            body["done"] = body.pop("status") == TaskStatus.COMPLETED
        self.rest.request("activities.update", "POST", f"/v1/activities/{p.remote_id}", json=body, write=True)
        return p.remote_id

    def _task(self, raw: dict[str, Any]) -> Task:
        """An activity as a task: its fields share the task's names; the key is the note's marker."""
        status = TaskStatus.COMPLETED if raw.get("done") else TaskStatus.OPEN
        return record(Task, raw, source=self.instance, status=status, key=marked_key(raw.get("note")))
