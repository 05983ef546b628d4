"""The connector contract suite: what every deal-source / task-sink connector must do, as pytest tests.

For connector authors (built-in and third-party). Subclass :class:`ConnectorContract` in a test module
and provide a ``harness`` fixture that yields a :class:`ContractHarness`: a connector wired to a
sandbox-like controller (a simulator of your CRM, started for the test)::

    from onboard_sync.testing.contract import ConnectorContract, ContractHarness

    class TestMyCrmContract(ConnectorContract):
        @pytest.fixture
        def harness(self) -> Iterator[ContractHarness]:
            with MyCrmSandbox(deals=40) as sb:
                yield ContractHarness(make_connector=lambda: MyConnector(...), touch_deal=..., ...)

The connector is called through the core's real ``ApiGate`` (error classification, retries, the
401 → AuthError rule), as the engine calls it. The suite covers: pull (and the accounts a deal page
may carry, ``Page.accounts``), incremental reads, paging
termination, batch writes with partial failure, idempotent replay of creates, schema describe, and a
session/token that expires between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onboard_sync.connector import Connector, Page, ReadOptions, TaskWrite
from onboard_sync.records import Deal, ObjectKind
from onboard_sync.sync.gate import ApiGate


@dataclass
class ContractHarness:
    """A connector factory and the controls of the sandbox behind it."""

    make_connector: Callable[[ApiGate], Connector]
    """Build a connector whose ``call`` is the given gate."""
    touch_deal: Callable[[str], None]
    """Change a deal in the CRM so that its modification time moves to now."""
    now: Callable[[], datetime]
    """The CRM's current time."""
    expire_session: Callable[[], None]
    """Make the connector's current session or access token invalid (it must renew it)."""
    arm_partial_failure: Callable[[], None]
    """Make the next batch task create fail for some (not all) of its records."""
    min_pages: int = 2
    """Backfill pages the sandbox is set up to produce (small page size), at least 2."""
    options: ReadOptions = field(default_factory=ReadOptions)
    made: list[Connector] = field(default_factory=list)

    def connector(self) -> Connector:
        # retries and rate limits wait on a simulated clock: no real sleeping, and no spinning on a
        # Retry-After either (a fake sleep with a real clock would busy-wait until it passed)
        now = [0.0]

        def sleep(seconds: float) -> None:
            now[0] += seconds

        gate = ApiGate(sleep=sleep, clock=lambda: now[0])
        conn = self.make_connector(gate)
        gate.bind_connector(conn)
        self.made.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.made:
            conn.close()


def read_all(read: Callable[[str | None], Page[Any]], max_pages: int = 1000) -> tuple[list[Any], int]:
    """Every record of a paged read, and the number of pages; fails on a loop or a runaway."""
    records: list[Any] = []
    seen: set[str] = set()
    token: str | None = None
    for pages in range(1, max_pages + 1):
        page = read(token)
        records += page.records
        if page.next_token is None:
            return records, pages
        assert page.next_token not in seen, f"page token {page.next_token!r} came back: paging loops"
        seen.add(page.next_token)
        token = page.next_token
    raise AssertionError(f"paging did not end within {max_pages} pages")


class ConnectorContract:
    """The contract tests. Subclasses provide the ``harness`` fixture."""

    @pytest.fixture
    def contract(self, harness: ContractHarness) -> Iterator[ContractHarness]:
        conn = harness.connector()
        conn.ensure_properties(conn.required_properties(), apply=True)
        yield harness
        harness.close()

    @staticmethod
    def _backfill(conn: Connector, options: ReadOptions) -> tuple[list[Deal], int]:
        return read_all(lambda t: conn.read_deals(since=None, page_token=t, options=options))

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

    # --- pull ------------------------------------------------------------------------------------
    def test_pull_reads_won_deals_with_accounts_contacts_and_owners(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deals, _ = self._backfill(conn, contract.options)
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
        carried: dict[str, Any] = {}
        token: str | None = None
        while True:
            page = conn.read_deals(since=None, page_token=token, options=contract.options)
            own = {d.account_ids[0] for d in page.records if d.account_ids}
            assert {a.id for a in page.accounts} <= own, "a page carries only its own deals' accounts"
            carried.update((a.id, a) for a in page.accounts)
            if page.next_token is None:
                break
            token = page.next_token
        sample = sorted(carried)[: conn.max_read_batch]
        by_id = {a.id: a for a in conn.read_accounts(sample, contract.options)}
        assert [carried[i] for i in sample] == [by_id.get(i) for i in sample]

    def test_incremental_read_returns_what_changed_since(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deals, _ = self._backfill(conn, contract.options)
        since = contract.now() - timedelta(seconds=1)
        target = deals[0]
        contract.touch_deal(target.id)
        changed, _ = read_all(lambda t: conn.read_deals(since=since, page_token=t, options=contract.options))
        ids = [d.id for d in changed]
        assert target.id in ids
        assert len(set(ids)) < len(deals) + 1
        assert all(d.updated_at >= since - timedelta(seconds=1) for d in changed)

    def test_paging_terminates_and_reads_each_record(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deals, pages = self._backfill(conn, contract.options)
        assert pages >= contract.min_pages, "the harness should make the sandbox page"
        assert len({d.id for d in deals}) == len(deals), "no record is read twice within one backfill"

    # --- writes ----------------------------------------------------------------------------------
    def test_batch_write_with_partial_failure_reports_each_record(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deal = self._backfill(conn, contract.options)[0][0]
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
        found = conn.find_tasks([w.key for w in writes])
        assert sorted(t.key or "" for t in found) == sorted(w.key for w in writes)

    def test_replaying_a_create_never_duplicates(self, contract: ContractHarness) -> None:
        conn = contract.connector()
        deal = self._backfill(conn, contract.options)[0][0]
        writes = self._writes(deal, "replay", 3)
        first = conn.create_tasks(writes)
        assert all(r.ok for r in first)
        again = contract.connector().create_tasks(writes)  # a crash recovery or a replayed run
        assert all(r.ok for r in again)
        assert [r.remote_id for r in again] == [r.remote_id for r in first], "the replay names the existing tasks"
        found = conn.find_tasks([w.key for w in writes])
        assert sorted(t.key or "" for t in found) == sorted(w.key for w in writes), "exactly one task per key"
        owned, _ = read_all(lambda t: conn.read_tasks(since=None, page_token=t))
        assert {w.key for w in writes} <= {t.key for t in owned}

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
        conn = contract.connector()
        assert conn.read_owners()
        contract.expire_session()
        assert conn.read_owners(), "the connector renewed its session and retried"
        deals, _ = self._backfill(conn, contract.options)
        assert deals
