"""Store part: the cache of CRM facts evaluation needs (deals, accounts, contacts, owners).

Deals, accounts and contacts live in one ``facts`` table keyed by (source, kind, id), each
record stored whole as codec JSON so it round-trips exactly. A put never replaces a cached
record with an *older* one (by ``updated_at``), so an out-of-order webhook or an
overlapping incremental pull cannot regress the cache. Mixed into ``Store``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from onboard_sync.records import Account, Contact, Deal, Owner
from onboard_sync.store import codec
from onboard_sync.store import schema as t
from onboard_sync.store.base import StoreBase
from onboard_sync.store.rows import FACT_KINDS as _KIND
from onboard_sync.store.rows import owner

R = TypeVar("R", Deal, Account, Contact)


class FactsMixin(StoreBase):
    """Cached deals, accounts, contacts and owners."""

    def _put_records(self, records: Sequence[Deal] | Sequence[Account] | Sequence[Contact], kind: str) -> None:
        self._check_writable()
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        for rec in records:
            current = by_key.get((rec.source, rec.id))
            if current is not None and current["updated_at"] > rec.updated_at:
                continue  # same batch holds a newer version of this record
            by_key[(rec.source, rec.id)] = {
                "source": rec.source,
                "kind": kind,
                "id": rec.id,
                "updated_at": rec.updated_at,
                "data": codec.dumps(rec),
            }
        rows = list(by_key.values())
        with self._write() as conn:
            self._upsert(
                conn,
                t.facts,
                rows,
                keys=["source", "kind", "id"],
                where=lambda stmt: stmt.excluded.updated_at >= t.facts.c.updated_at,
            )

    def _get_records(self, cls: type[R], source: str, ids: Collection[str]) -> dict[str, R]:
        c = t.facts.c
        base = sa.select(c.data).where(c.source == source, c.kind == _KIND[cls])
        with self._read() as conn:
            rows = self._select_in(conn, base, c.id, ids)
        records = (codec.loads(cls, r.data) for r in rows)
        return {rec.id: rec for rec in records}

    def _all_records(self, cls: type[R], source: str) -> dict[str, R]:
        c = t.facts.c
        query = sa.select(c.data).where(c.source == source, c.kind == _KIND[cls])
        with self._read() as conn:
            records = [codec.loads(cls, data) for data in conn.execute(query).scalars()]
        return {rec.id: rec for rec in records}

    # -- deals --------------------------------------------------------------------------

    def put_deals(self, deals: Sequence[Deal]) -> None:
        """Cache deals (upsert; an older ``updated_at`` never replaces a newer one)."""
        self._put_records(deals, "deal")

    def get_deal(self, source: str, deal_id: str) -> Deal | None:
        """One cached deal, or None."""
        return self._get_records(Deal, source, [deal_id]).get(deal_id)

    def get_deals(self, source: str, ids: Collection[str]) -> dict[str, Deal]:
        """Cached deals by id; ids not cached are absent."""
        return self._get_records(Deal, source, ids)

    def all_deals(self, source: str) -> dict[str, Deal]:
        """Every cached deal of ``source``, by id."""
        return self._all_records(Deal, source)

    # -- accounts -----------------------------------------------------------------------

    def put_accounts(self, accounts: Sequence[Account]) -> None:
        """Cache accounts (upsert; an older ``updated_at`` never replaces a newer one)."""
        self._put_records(accounts, "account")

    def get_account(self, source: str, account_id: str) -> Account | None:
        """One cached account, or None."""
        return self._get_records(Account, source, [account_id]).get(account_id)

    def get_accounts(self, source: str, ids: Collection[str]) -> dict[str, Account]:
        """Cached accounts by id; ids not cached are absent."""
        return self._get_records(Account, source, ids)

    def all_accounts(self, source: str) -> dict[str, Account]:
        """Every cached account of ``source`` (CRM companies, helpdesk organizations), by id."""
        return self._all_records(Account, source)

    # -- contacts -----------------------------------------------------------------------

    def put_contacts(self, contacts: Sequence[Contact]) -> None:
        """Cache contacts (upsert; an older ``updated_at`` never replaces a newer one)."""
        self._put_records(contacts, "contact")

    def get_contacts(self, source: str, ids: Collection[str]) -> dict[str, Contact]:
        """Cached contacts by id; ids not cached are absent."""
        return self._get_records(Contact, source, ids)

    # -- owners -------------------------------------------------------------------------

    def put_owners(self, source: str, owners: Sequence[Owner]) -> None:
        """Replace the owner list of ``source`` (owners are always read in full).

        Owners missing from ``owners`` are removed; ``owners`` of another source raise
        ValueError.
        """
        self._check_writable()
        wrong = {o.source for o in owners} - {source}
        if wrong:
            raise ValueError(f"put_owners({source!r}) got owners of other sources: {sorted(wrong)}")
        by_id = {
            o.id: {"source": source, "id": o.id, "email": o.email, "name": o.name, "active": o.active} for o in owners
        }
        rows = list(by_id.values())
        with self._write() as conn:
            conn.execute(sa.delete(t.owners).where(t.owners.c.source == source))
            if rows:
                conn.execute(sa.insert(t.owners), rows)

    def owners(self, source: str) -> dict[str, Owner]:
        """The owners of ``source``, by id."""
        c = t.owners.c
        query = sa.select(t.owners).where(c.source == source).order_by(c.id)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return {r.id: owner(r) for r in rows}
