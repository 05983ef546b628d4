"""Fixtures for the state-store tests: a store URL per backend (SQLite file, Postgres schema).

Postgres tests run against ``ONBOARD_SYNC_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), each in a fresh schema selected
through ``search_path`` and dropped afterwards; they are skipped only when the server
cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from functools import cache

import pytest
import sqlalchemy as sa

from onboard_sync.store import Store

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pg_base_url() -> str:
    return os.environ.get("ONBOARD_SYNC_TEST_POSTGRES_URL", DEFAULT_PG_URL)


@cache
def pg_unreachable() -> str | None:
    """Why the test Postgres server cannot be used, or None when it can."""
    url = pg_base_url()
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        return f"PostgreSQL at {shown} unreachable ({' '.join(str(exc.orig).split())[:160]})"
    finally:
        engine.dispose()
    return None


@pytest.fixture
def pg_schema_url() -> Iterator[Callable[[], str]]:
    """A factory of store URLs, each pointing at a new empty Postgres schema (dropped after)."""
    reason = pg_unreachable()
    if reason:
        pytest.skip(reason)
    admin = sa.create_engine(pg_base_url(), poolclass=sa.pool.NullPool)
    schemas: list[str] = []

    def make() -> str:
        schema = f"onb_test_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        url = sa.engine.make_url(pg_base_url()).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield make
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


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
