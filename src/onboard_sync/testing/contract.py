"""The connector contract suite: what every deal-source / task-sink connector must do, as pytest tests.

For connector authors (built-in and third-party). Subclass :class:`ConnectorContract` in a test module
and provide a ``harness`` fixture that yields a :class:`ContractHarness`: a connector factory and the
controls of a simulator of your CRM, started for the test::

    from onboard_sync.testing.contract import ConnectorContract, ContractHarness

    class TestMyCrmContract(ConnectorContract):
        @pytest.fixture
        def harness(self) -> Iterator[ContractHarness]:
            with MyCrmSandbox(deals=40) as sb:
                yield ContractHarness(make_connector=lambda gate: MyConnector(..., gate), touch_deal=..., ...)

The connector is called through the core's real ``ApiGate`` (error classification, retries, the one
renewal of credentials on a 401, plan-mode refusal of writes), on a simulated clock. The suite checks
the pull (and the accounts a deal page may carry), reads by id, incremental reads (a touched deal, a
deal that left the won stage, nothing older), paging (ends, no record twice), batch creates with a
partial failure, idempotent replay through ``find_tasks`` (given each key's deal), that every write is
flagged so ``plan`` refuses it, field writes, task updates, schema describe and setup, and credentials
that expire. Every loop is bounded (``max_pages``): a connector that ignores its cursor fails, never
hangs. Ticket sources have their own suite, :mod:`onboard_sync.testing.tickets`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onboard_sync.calls.gate import ApiGate, WriteRefused
from onboard_sync.connector import (
    Capability,
    Connector,
    FieldWrite,
    Page,
    PropertySpec,
    ReadOptions,
    TaskPatch,
    TaskWrite,
)
from onboard_sync.records import Deal, ObjectKind, TaskStatus
from onboard_sync.testing.support import BuildsConnectors, read_all


@dataclass
class ContractHarness(BuildsConnectors):
    """A connector factory and the controls of the simulator behind it."""

    make_connector: Callable[[ApiGate], Connector]
    """Build a connector whose ``call`` is the given gate."""
    touch_deal: Callable[[str], None]
    """Change a deal in the CRM, its stage untouched, so that its modification time moves to now."""
    lose_deal: Callable[[str], None]
    """Move a won deal out of the won stage (lost or reopened), as a person would: modified now."""
    now: Callable[[], datetime]
    """The CRM's current time."""
    arm_partial_failure: Callable[[], None]
    """Make the next batch task create fail for some (not all) of its records."""
    expire_session: Callable[[], None] | None = None
    """Make the connector's session or access token invalid (it must renew it on the 401). ``None``:
    static credentials (an API key, a private-app token) that never expire: nothing to renew."""
    field_property: str = "onboard_sync_contract_phase"
    """A deal property the suite creates with ``ensure_properties`` and writes with ``write_fields``."""
    min_pages: int = 2
    """Backfill pages the simulator is set up to produce (small page size), at least 2."""
    max_pages: int = 200
    """More pages than this in one read fails the test (a connector that never stops paging)."""
    options: ReadOptions = field(default_factory=ReadOptions)
    made: list[Connector] = field(default_factory=list)


class ConnectorContract:
    """The contract tests. Subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def contract(self, harness: ContractHarness) -> Iterator[ContractHarness]:
        conn = harness.connector()
        conn.ensure_properties(conn.required_properties(), apply=True)
        yield harness
        harness.close()

    @staticmethod
    def _backfill(conn: Connector, harness: ContractHarness) -> tuple[list[Deal], int]:
        read = lambda t: conn.read_deals(since=None, page_token=t, options=harness.options)  # noqa: E731
        return read_all(read, harness.max_pages)

    @staticmethod
    def _changed(conn: Connector, harness: ContractHarness, since: datetime) -> list[Deal]:
        read = lambda t: conn.read_deals(since=since, page_token=t, options=harness.options)  # noqa: E731
        return read_all(read, harness.max_pages)[0]

    @staticmethod
    def _writes(deal: Deal, prefix: str, n: int) -> list[TaskWrite]:
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        return [
            TaskWrite(
                key=f"contract:{deal.id}:{prefix}{i}:1",
                subject=f"Contract task {prefix}{i}",
                body="written by the connector contract suite",
                due_at=due,
                owner_id=deal.owner_id,
                deal_id=deal.id,
                account_id=deal.account_ids[0] if deal.account_ids else None,
                contact_ids=deal.contact_ids,
            )
            for i in range(n)
        ]

    @staticmethod
    def _deals_of(writes: Sequence[TaskWrite]) -> dict[str, str]:
        """What the core hands ``find_tasks``: each key's deal (from its store, never from the key)."""
        return {w.key: w.deal_id for w in writes if w.deal_id}

    # --- pull ------------------------------------------------------------------------------------
    def test_pull_reads_won_deals_with_accounts_contacts_and_owners(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deals, _ = self._backfill(conn, contract)
        assert deals, "the sandbox has won deals"
        assert all(d.is_won and d.is_closed for d in deals), "a backfill reads won deals only"
        assert all(d.source == conn.instance and d.updated_at.tzinfo for d in deals)
        with_account = [d for d in deals if d.account_ids]
        assert with_account
        account_ids = sorted({d.account_ids[0] for d in with_account})[: conn.max_read_batch]
        accounts = conn.read_accounts(account_ids, contract.options)
        assert {a.id for a in accounts} == set(account_ids)
        contact_ids = sorted({c for d in deals for c in d.contact_ids})[: conn.max_read_batch]
        if contact_ids:
            assert {c.id for c in conn.read_contacts(contact_ids, contract.options)} == set(contact_ids)
        owners = conn.read_owners()
        assert owners
        owner_ids = {o.id for o in owners}
        assert all(d.owner_id in owner_ids for d in deals if d.owner_id)
        assert conn.read_accounts(["does-not-exist"], contract.options) == [], "missing ids are skipped"

    def test_accounts_a_page_carries_are_its_deals_accounts_as_read_by_id(self, contract: ContractHarness) -> None:
        """``Page.accounts`` (optional) holds only the accounts of the page's deals, as ``read_accounts`` reads them."""
        conn = contract.connector()
        pages: list[Page[Any]] = []
        read_all(
            lambda t: conn.read_deals(since=None, page_token=t, options=contract.options),
            contract.max_pages,
            pages=pages,
        )
        carried: dict[str, Any] = {}
        for page in pages:
            own = {d.account_ids[0] for d in page.records if d.account_ids}
            assert {a.id for a in page.accounts} <= own, "a page carries only its own deals' accounts"
            carried.update((a.id, a) for a in page.accounts)
        sample = sorted(carried)[: conn.max_read_batch]
        by_id = {a.id: a for a in conn.read_accounts(sample, contract.options)}
        assert [carried[i] for i in sample] == [by_id.get(i) for i in sample]

    def test_deals_read_by_id_are_the_deals_pulled_and_missing_ids_are_left_out(
        self, contract: ContractHarness
    ) -> None:
        """Webhook runs and the daily check for deleted deals read by id; a deal left out counts as deleted."""
        conn = contract.connector()
        deals, _ = self._backfill(conn, contract)
        sample = deals[: max(1, min(3, conn.max_read_batch - 1))]
        found = conn.read_deals_by_id([d.id for d in sample] + ["does-not-exist"], contract.options)
        assert sorted(d.id for d in found) == sorted(d.id for d in sample), "every existing id, no other"
        pulled = {d.id: d for d in sample}
        for deal in found:
            assert deal.source == conn.instance
            assert (deal.is_won, deal.account_ids, deal.owner_id) == (
                pulled[deal.id].is_won,
                pulled[deal.id].account_ids,
                pulled[deal.id].owner_id,
            ), f"deal {deal.id} reads by id as it was pulled"

    def test_incremental_read_returns_what_changed_since_and_nothing_older(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deals, _ = self._backfill(conn, contract)
        since = contract.now() - timedelta(seconds=1)
        target = deals[0]
        contract.touch_deal(target.id)
        changed = self._changed(conn, contract, since)
        ids = [d.id for d in changed]
        assert target.id in ids, "a deal changed after `since` is read"
        old = [d.id for d in changed if d.updated_at < since - timedelta(seconds=1)]
        assert old == [], f"an incremental read returned deals changed before `since`: {old[:5]} (`since` ignored?)"

    def test_incremental_read_sees_a_deal_that_left_the_won_stage(self, contract: ContractHarness) -> None:
        """Incremental reads cover every stage: a tracked deal lost or reopened must be seen, or its
        onboarding never ends. (A backfill reads won deals only; a changed-since read must not.)"""
        conn = contract.connector()
        deals, _ = self._backfill(conn, contract)
        target = deals[-1]
        since = contract.now() - timedelta(seconds=1)
        contract.lose_deal(target.id)
        changed = {d.id: d for d in self._changed(conn, contract, since)}
        assert target.id in changed, "a deal that left the won stage is not read incrementally (won deals only?)"
        assert not changed[target.id].is_won

    def test_paging_terminates_and_reads_each_record(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deals, pages = self._backfill(conn, contract)
        assert pages >= contract.min_pages, "the harness should make the sandbox page"
        ids = [d.id for d in deals]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        assert twice == [], f"deals read twice within one backfill (pages overlap?): {twice[:5]}"

    # --- writes ----------------------------------------------------------------------------------
    def test_batch_write_with_partial_failure_reports_each_record(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deal = self._backfill(conn, contract)[0][0]
        writes = self._writes(deal, "partial", 4)
        contract.arm_partial_failure()
        results = conn.create_tasks(writes)
        assert [r.key for r in results] == [w.key for w in writes], "one result per input, in order"
        ok = [r for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        assert ok, "some records succeed"
        assert failed, "some records fail"
        assert all(r.remote_id for r in ok)
        assert all(r.error for r in failed)
        retry = conn.create_tasks([w for w in writes if w.key in {r.key for r in failed}])
        assert all(r.ok for r in retry)
        found = conn.find_tasks([w.key for w in writes], self._deals_of(writes))
        assert sorted(t.key or "" for t in found) == sorted(w.key for w in writes)

    def test_replaying_a_create_never_duplicates(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deal = self._backfill(conn, contract)[0][0]
        writes = self._writes(deal, "replay", 3)
        first = conn.create_tasks(writes)
        assert all(r.ok for r in first)
        again = contract.connector().create_tasks(writes)  # a crash recovery or a replayed run
        assert all(r.ok for r in again)
        assert [r.remote_id for r in again] == [r.remote_id for r in first], "the replay names the existing tasks"
        found = conn.find_tasks([w.key for w in writes], self._deals_of(writes))
        assert sorted(t.key or "" for t in found) == sorted(w.key for w in writes), "exactly one task per key"
        assert {t.id for t in found} == {r.remote_id for r in first}
        owned, _ = read_all(lambda t: conn.read_tasks(since=None, page_token=t), contract.max_pages)
        mine = [t.key for t in owned if t.key in {w.key for w in writes}]
        assert sorted(mine) == sorted(w.key for w in writes), "read_tasks sees each task once"

    def test_every_write_is_flagged_so_plan_refuses_it(self, contract: ContractHarness) -> None:
        """``plan`` must write nothing: its gate refuses calls flagged ``write=True``. A create, update
        or field write sent unflagged would go through."""
        conn = contract.connector()
        deal = self._backfill(conn, contract)[0][0]
        writes = self._writes(deal, "plan", 2)
        planning = contract.connector(plan_mode=True)
        with pytest.raises(WriteRefused):
            planning.create_tasks(writes)
        assert conn.find_tasks([w.key for w in writes], self._deals_of(writes)) == [], "plan created tasks"
        if Capability.FIELD_SINK in conn.capabilities:
            field_write = FieldWrite("contract:plan:fields", ObjectKind.DEAL, deal.id, {contract.field_property: "x"})
            with pytest.raises((WriteRefused, NotImplementedError)):
                planning.write_fields(ObjectKind.DEAL, [field_write])
        created = conn.create_tasks(writes[:1])[0]
        patch = TaskPatch(created.key, created.remote_id or "", {"status": TaskStatus.COMPLETED})
        with pytest.raises((WriteRefused, NotImplementedError)):
            planning.update_tasks([patch])

    def test_completing_a_task_is_seen_by_find_tasks(self, contract: ContractHarness) -> None:
        """``update_tasks`` closes the task of a cleared alert (``close_when_cleared``)."""
        conn = contract.connector()
        deal = self._backfill(conn, contract)[0][0]
        writes = self._writes(deal, "close", 1)
        created = conn.create_tasks(writes)[0]
        assert created.ok
        try:
            (result,) = conn.update_tasks(
                [TaskPatch(created.key, created.remote_id or "", {"status": TaskStatus.COMPLETED})]
            )
        except NotImplementedError:
            pytest.skip("update_tasks is not implemented (the engine calls it only for close_when_cleared)")
        assert (result.key, result.ok) == (created.key, True), result.error
        (task,) = conn.find_tasks([created.key], self._deals_of(writes))
        assert task.status is TaskStatus.COMPLETED

    def test_field_writes_set_and_clear_deal_properties(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        if Capability.FIELD_SINK not in conn.capabilities:
            pytest.skip("not a field sink")
        name = contract.field_property
        spec = PropertySpec(ObjectKind.DEAL, name, "Onboarding phase (contract)", "string")
        conn.ensure_properties([spec], apply=True)
        deals = self._backfill(conn, contract)[0][:2]
        options = ReadOptions({ObjectKind.DEAL: (name,)})
        writes = [FieldWrite(f"contract:{d.id}:fields", ObjectKind.DEAL, d.id, {name: f"phase-{d.id}"}) for d in deals]
        results = conn.write_fields(ObjectKind.DEAL, writes)
        assert [(r.key, r.ok) for r in results] == [(w.key, True) for w in writes], [r.error for r in results]
        read = {d.id: d.properties.get(name) for d in conn.read_deals_by_id([d.id for d in deals], options)}
        assert read == {d.id: f"phase-{d.id}" for d in deals}, "the values written are read back"
        cleared = conn.write_fields(
            ObjectKind.DEAL, [FieldWrite(writes[0].key, ObjectKind.DEAL, deals[0].id, {name: None})]
        )
        assert cleared[0].ok
        (again,) = conn.read_deals_by_id([deals[0].id], options)
        assert again.properties.get(name) in (None, ""), "None clears a property"

    # --- schema ----------------------------------------------------------------------------------
    def test_describe_lists_properties_and_setup_is_idempotent(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deal_schema = conn.describe(ObjectKind.DEAL)
        assert deal_schema
        assert all(p.name == name and p.type for name, p in deal_schema.items())
        required = conn.required_properties()
        for spec in required:
            assert spec.name in conn.describe(spec.kind), f"setup created {spec.name}"
        again = conn.ensure_properties(required, apply=True)
        assert all(a.done and not a.changed for a in again), "a second setup changes nothing"

    # --- auth ------------------------------------------------------------------------------------
    def test_an_expired_session_is_renewed(self, contract: ContractHarness) -> None:
        if contract.expire_session is None:
            pytest.skip("static credentials (ContractHarness.expire_session is None): nothing expires")
        conn = contract.connector()
        assert conn.read_owners()
        contract.expire_session()
        assert conn.read_owners(), "the connector renewed its session (renew_credentials) and the call went again"
        deals, _ = self._backfill(conn, contract)
        assert deals
