"""A throwaway PostgreSQL schema per test: for the store's tests, the engine's and plugin authors'.

The server is ``ONBOARD_SYNC_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). :class:`SchemaFactory` makes store URLs
that each select a new empty schema through ``search_path`` and drops them (with any
``<schema>_dbos`` schema the durable engine made beside them) on ``close()``.
:func:`pg_unreachable` says why the server cannot be used, so a test can skip with the reason.
"""

from __future__ import annotations

import os
import uuid
from functools import cache

import sqlalchemy as sa

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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


class SchemaFactory:
    """Store URLs on fresh schemas of the test server; ``close()`` drops them all."""

    def __init__(self) -> None:
        self._admin = sa.create_engine(pg_base_url(), poolclass=sa.pool.NullPool)
        self._schemas: list[str] = []

    def __call__(self) -> str:
        schema = f"onb_test_{uuid.uuid4().hex[:12]}"
        with self._admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        self._schemas.append(schema)
        url = sa.engine.make_url(pg_base_url()).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def close(self) -> None:
        with self._admin.begin() as conn:
            for schema in self._schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}_dbos" CASCADE'))
        self._admin.dispose()
