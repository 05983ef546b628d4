"""The built-in HubSpot connector: deals in, tasks and fields out, through the official SDK.

Registered by :mod:`onboard_sync.connectors.hubspot.plugin`. Every SDK call goes through the
core's ``call`` (rate limit, retries, accounting) under a logical endpoint label. Reading a
page of up to 1,000 deals costs seven calls: five searches of 200 and one v4 association batch
read (up to 1,000 ids) per target type (companies, contacts); writes are one batch call per
``max_write_batch`` inputs.
Record conversion lives in :mod:`.convert`, search paging in :mod:`.search`, batch answers in
:mod:`.batch`, error classification in :mod:`.errors` and OAuth in :mod:`.auth`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any, ClassVar, cast

from onboard_sync.connector import (
    Capability,
    ConnectorSettings,
    FieldWrite,
    Page,
    PropertySchema,
    PropertySpec,
    RateLimit,
    ReadOptions,
    SetupAction,
    TaskPatch,
    TaskWrite,
    WriteResult,
)
from onboard_sync.connectors.hubspot import batch as batches
from onboard_sync.connectors.hubspot import convert, properties, tickets
from onboard_sync.connectors.hubspot.base import HubSpotBase, chunks, status_of
from onboard_sync.connectors.hubspot.settings import HubSpotSettings, starter_table
from onboard_sync.errors import UnknownPropertiesError
from onboard_sync.records import Account, Contact, Deal, ObjectKind, Owner, Task, Ticket


class HubSpotConnector(HubSpotBase):
    """HubSpot CRM: won deals as the source of onboardings, tasks and deal/company fields as sinks."""

    type_name: ClassVar[str] = "hubspot"
    version: ClassVar[str] = "1.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.DEAL_SOURCE,
            Capability.TASK_SINK,
            Capability.FIELD_SINK,
            Capability.TICKET_SOURCE,
            Capability.WEBHOOK_RECEIVER,
        }
    )
    webhook_scheme: ClassVar[str | None] = "hubspot"
    """Webhooks are signed with the app's client secret (v3; v1/v2 for older apps)."""
    settings_model: ClassVar[type[ConnectorSettings]] = HubSpotSettings
    max_write_batch: ClassVar[int] = 100
    max_read_batch: ClassVar[int] = 100
    default_rate_limit: ClassVar[RateLimit] = RateLimit(per_second=10.0, burst=100, window=10.0)
    """Private apps on Free/Starter: 100 requests per rolling 10 seconds (search has its own 5/s)."""
    write_concurrency: ClassVar[int] = 4
    """Batch writes in flight at once: with 40-100 ms per call, one at a time cannot use 100 per 10 s."""
    read_concurrency: ClassVar[int] = 4
    """Batch reads by id in flight at once (the SDK's urllib3 pool is thread-safe), for the same reason."""
    association_batch: ClassVar[int] = 1000
    """Ids per v4 association batch read (HubSpot's limit since 2025-02-10): one call per page of deals."""

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        return starter_table(instance)

    @classmethod
    def default_mapping(cls) -> str | None:
        """This package's ``default_mapping.toml`` (what ``init`` copies to ``mappings/``)."""
        return resources.files(__package__).joinpath("default_mapping.toml").read_text(encoding="utf-8")

    @classmethod
    def webhook_secret_env(cls, settings: ConnectorSettings) -> str | None:
        """HubSpot signs webhooks with the app's client secret."""
        return cast(HubSpotSettings, settings).client_secret_env

    # --- deals -----------------------------------------------------------------------------
    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        """Search deals (won only on backfill, every stage since ``since``), oldest change first."""
        s = self.settings
        filters: list[dict[str, Any]] = []
        if s.pipeline:
            filters.append({"propertyName": "pipeline", "operator": "EQ", "value": s.pipeline})
        if since is None:
            won = [stage.lower() for stage in s.won_stages]
            filters.append({"propertyName": "dealstage", "operator": "IN", "values": won})
        extra = options.for_kind(ObjectKind.DEAL)
        # Up to ``association_batch`` deals per page (several searches of 200), so that their
        # companies and contacts cost one association read each per 1,000 deals, not per 200.
        results, next_token, _ = self._search("deals", filters, since, page_token, convert.DEAL_PROPERTIES + extra)
        while next_token and len(results) + self.search_page_size <= self.association_batch:
            more, following, _ = self._search("deals", filters, since, next_token, convert.DEAL_PROPERTIES + extra)
            results += more
            if following == next_token:
                break
            next_token = following
        return Page(self._deals(results, extra), next_token)

    def read_deals_by_id(self, ids: Sequence[str], options: ReadOptions) -> list[Deal]:
        """Deals by id with their companies and contacts; missing ids are skipped."""
        extra = options.for_kind(ObjectKind.DEAL)
        found = self._batch_read("deals", ids, convert.DEAL_PROPERTIES + extra)
        return self._deals(found, extra)

    def _deals(self, objects: Sequence[Any], extra: Sequence[str]) -> list[Deal]:
        ids = [str(o.id) for o in objects]
        companies = self._associations("deals", "companies", ids)
        contacts = self._associations("deals", "contacts", ids)
        s = self.settings
        return [
            convert.to_deal(
                self.instance,
                o,
                won=s.won_stages,
                lost=s.lost_stages,
                account_ids=companies.get(str(o.id), ()),
                contact_ids=contacts.get(str(o.id), ()),
                extra=extra,
            )
            for o in objects
        ]

    def _associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]:
        """Associated ids per object (v4 batch read), the primary company first."""
        found: dict[str, list[str]] = {}
        for chunk in chunks(ids, self.association_batch):
            body = {"inputs": [{"id": i} for i in chunk]}
            answer = self._call("associations.batch_read", self._association_page(from_type, to_type, body))
            for row in getattr(answer, "results", None) or ():
                targets = sorted(row.to or (), key=lambda t: not self._is_primary(t))
                found[str(row._from.id)] = list(dict.fromkeys(str(t.to_object_id) for t in targets))
        return found

    def _association_page(self, from_type: str, to_type: str, body: dict[str, Any]) -> Callable[[], Any]:
        api = self._sdk.associations
        return lambda: api.get_page(
            from_object_type=from_type,
            to_object_type=to_type,
            batch_input_public_fetch_associations_batch_request=body,
            _request_timeout=self._timeout,
        )

    @staticmethod
    def _is_primary(target: Any) -> bool:
        return any(t.type_id == convert.PRIMARY_DEAL_COMPANY for t in target.association_types or ())

    # --- accounts, contacts, owners ----------------------------------------------------------
    def read_accounts(self, ids: Sequence[str], options: ReadOptions) -> list[Account]:
        """Companies by id; missing ids are skipped."""
        extra = options.for_kind(ObjectKind.ACCOUNT)
        found = self._batch_read("companies", ids, convert.COMPANY_PROPERTIES + extra)
        return [convert.to_account(self.instance, o, extra) for o in found]

    def read_contacts(self, ids: Sequence[str], options: ReadOptions) -> list[Contact]:
        """Contacts by id; missing ids are skipped."""
        extra = options.for_kind(ObjectKind.CONTACT)
        found = self._batch_read("contacts", ids, convert.CONTACT_PROPERTIES + extra)
        return [convert.to_contact(self.instance, o, extra) for o in found]

    def read_owners(self) -> list[Owner]:
        """Every active owner, 100 per call."""
        owners: list[Owner] = []
        after: str | None = None
        while True:
            page = self._call("owners.list", self._owners_page(after))
            owners += [convert.to_owner(self.instance, o) for o in page.results or ()]
            nxt = page.paging.next if page.paging else None
            if nxt is None or not nxt.after:
                return owners
            after = nxt.after

    def _owners_page(self, after: str | None) -> Callable[[], Any]:
        api = self._sdk.owners
        return lambda: api.get_page(limit=100, after=after, archived=False, _request_timeout=self._timeout)

    # --- tickets (TICKET_SOURCE) ---------------------------------------------------------------
    def read_tickets(self, *, since: datetime | None, page_token: str | None) -> Page[Ticket]:
        """Tickets changed at or after ``since`` (all on the first run), with their primary company."""
        if not self.settings.read_tickets:
            return Page([])
        results, next_token, _ = self._search("tickets", [], since, page_token, tickets.TICKET_PROPERTIES)
        companies = self._associations("tickets", "companies", [str(o.id) for o in results])
        closed = self.settings.closed_ticket_stages
        return Page([tickets.to_ticket(self.instance, o, companies, closed) for o in results], next_token)

    # --- tasks -------------------------------------------------------------------------------
    @property
    def _task_properties(self) -> tuple[str, ...]:
        return (*convert.TASK_PROPERTIES, self.settings.task_key_property)

    def read_tasks(self, *, since: datetime | None, page_token: str | None) -> Page[Task]:
        """Search the tasks carrying a key (onboard-sync's), changed at or after ``since``; each page
        names the tokens of the later pages (``Page.ahead``), so the engine reads several at once."""
        key = self.settings.task_key_property
        filters = [{"propertyName": key, "operator": "HAS_PROPERTY"}]
        results, next_token, ahead = self._search("tasks", filters, since, page_token, self._task_properties)
        return Page([convert.to_task(self.instance, o, key) for o in results], next_token, ahead=ahead)

    def find_tasks(self, keys: Sequence[str], deal_ids: Mapping[str, str]) -> list[Task]:
        """Tasks by key: a batch read by the unique key property (no search lag; ``deal_ids`` not needed)."""
        key = self.settings.task_key_property
        found = self._batch_read("tasks", keys, self._task_properties, id_property=key)
        return [convert.to_task(self.instance, o, key) for o in found]

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        """One ``batch/create`` with inline associations; duplicate keys resolve to the existing task."""
        return self._create_tasks(batch, retry_conflicts=True) if batch else []

    def _create_tasks(self, batch: Sequence[TaskWrite], *, retry_conflicts: bool) -> list[WriteResult]:
        key_prop = self.settings.task_key_property
        inputs = [
            {
                "properties": convert.task_properties(w, key_prop),
                "associations": convert.task_associations(w),
                "objectWriteTraceId": w.key,
            }
            for w in batch
        ]
        api = self._sdk.batch("tasks")
        keys = [w.key for w in batch]
        try:
            answer = self._call(
                "tasks.batch_create",
                lambda: api.create(
                    batch_input_simple_public_object_batch_input_for_create={"inputs": inputs},
                    _request_timeout=self._timeout,
                ),
                write=True,
            )
        except Exception as exc:
            if not batches.is_conflict(exc):
                raise
            # Refused as a whole over a duplicate key: nothing was created. Keep the tasks that
            # exist (an earlier run created them) and create the rest once more.
            existing = {t.key: t for t in self.find_tasks(keys, {})}
            rest = [w for w in batch if w.key not in existing]
            again = self._create_tasks(rest, retry_conflicts=False) if rest and retry_conflicts else []
            by_key = {r.key: r for r in again}
            for w in rest:
                by_key.setdefault(w.key, WriteResult(w.key, ok=False, error=f"duplicate task key {w.key}: {exc}"))
            by_key.update({k: WriteResult(k, ok=True, remote_id=t.id) for k, t in existing.items() if k})
            return [by_key[k] for k in keys]

        def key_of(obj: Any) -> str | None:
            return obj.object_write_trace_id or (obj.properties or {}).get(key_prop)

        done, failed = batches.split(answer, key_of)
        # A duplicate key means an earlier (crashed) run created the task: report the existing
        # one as created. HubSpot names it in the error; otherwise look the keys up.
        for key, failure in list(failed.items()):
            if failure.conflict and failure.existing_id:
                done[key] = failure.existing_id
                del failed[key]
        unresolved = [k for k, f in failed.items() if f.conflict]
        if unresolved:
            done.update({t.key: t.id for t in self.find_tasks(unresolved, {}) if t.key in failed})
            for key in unresolved:
                if key in done:
                    del failed[key]
                else:
                    message = f"duplicate task key {key} but no task carries it: {failed[key].message}"
                    failed[key] = batches.Failure(message, retryable=False, conflict=True)
        return batches.results_in_order(keys, done, failed)

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        """One ``batch/update`` of the changed fields; patches without changes are not sent."""
        inputs = [
            {
                "id": p.remote_id,
                "properties": convert.patch_properties(p.changes),
                "objectWriteTraceId": p.key,
            }
            for p in batch
            if p.changes
        ]
        unchanged = {p.key: WriteResult(p.key, ok=True, remote_id=p.remote_id) for p in batch if not p.changes}
        return self._batch_update("tasks", "tasks.batch_update", inputs, [p.key for p in batch], unchanged)

    # --- fields ------------------------------------------------------------------------------
    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        """One ``batch/update`` on deals, companies or contacts; ``None`` clears a value."""
        if kind not in (ObjectKind.DEAL, ObjectKind.ACCOUNT, ObjectKind.CONTACT):
            raise ValueError(f"HubSpot connector cannot write fields on {kind}")
        object_type = properties.object_type(kind)
        inputs = [
            {
                "id": w.remote_id,
                "properties": {k: "" if v is None else v for k, v in w.values.items()},
                "objectWriteTraceId": w.key,
            }
            for w in batch
        ]
        endpoint = f"{object_type}.batch_update"
        try:
            return self._batch_update(object_type, endpoint, inputs, [w.key for w in batch], {})
        except Exception as exc:
            missing = batches.unknown_properties(exc) if status_of(exc) == 400 else ()
            if not missing:
                raise
            # HubSpot refuses the whole batch when a property does not exist (deleted mid-run)
            raise UnknownPropertiesError(missing, crm="HubSpot", endpoint=endpoint) from exc

    def describe(self, kind: ObjectKind) -> dict[str, PropertySchema]:
        """HubSpot's properties of ``kind`` by name; those in the connector's property group are setup's."""
        group = self.settings.property_group
        return {p.name: properties.to_schema(p, group) for p in self._list_properties(kind)}

    @classmethod
    def looks_like_owner_id(cls, value: str) -> bool:
        """HubSpot owner ids are numbers."""
        return value.isdigit()

    def required_properties(self) -> list[PropertySpec]:
        """The properties this connector needs (the task key), for ``onboard-sync setup``."""
        return list(properties.required_properties(self.settings.task_key_property))

    def ensure_properties(self, specs: Sequence[PropertySpec], *, apply: bool) -> list[SetupAction]:
        """Create the missing properties (and their group) per object kind; 409 means it exists."""
        actions: list[SetupAction] = []
        group = self.settings.property_group
        specs = list({(s.kind, s.name): s for s in specs}.values())  # mappings may repeat a property
        for kind in dict.fromkeys(s.kind for s in specs):
            object_type = properties.object_type(kind)
            existing = {p.name: p for p in self._list_properties(kind)}
            missing = [s for s in specs if s.kind == kind and s.name not in existing]
            for spec in (s for s in specs if s.kind == kind and s.name in existing):
                problem = properties.mismatch(spec, properties.to_schema(existing[spec.name]))
                text = f"{object_type} property {spec.name}"
                actions.append(SetupAction(f"{text} {problem}" if problem else f"{text} exists", done=not problem))
            if missing and not any(p.group_name == group for p in existing.values()):
                actions.append(self._ensure_group(object_type, apply))
            for spec in missing:
                actions.append(self._create_property(object_type, spec, apply))
        return actions

    def _ensure_group(self, object_type: str, apply: bool) -> SetupAction:
        name = self.settings.property_group
        if not apply:
            return SetupAction(f"would create {object_type} property group {name}", done=False, pending=True)
        api = self._sdk.groups
        body = {"name": name, "label": "Onboarding", "displayOrder": -1}
        created = self._create_if_absent(
            "groups.create",
            lambda: api.create(object_type=object_type, property_group_create=body, _request_timeout=self._timeout),
        )
        verb = "created" if created else "found"
        return SetupAction(f"{verb} {object_type} property group {name}", done=True, changed=created)

    def _create_property(self, object_type: str, spec: PropertySpec, apply: bool) -> SetupAction:
        if not apply:
            text = f"would create {object_type} property {spec.name} ({spec.type})"
            return SetupAction(text, done=False, pending=True)
        api = self._sdk.properties
        body = properties.create_body(spec, self.settings.property_group)
        created = self._create_if_absent(
            "properties.create",
            lambda: api.create(object_type=object_type, property_create=body, _request_timeout=self._timeout),
        )
        verb = "created" if created else "found"
        return SetupAction(f"{verb} {object_type} property {spec.name}", done=True, changed=created)
