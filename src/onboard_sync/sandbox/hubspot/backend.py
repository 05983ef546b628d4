"""In-memory state and behaviour of the HubSpot sandbox (the moto "models" layer).

Holds owners, CRM objects, associations, property definitions and pipelines, and implements the
operations behind the API (used by the wire layer in ``app.py``/``routes_*.py``) plus "person in the
HubSpot UI" helpers used directly by tests and the demo (``update``, ``complete_task``,
``set_deal_stage``). Every write records a :class:`ChangeEvent` (the seam for webhook delivery).
Thread-safe through one re-entrant lock (``backend.lock``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from onboard_sync.sandbox.clock import Clock, SandboxClock
from onboard_sync.sandbox.common import epoch_ms, iso_ms
from onboard_sync.sandbox.hubspot import schema as sch
from onboard_sync.sandbox.hubspot.associations import AssociationsMixin, Link
from onboard_sync.sandbox.hubspot.errors import HubSpotError, not_found, property_errors, validation_error
from onboard_sync.sandbox.hubspot.models import CS_TEAM, SALES_TEAM, ChangeEvent, Owner, PreparedWrite, Record
from onboard_sync.sandbox.hubspot.values import clean_properties

ID_BASE = {
    "contacts": 100_001,
    "companies": 2_000_000_001,
    "deals": 9_000_000_001,
    "tickets": 1_500_000_001,
    "tasks": 30_000_000_001,
}


class HubSpotBackend(AssociationsMixin):
    """The portal's state. ``reset()`` rebuilds the seeded state (same ``seed`` -> same ids and data)."""

    def __init__(
        self,
        seed: int = 0,
        deals: int = 0,
        clock: Clock | None = None,
        search_lag: float = 0.0,
        portal_id: int = 62515,
    ) -> None:
        self.seed = seed
        self.deal_count = deals
        self.clock: Clock = clock or SandboxClock()
        self.search_lag = search_lag
        self.portal_id = portal_id
        self.lock = threading.RLock()
        self.listeners: list[Callable[[ChangeEvent], None]] = []
        self.reset()

    # -- state ------------------------------------------------------------------------------------
    def reset(self) -> None:
        from onboard_sync.sandbox.hubspot.seed import populate

        with self.lock:
            self.objects: dict[str, dict[str, Record]] = {k: {} for k in sch.KINDS}
            self.owners: dict[str, Owner] = {}
            self.events: list[ChangeEvent] = []
            self._assoc: dict[str, dict[str, dict[str, dict[str, list[int]]]]] = {k: {} for k in sch.KINDS}
            self._unique: dict[str, dict[str, dict[str, str]]] = {k: {} for k in sch.KINDS}
            self._unique["contacts"]["email"] = {}
            self._next_id = dict(ID_BASE)
            self.search_memo: dict[tuple[str, str], Any] = {}
            """Search's sorted matches per query, for its next pages (``search._Memo``)."""
            day = self.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
            created = iso_ms(day - timedelta(days=400))
            self.schema = {k: sch.builtin_properties(k, created) for k in sch.KINDS}
            self.groups = {k: sch.builtin_groups(k) for k in sch.KINDS}
            self.pipelines = sch.pipelines(created)
            collecting = gc.isenabled()
            gc.disable()  # hundreds of thousands of small containers: the cyclic GC would double the time
            try:
                populate(self)
            finally:
                if collecting:
                    gc.enable()

    contacts = property(lambda self: self.objects["contacts"])
    companies = property(lambda self: self.objects["companies"])
    deals = property(lambda self: self.objects["deals"])
    tasks = property(lambda self: self.objects["tasks"])
    tickets = property(lambda self: self.objects["tickets"])

    def kind(self, name: str) -> str:
        kind = sch.resolve_kind(name)
        if kind is None:
            raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
        return kind

    def new_id(self, kind: str) -> str:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return str(value)

    def unique_properties(self, kind: str) -> set[str]:
        return set(self._unique[kind]) | {"hs_object_id"}

    def unique_index(self, kind: str, prop: str) -> dict[str, str]:
        """The live index of a unique property (value key → record id); the seed fills it directly."""
        return self._unique[kind][prop]

    def add_property(self, kind: str, definition: dict[str, Any]) -> None:
        """Register a property definition (``hasUniqueValue`` ones become usable as ``idProperty``)."""
        with self.lock:
            self.schema[kind][definition["name"]] = definition
            if definition.get("hasUniqueValue"):
                self._unique[kind].setdefault(definition["name"], {})

    # -- reads ------------------------------------------------------------------------------------
    def find(self, kind: str, id_: str, id_property: str | None = None, *, archived: bool = False) -> Record | None:
        kind = self.kind(kind)
        with self.lock:
            if id_property and id_property != "hs_object_id":
                if id_property not in self._unique[kind]:
                    raise validation_error(f"{id_property} is not a unique property and cannot be used as idProperty")
                found = self._unique[kind][id_property].get(_ukey(id_property, str(id_)))
                record = self.objects[kind].get(found) if found else None
            else:
                record = self.objects[kind].get(str(id_))
            if record is None or record.archived != archived:
                return None
            return record

    def get(self, kind: str, id_: str, id_property: str | None = None, *, archived: bool = False) -> Record:
        record = self.find(kind, id_, id_property, archived=archived)
        if record is None:
            raise not_found(f"Object not found.  objectId are usually numeric. ({self.kind(kind)} {id_})")
        return record

    def search_view(self, record: Record, now: datetime) -> dict[str, str] | None:
        """The properties search sees now (stale or ``None`` while inside the search lag)."""
        if record.visible_at is None or now >= record.visible_at:
            return record.properties
        return record.indexed

    # -- writes -----------------------------------------------------------------------------------
    def prepare_create(
        self, kind: str, properties: Any, associations: Iterable[Link] | None = None, *, system: bool = False
    ) -> PreparedWrite:
        kind = self.kind(kind)
        with self.lock:
            clean = clean_properties(kind, properties, self.schema[kind], self.owners, allow_read_only=system)
            if kind == "tasks" and not clean.get("hs_timestamp"):
                raise property_errors(
                    [
                        (
                            "hs_timestamp",
                            "REQUIRED_PROPERTY",
                            "hs_timestamp is required to create a task (the due date)",
                        )
                    ]
                )
            self._check_unique(kind, clean, None)
            return PreparedWrite(kind, clean, self._parse_links(kind, associations))

    def commit_create(self, prep: PreparedWrite, source: str = "CRM_UI") -> Record:
        with self.lock:
            now = self.clock.now()
            kind, rid = prep.kind, self.new_id(prep.kind)
            record = Record(rid, kind, {"hs_object_id": rid}, epoch_ms(now), epoch_ms(now))
            defaults = {
                "deals": {"pipeline": "default"},
                "tasks": {"hs_task_status": "NOT_STARTED"},
                "tickets": {"hs_pipeline": "0", "hs_pipeline_stage": "1"},
            }.get(kind, {})
            clean = {**defaults, **prep.clean}
            record.properties[sch.CREATED_PROP[kind]] = clean.pop("createdate", None) or iso_ms(now)
            if self.search_lag > 0:
                record.visible_at = now + timedelta(seconds=self.search_lag)
            self.objects[kind][rid] = record
            self._emit(kind, rid, "creation", source=source)
            self._apply(record, clean, source, now, created=True)
            for to_kind, to_id, type_id in prep.links:
                self._link(kind, rid, to_kind, to_id, type_id, source)
            return record

    def create(
        self,
        kind: str,
        properties: Mapping[str, Any],
        associations: Iterable[Link] | None = None,
        *,
        source: str = "CRM_UI",
    ) -> Record:
        """Create a record as a person in the UI would (``source="API"`` from the wire layer)."""
        return self.commit_create(self.prepare_create(kind, properties, associations), source)

    def prepare_update(
        self, kind: str, id_: str, properties: Any, id_property: str | None = None, *, system: bool = False
    ) -> PreparedWrite:
        kind = self.kind(kind)
        with self.lock:
            record = self.get(kind, id_, id_property)
            clean = clean_properties(kind, properties, self.schema[kind], self.owners, allow_read_only=system)
            self._check_unique(kind, clean, record.id)
            return PreparedWrite(kind, clean, [], record.id)

    def commit_update(self, prep: PreparedWrite, source: str = "CRM_UI") -> Record:
        with self.lock:
            assert prep.record_id is not None
            record = self.objects[prep.kind][prep.record_id]
            now = self.clock.now()
            if self.search_lag > 0:
                if record.visible_at is None or now >= record.visible_at:
                    record.indexed = dict(record.properties)
                record.visible_at = now + timedelta(seconds=self.search_lag)
            self._apply(record, dict(prep.clean), source, now)
            return record

    def update(
        self,
        kind: str,
        id_: str,
        properties: Mapping[str, Any],
        *,
        source: str = "CRM_UI",
        id_property: str | None = None,
    ) -> Record:
        """Change properties as a person in the UI would: bumps ``hs_lastmodifieddate``."""
        return self.commit_update(self.prepare_update(kind, id_, properties, id_property), source)

    def archive(self, kind: str, id_: str, *, source: str = "CRM_UI") -> bool:
        kind = self.kind(kind)
        with self.lock:
            record = self.objects[kind].get(str(id_))
            if record is None or record.archived:
                return False
            record.archived, record.archived_at = True, self.clock.now()
            for prop, index in self._unique[kind].items():
                value = record.properties.get(prop)
                if value is not None:
                    index.pop(_ukey(prop, value), None)
            self._emit(kind, record.id, "deletion", source=source)
            return True

    def restore(self, kind: str, id_: str, *, source: str = "CRM_UI") -> bool:
        """Bring an archived record back from the recycle bin, as HubSpot does: same id, its
        unique values indexed again, ``hs_lastmodifieddate`` bumped, a ``restore`` event."""
        kind = self.kind(kind)
        with self.lock:
            record = self.objects[kind].get(str(id_))
            if record is None or not record.archived:
                return False
            self._check_unique(kind, record.properties, record.id)
            record.archived, record.archived_at = False, None
            for prop, index in self._unique[kind].items():
                value = record.properties.get(prop)
                if value is not None:
                    index[_ukey(prop, value)] = record.id
            now = self.clock.now()
            if self.search_lag > 0:  # search sees the new modified date after the lag, as after an update
                record.indexed = dict(record.properties)
                record.visible_at = now + timedelta(seconds=self.search_lag)
            for name in sch.MODIFIED_PROPS.get(kind, (sch.MODIFIED_PROP[kind],)):
                record.properties[name] = iso_ms(now)
            record.updated_ms = epoch_ms(now)
            self._emit(kind, record.id, "restore", source=source)
            return True

    def complete_task(self, task_id: str) -> Record:
        """Mark a task COMPLETED, as its owner would in HubSpot (sets ``hs_task_completion_date``)."""
        return self.update("tasks", task_id, {"hs_task_status": "COMPLETED"})

    def set_deal_stage(self, deal_id: str, stage: str) -> Record:
        """Move a deal to ``stage`` in the UI; closing a deal sets ``closedate`` to now, as HubSpot does."""
        props: dict[str, str] = {"dealstage": stage}
        if stage in sch.CLOSED_STAGES:
            props["closedate"] = iso_ms(self.clock.now())
        return self.update("deals", deal_id, props)

    # -- internals --------------------------------------------------------------------------------
    def _check_unique(self, kind: str, clean: Mapping[str, str | None], own_id: str | None) -> None:
        for prop, index in self._unique[kind].items():
            value = clean.get(prop)
            if value is None:
                continue
            existing = index.get(_ukey(prop, value))
            if existing is not None and existing != own_id:
                if kind == "contacts" and prop == "email":
                    raise HubSpotError(
                        409,
                        "CONFLICT",
                        f"Contact already exists. Existing ID: {existing}",
                        context={"existingId": [existing]},
                    )
                raise property_errors(
                    [
                        (
                            prop,
                            "INVALID_UNIQUE_VALUE",
                            f'Another {sch.SINGULAR[kind]} ({existing}) already has "{value}" for unique '
                            f"property {prop}. Existing ID: {existing}",
                        )
                    ]
                )

    def _apply(
        self,
        record: Record,
        clean: dict[str, str | None],
        source: str,
        now: datetime,
        *,
        created: bool = False,
    ) -> None:
        props, kind = record.properties, record.kind
        if kind == "tasks" and "hs_task_status" in clean:
            if clean["hs_task_status"] == "COMPLETED" and props.get("hs_task_status") != "COMPLETED":
                clean.setdefault("hs_task_completion_date", iso_ms(now))
            elif clean["hs_task_status"] != "COMPLETED":
                clean["hs_task_completion_date"] = None
        if kind == "deals" and "dealstage" in clean:
            stage = clean["dealstage"] or ""
            clean["hs_is_closed_won"] = "true" if stage == "closedwon" else "false"
            clean["hs_is_closed"] = "true" if stage in sch.CLOSED_STAGES else "false"
            prob = sch.STAGE_PROBABILITY.get(stage)
            clean["hs_deal_stage_probability"] = None if prob is None else str(prob)
        for name, value in clean.items():
            old = props.get(name)
            if old == value:
                continue
            index = self._unique[kind].get(name)
            if index is not None:
                if old is not None:
                    index.pop(_ukey(name, old), None)
                if value is not None:
                    index[_ukey(name, value)] = record.id
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
            if not created or value is not None:
                self._emit(kind, record.id, "propertyChange", name, value, source)
        stamp = iso_ms(now)
        for name in sch.MODIFIED_PROPS.get(kind, (sch.MODIFIED_PROP[kind],)):
            props[name] = stamp
        record.updated_ms = epoch_ms(now)

    def _emit(
        self,
        kind: str,
        id_: str,
        change: str,
        name: str | None = None,
        value: str | None = None,
        source: str = "CRM_UI",
        extra: dict[str, Any] | None = None,
    ) -> None:
        event = ChangeEvent(
            len(self.events) + 1,
            self.clock.now(),
            f"{sch.SINGULAR[kind]}.{change}",
            kind,
            id_,
            name,
            value,
            source,
            extra or {},
        )
        self.events.append(event)
        for listener in list(self.listeners):
            listener(event)


def _ukey(prop: str, value: str) -> str:
    return value.lower() if prop == "email" else value


__all__ = ["CS_TEAM", "SALES_TEAM", "ChangeEvent", "HubSpotBackend", "Owner", "PreparedWrite", "Record"]
