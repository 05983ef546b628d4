"""The built-in Salesforce connector: won Opportunities and Cases in, Tasks and Opportunity/Account fields out.

Registered by :mod:`onboard_sync.connectors.salesforce.plugin`, built on simple-salesforce. Reads are
SOQL (incremental by ``SystemModstamp``, oldest first, pages followed through ``nextRecordsUrl``); a page
of Opportunities is one query that also returns their contact roles (a parent-to-child subquery, read
further only when a nested result is cut short) and their Accounts (``Account.*`` fields, returned as
``Page.accounts``, so the engine reads no Account by id). Writes go through sObject
Collections, 200 records a call, with per-record results. Task idempotency: the key lives in a Task
custom field; when describe() says it is an External ID, tasks are upserted by it (one call per
200), else every create first looks its keys up (one query more per batch): a replay never duplicates.
Cases are a ticket source (``read_tickets``, :mod:`.cases`), read the same incremental way. Plumbing is in
:mod:`.base`, records in :mod:`.convert`, schema work in :mod:`.fields`, errors in :mod:`.errors`, OAuth in
:mod:`.auth`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
from onboard_sync.connectors.salesforce import cases, convert, fields
from onboard_sync.connectors.salesforce.base import Rec, SalesforceBase, id_chunks, record_results, status_of
from onboard_sync.connectors.salesforce.errors import unknown_fields
from onboard_sync.connectors.salesforce.settings import SalesforceSettings, starter_table
from onboard_sync.errors import ApiError, UnknownPropertiesError
from onboard_sync.records import Account, Contact, Deal, ObjectKind, Owner, Task, Ticket

USER_ID = re.compile(r"^005[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?$")


class SalesforceConnector(SalesforceBase):
    """Salesforce: won Opportunities start onboardings; Tasks and custom fields are the sinks."""

    type_name: ClassVar[str] = "salesforce"
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
    webhook_scheme: ClassVar[str | None] = "salesforce-outbound"
    """Outbound Messages (SOAP) carry no signature: the OrganizationId is checked against ``organization_id``.
    ``[serve.webhooks.NAME] scheme = "salesforce-flow"`` takes signed JSON callouts instead."""
    settings_model: ClassVar[type[ConnectorSettings]] = SalesforceSettings
    max_write_batch: ClassVar[int] = 200
    """sObject Collections take at most 200 records per call."""
    max_read_batch: ClassVar[int] = 200
    default_rate_limit: ClassVar[RateLimit] = RateLimit(per_second=20.0, burst=20)
    """Salesforce limits requests per 24 hours, not per second; this only smooths bursts."""

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        return starter_table(instance)

    @classmethod
    def default_mapping(cls) -> str | None:
        """This package's ``default_mapping.toml`` (what ``init`` copies to ``mappings/``)."""
        return resources.files(__package__).joinpath("default_mapping.toml").read_text(encoding="utf-8")

    @classmethod
    def webhook_organization_id(cls, settings: ConnectorSettings) -> str | None:
        return cast(SalesforceSettings, settings).organization_id

    @classmethod
    def webhook_secret_env(cls, settings: ConnectorSettings) -> str | None:
        """The shared HMAC secret of ``salesforce-flow`` callouts (Outbound Messages need none)."""
        return cast(SalesforceSettings, settings).webhook_secret_env

    # --- deals -----------------------------------------------------------------------------------
    def _deal_soql(self, where: str, extra: Sequence[str], account_extra: Sequence[str]) -> str:
        """Opportunities with their contact roles (a subquery) and their Account's fields (``Account.*``)."""
        conditions = [where] + ([f"({self.settings.opportunity_filter})"] if self.settings.opportunity_filter else [])
        account = [f"Account.{name}" for name in (*convert.ACCOUNT_FIELDS, *account_extra)]
        columns = ", ".join(dict.fromkeys((*convert.DEAL_FIELDS, *extra, convert.ROLES_SUBQUERY, *account)))
        return f"SELECT {columns} FROM Opportunity WHERE {' AND '.join(conditions)} ORDER BY SystemModstamp, Id"

    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        """Won Opportunities on backfill, every Opportunity changed at or after ``since`` otherwise.

        One query a page: contact roles come nested (``OpportunityContactRoles``), the Account as
        ``Account.*`` fields, handed to the engine as ``Page.accounts``."""
        extra, account_extra = options.for_kind(ObjectKind.DEAL), options.for_kind(ObjectKind.ACCOUNT)
        where = "IsWon = true" if since is None else f"SystemModstamp >= {convert.soql_time(since)}"
        soql = self._deal_soql(where, extra, account_extra)
        records, token = self._query_page("opportunities.query", soql, page_token)
        accounts = {
            str(r["Account"]["Id"]): convert.to_account(self.instance, r["Account"], account_extra)
            for r in records
            if r.get("Account") and r["Account"].get("Id")
        }
        return Page(self._deals(records, extra), token, accounts=list(accounts.values()))

    def read_deals_by_id(self, ids: Sequence[str], options: ReadOptions) -> list[Deal]:
        """Opportunities by id (``serve``'s reconciles), shaped as a page of ``read_deals``: their Accounts'
        fields come along as ``Account.*`` columns and are kept for ``read_accounts``, which then needs
        no query of its own for them."""
        extra, account_extra = options.for_kind(ObjectKind.DEAL), options.for_kind(ObjectKind.ACCOUNT)
        account = [f"Account.{name}" for name in (*convert.ACCOUNT_FIELDS, *account_extra)]
        columns = tuple(dict.fromkeys((*convert.DEAL_FIELDS, *extra, convert.ROLES_SUBQUERY, *account)))
        found = self._by_ids("opportunities.query", "Opportunity", columns, ids)
        for r in found:
            if r.get("Account") and r["Account"].get("Id"):
                key = (str(r["Account"]["Id"]), tuple(account_extra))
                self._accounts_read[key] = convert.to_account(self.instance, r["Account"], account_extra)
        by_id = {r["Id"]: r for r in found}
        return self._deals([by_id[i] for i in dict.fromkeys(ids) if i in by_id], extra)

    def _deals(self, records: list[Rec], extra: Sequence[str]) -> list[Deal]:
        return [convert.to_deal(self.instance, r, self._contact_ids(r), extra) for r in records]

    def _contact_ids(self, record: Rec) -> list[str]:
        """The Opportunity's contacts from its nested contact roles, primary first; a nested result
        cut short (``done: false``) is read to its end through its ``nextRecordsUrl``."""
        nested = record.get(convert.ROLES)
        if not nested:
            return []  # Salesforce renders a subquery without rows as null
        token = None if nested.get("done", True) else nested.get("nextRecordsUrl")
        roles = self._drain("contact_roles.query", [dict(r) for r in nested.get("records") or ()], token)
        ordered = sorted(roles, key=lambda r: not r.get("IsPrimary"))
        return list(dict.fromkeys(str(r["ContactId"]) for r in ordered if r.get("ContactId")))

    # --- accounts, contacts, owners --------------------------------------------------------------
    def read_accounts(self, ids: Sequence[str], options: ReadOptions) -> list[Account]:
        """Accounts by id; those ``read_deals_by_id`` just read as parent fields (same columns) cost nothing."""
        extra = options.for_kind(ObjectKind.ACCOUNT)
        known = [self._accounts_read[(i, tuple(extra))] for i in ids if (i, tuple(extra)) in self._accounts_read]
        rest = [i for i in ids if (i, tuple(extra)) not in self._accounts_read]
        found = self._by_ids("accounts.query", "Account", (*convert.ACCOUNT_FIELDS, *extra), rest) if rest else []
        return known + [convert.to_account(self.instance, r, extra) for r in found]

    def read_contacts(self, ids: Sequence[str], options: ReadOptions) -> list[Contact]:
        extra = options.for_kind(ObjectKind.CONTACT)
        found = self._by_ids("contacts.query", "Contact", (*convert.CONTACT_FIELDS, *extra), ids)
        return [convert.to_contact(self.instance, r, extra) for r in found]

    def read_owners(self) -> list[Owner]:
        """Active Users."""
        soql = f"SELECT {', '.join(convert.OWNER_FIELDS)} FROM User WHERE IsActive = true ORDER BY Id"
        return [convert.to_owner(self.instance, r) for r in self._query_all("users.query", soql)]

    # --- cases (TICKET_SOURCE) --------------------------------------------------------------------
    def read_tickets(self, *, since: datetime | None, page_token: str | None) -> Page[Ticket]:
        """Cases changed at or after ``since`` (every Case on the first run), oldest first, with their Account.

        Cases carry the CRM's own Account ids, so there is no ``read_ticket_accounts``. With
        ``read_cases = false`` nothing is read (no call, no login)."""
        if not self.settings.read_cases:
            return Page([])
        soql = cases.case_soql(since, self.settings.case_filter)
        try:
            records, token = self._query_page("cases.query", soql, page_token)
        except ApiError as exc:
            if exc.status == 400 and "INVALID_TYPE" in str(exc):
                raise ApiError(
                    f"{self.where}: Salesforce answered INVALID_TYPE for Case: the integration user cannot read "
                    f"Cases; grant it Read on Case, or set read_cases = false in [{self.where}]",
                    status=400,
                    endpoint="cases.query",
                ) from exc
            raise
        return Page([cases.to_ticket(self.instance, r) for r in records], token)

    # --- tasks -----------------------------------------------------------------------------------
    @property
    def _task_columns(self) -> str:
        return ", ".join((*convert.TASK_FIELDS, self.settings.task_key_field))

    def read_tasks(self, *, since: datetime | None, page_token: str | None) -> Page[Task]:
        """Tasks carrying a key, changed at or after ``since``, oldest first."""
        key = self.settings.task_key_field
        where = f"{key} != null" + (f" AND SystemModstamp >= {convert.soql_time(since)}" if since else "")
        soql = f"SELECT {self._task_columns} FROM Task WHERE {where} ORDER BY SystemModstamp, Id"
        records, token = self._query_page("tasks.query", soql, page_token)
        return Page([convert.to_task(self.instance, r, key) for r in records], token)

    def find_tasks(self, keys: Sequence[str], deal_ids: Mapping[str, str]) -> list[Task]:
        """Tasks by key (SOQL reads what was just written: no lag; ``deal_ids`` not needed)."""
        key = self.settings.task_key_field
        found = self._by_ids("tasks.query", "Task", (*convert.TASK_FIELDS, key), keys, key)
        return [convert.to_task(self.instance, r, key) for r in found]

    def _upserts_tasks(self) -> bool:
        definition = self._field_defs("Task").get(self.settings.task_key_field)
        return bool(definition and definition.get("externalId"))

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        """Upsert by the key field when it is an External ID; else look the keys up, create the rest."""
        if not batch:
            return []
        key_field = self.settings.task_key_field
        records = [convert.task_fields(w, key_field, self.settings.task_what) for w in batch]
        keys = [w.key for w in batch]
        if self._upserts_tasks():
            answer = self._collection("tasks.upsert", "PATCH", f"composite/sobjects/Task/{key_field}", records)
            return record_results(keys, answer)
        known: dict[str, str] = {}

        def create(sf: Any) -> Any:
            # No External ID: nothing stops a second Task with the same key, so every attempt (a
            # replayed run, the gate's retry after a timeout) looks its keys up before creating.
            from simple_salesforce import format_soql

            head = f"SELECT Id, {key_field} FROM Task WHERE {key_field}"
            for chunk in id_chunks(head, keys, len(keys)):  # long keys: more than one query, short URIs
                soql = format_soql(f"{head} IN {{}}", chunk)
                known.update({r[key_field]: r["Id"] for r in sf.query_all(soql, timeout=self._timeout)["records"]})
            todo = [(k, r) for k, r in zip(keys, records, strict=True) if k not in known]
            if not todo:
                return []
            body = {"allOrNone": False, "records": [r for _, r in todo]}
            answer = sf.restful("composite/sobjects", method="POST", json=body, timeout=self._timeout)
            return list(zip([k for k, _ in todo], answer, strict=False))

        pairs = self._call("tasks.create", create, write=True)
        results = {r.key: r for r in record_results([k for k, _ in pairs], [row for _, row in pairs])}
        results.update({k: WriteResult(k, ok=True, remote_id=i) for k, i in known.items()})
        return [results.get(k) or WriteResult(k, ok=False, error="no result (outcome unknown)") for k in keys]

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        """One collections update of the changed fields; patches without changes are not sent."""
        send = [p for p in batch if p.changes]
        done = {p.key: WriteResult(p.key, ok=True, remote_id=p.remote_id) for p in batch if not p.changes}
        if send:
            records = [
                {"attributes": {"type": "Task"}, "id": p.remote_id, **convert.patch_fields(p.changes)} for p in send
            ]
            answer = self._collection("tasks.update", "PATCH", "composite/sobjects", records)
            done.update({r.key: r for r in record_results([p.key for p in send], answer)})
        return [done[p.key] for p in batch]

    # --- fields ----------------------------------------------------------------------------------
    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        """One collections update on Opportunities, Accounts or Contacts; ``None`` clears a value."""
        if kind not in (ObjectKind.DEAL, ObjectKind.ACCOUNT, ObjectKind.CONTACT):
            raise ValueError(f"Salesforce connector cannot write fields on {kind}")
        if not batch:
            return []
        sobject = fields.sobject(kind)
        defs = self._field_defs(sobject)
        records = [
            {
                "attributes": {"type": sobject},
                "id": w.remote_id,
                **{name: _typed(defs.get(name), value) for name, value in w.values.items()},
            }
            for w in batch
        ]
        label = {ObjectKind.DEAL: "opportunities", ObjectKind.ACCOUNT: "accounts", ObjectKind.CONTACT: "contacts"}[kind]
        try:
            answer = self._collection(f"{label}.update", "PATCH", "composite/sobjects", records)
        except Exception as exc:
            missing = unknown_fields(exc) if status_of(exc) == 400 else ()
            if not missing:
                raise
            # a field deleted since the run began: Salesforce refuses the whole request
            self.describe_cache.pop(sobject, None)
            raise UnknownPropertiesError(missing, crm="Salesforce", endpoint=f"{label}.update") from exc
        return record_results([w.key for w in batch], answer)

    @classmethod
    def looks_like_owner_id(cls, value: str) -> bool:
        """A User id: 15 or 18 characters starting with 005."""
        return bool(USER_ID.match(value))

    def describe(self, kind: ObjectKind) -> dict[str, PropertySchema]:
        """The object's fields from describe()."""
        self.describe_cache.pop(fields.sobject(kind), None)
        return {name: fields.to_schema(f) for name, f in self._field_defs(fields.sobject(kind)).items()}

    def required_properties(self) -> list[PropertySpec]:
        return [
            PropertySpec(
                kind=ObjectKind.TASK,
                name=self.settings.task_key_field,
                label="onboard-sync key",
                type="string",
                unique=True,
                description="Idempotency key of a task created by onboard-sync. Do not edit.",
            )
        ]

    def ensure_properties(self, specs: Sequence[PropertySpec], *, apply: bool) -> list[SetupAction]:
        """Create missing custom fields with the Tooling API, or say what an admin must create."""
        actions: list[SetupAction] = []
        specs = list({(s.kind, s.name): s for s in specs}.values())
        refused = False
        for kind in dict.fromkeys(s.kind for s in specs):
            existing = self.describe(kind)
            obj = fields.sobject(kind)
            for spec in (s for s in specs if s.kind == kind):
                found = existing.get(spec.name)
                if found is not None:
                    problem = fields.mismatch(spec, found)
                    note = (
                        " (not an External ID: tasks are created, keys looked up before a retry)"
                        if (spec.unique and not found.unique)
                        else ""
                    )
                    text = f"{obj} field {spec.name} {problem}" if problem else f"{obj} field {spec.name} exists{note}"
                    actions.append(SetupAction(text, done=not problem))
                elif not apply:
                    text = f"would create {obj} field {spec.name} ({spec.type})"
                    actions.append(SetupAction(text, done=False, pending=True))
                elif refused:
                    actions.append(SetupAction(fields.admin_instruction(spec), done=False))
                else:
                    action = self._create_field(spec)
                    refused = not action.done
                    actions.append(action)
            self.describe_cache.pop(obj, None)
        return actions

    def _create_field(self, spec: PropertySpec) -> SetupAction:
        body = fields.tooling_body(spec)
        obj = fields.metadata_object(spec.kind)
        try:
            self._call(
                "tooling.custom_field",
                lambda sf: sf.restful("tooling/sobjects/CustomField", method="POST", json=body, timeout=self._timeout),
                write=True,
            )
        except Exception as exc:
            if status_of(exc) in (400,) and "DUPLICATE" in str(exc):
                return SetupAction(f"found {obj} field {spec.name}", done=True)
            if status_of(exc) in (401, 403, 404):
                return SetupAction(
                    f"the org refused the Tooling API ({status_of(exc)}): " + fields.admin_instruction(spec), done=False
                )
            raise
        return SetupAction(
            f"created {obj} field {spec.name} (grant field-level security to the integration "
            "user's profile or permission set if it is not a System Administrator)",
            done=True,
            changed=True,
        )


def _typed(definition: dict[str, Any] | None, value: str | None) -> Any:
    """A string value as the field's JSON type (numbers, booleans), truncated to its length."""
    if value is None or definition is None:
        return value
    kind = definition.get("type")
    if value == "":
        return None
    if kind in fields.NUMBER_TYPES:
        number = float(value)
        return int(number) if kind == "int" else number
    if kind == "boolean":
        return value.strip().lower() in ("true", "1", "yes")
    length = int(definition.get("length") or 0)
    return value[:length] if length and kind in ("string", "textarea", "url", "email", "phone") else value
