"""Bounded paged reads for the contract suites: no loop in a contract test can run forever.

:func:`read_all` follows a connector's page tokens from the first page until one has no next token,
and fails (an ``AssertionError`` naming the token) as soon as a token comes back or after
``max_pages`` pages, whatever the connector does. Used by :mod:`onboard_sync.testing.contract` and
:mod:`onboard_sync.testing.tickets`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onboard_sync.connector import Page


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


__all__ = ["read_all"]
