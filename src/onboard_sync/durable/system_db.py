"""Where the durable engine keeps its state: DBOS's system database, derived from the store's URL.

* PostgreSQL store: the same database, in a schema of its own. The store's schema is read from
  the server (``current_schema()``, e.g. set by ``options=-csearch_path=...`` in the URL); DBOS
  uses ``dbos`` beside ``public``, else ``<store schema>_dbos``, so deployments (and test runs)
  sharing one server in different schemas never share a queue.
* SQLite store: a file next to it, ``<store file>.dbos.sqlite``. That serves one machine only
  (DBOS's own docs: SQLite "can't be used in a distributed setting"); :func:`check_one_machine`
  refuses a second host.

Errors are one line naming what and where, never a password: an unreachable server names
host:port (:func:`unreachable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from onboard_sync.errors import UserError

APP_NAME = "onboard-sync"
"""The DBOS application name every worker, receiver and command uses."""


@dataclass(frozen=True)
class SystemDatabase:
    """DBOS's system database for one store: its URL (secret-bearing), schema and a safe display."""

    url: str
    schema: str
    display: str
    backend: str  # "postgresql" or "sqlite"

    @property
    def distributed(self) -> bool:
        """Whether workers on several machines can share it (PostgreSQL only)."""
        return self.backend == "postgresql"


def unreachable(url: str, exc: BaseException, where: str | None = None) -> UserError:
    """A one-line error for a PostgreSQL server that cannot be reached: host:port, no password.
    ``where`` says where the URL was set (``config.toml:LINE (onboard_sync.store)``)."""
    parsed = sa.engine.make_url(url)
    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    if parsed.password:
        text = text.replace(str(parsed.password), "***")
    return UserError(f"PostgreSQL at {server} (database {parsed.database}) unreachable: {text[:200]}", where=where)


def system_database(store_url: str, where: str | None = None) -> SystemDatabase:
    """The system database of the store at ``store_url`` (connects once to a PostgreSQL store);
    ``where`` (where the URL was set) prefixes its errors."""
    parsed = sa.engine.make_url(store_url)
    display = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise UserError(
                "the durable engine needs a store file or PostgreSQL, not an in-memory store", where=display
            )
        path = Path(parsed.database)
        return SystemDatabase(f"sqlite:///{path}.dbos.sqlite", "dbos", f"{path}.dbos.sqlite", "sqlite")
    if parsed.get_backend_name() != "postgresql":
        raise UserError(
            f"the durable engine runs on SQLite or PostgreSQL, not {parsed.get_backend_name()}", where=display
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    url = parsed.render_as_string(hide_password=False)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            schema = str(conn.execute(sa.text("SELECT current_schema()")).scalar_one() or "public")
    except sa.exc.OperationalError as exc:
        raise unreachable(url, exc, where) from None
    finally:
        engine.dispose()
    return SystemDatabase(url, "dbos" if schema == "public" else f"{schema}_dbos", display, "postgresql")
