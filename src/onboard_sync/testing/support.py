"""What the contract suites share: connectors on a gate with a simulated clock, and bounded paged reads.

:func:`gated_connector` builds a connector the way the runtime does (its classifier, limits and
renewal bound to a real ``ApiGate``), with a clock that the gate's sleeps move, so retries and rate
limits cost no real time. :func:`read_all` follows a connector's page tokens until one has no next
token, and fails (an ``AssertionError`` naming the token) as soon as a token comes back or after
``max_pages`` pages, whatever the connector does: no loop in a contract test can run forever. Used by
:mod:`onboard_sync.testing.contract` and :mod:`onboard_sync.testing.tickets`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onboard_sync.calls.gate import ApiGate
from onboard_sync.connector import Connector, Page


def gated_connector(make_connector: Callable[[ApiGate], Connector], *, plan_mode: bool = False) -> Connector:
    """A connector on a fresh gate bound to it (``plan_mode``: one that refuses writes, as ``plan``'s)."""
    # retries and rate limits wait on a simulated clock: no real sleeping, and no spinning on a
    # Retry-After either (a fake sleep with a real clock would busy-wait until it passed)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    gate = ApiGate(plan_mode=plan_mode, sleep=sleep, clock=lambda: now[0])
    conn = make_connector(gate)
    gate.bind_connector(conn)
    return conn


def read_all(
    read: Callable[[str | None], Page[Any]], max_pages: int = 200, *, pages: list[Page[Any]] | None = None
) -> tuple[list[Any], int]:
    """Every record of a paged read and the number of pages; fails on a repeated token or a runaway.
    With ``pages`` the pages themselves are kept there too."""
    records: list[Any] = []
    seen: set[str] = set()
    token: str | None = None
    for count in range(1, max_pages + 1):
        page = read(token)
        records += page.records
        if pages is not None:
            pages.append(page)
        if page.next_token is None:
            return records, count
        assert page.next_token not in seen, f"page token {page.next_token!r} came back: paging loops"
        seen.add(page.next_token)
        token = page.next_token
    raise AssertionError(f"paging did not end within {max_pages} pages (ContractHarness.max_pages)")


class BuildsConnectors:
    """Mixin of the harnesses: ``connector()`` builds one on a fresh gate, ``close()`` closes them all.
    The harness dataclass declares ``make_connector`` and ``made``."""

    make_connector: Callable[[ApiGate], Connector]
    made: list[Connector]

    def connector(self, *, plan_mode: bool = False) -> Connector:
        """A connector on a fresh gate (``plan_mode``: one that refuses writes, as ``plan``'s does)."""
        conn = gated_connector(self.make_connector, plan_mode=plan_mode)
        self.made.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.made:
            conn.close()


__all__ = ["BuildsConnectors", "gated_connector", "read_all"]
