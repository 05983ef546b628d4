"""A PostgreSQL store opened for a worker holds as many connections as its reconciles need.

SQLAlchemy's default pool (5 + 10 overflow) made a worker with ``--concurrency 16`` fail reconciles
that waited 30 s for a connection (found by the multi-host tests); ``connections=N`` (``Store.open``
passes it to ``open_engine``) sizes the pool, and twenty connections held at once show it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

import pytest

from onboard_sync.store import Store
from onboard_sync.store.database import open_engine


@pytest.mark.postgres
def test_a_store_opened_for_many_reconciles_holds_that_many_connections(pg_schema_url: Callable[[], str]) -> None:
    url = pg_schema_url()
    with Store.open(url, connections=20):  # opens (and migrates) with the option, as the worker does
        pass
    engine = open_engine(url, read_only=False, connections=20).engine
    try:
        with ExitStack() as held:
            for _ in range(20):
                held.enter_context(engine.connect())
            assert engine.pool.checkedout() == 20
        assert engine.pool.size() == 20
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_default_pool_stays_small(pg_schema_url: Callable[[], str]) -> None:
    engine = open_engine(pg_schema_url(), read_only=False).engine
    try:
        assert engine.pool.size() == 5
    finally:
        engine.dispose()
