"""Fixtures for the state-store tests: a store URL per backend (SQLite file, Postgres schema).

Postgres tests run against ``ONBOARD_SYNC_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), each in a fresh schema selected
through ``search_path`` and dropped afterwards; they are skipped only when the server
cannot be reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from onboard_sync.store import Store
from onboard_sync.testing.postgres import SchemaFactory, pg_unreachable

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def pg_schema_url() -> Iterator[Callable[[], str]]:
    """A factory of store URLs, each pointing at a new empty Postgres schema (dropped after)."""
    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    factory = SchemaFactory()
    yield factory
    factory.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path, request: pytest.FixtureRequest) -> str:
    """A URL for a fresh, empty store on the parametrized backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("pg_schema_url")()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened
