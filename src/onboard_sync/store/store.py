"""The state store: ``Store.open(url)`` and everything the sync engine remembers between runs.

A SQLite file by default, PostgreSQL by URL (DESIGN §11). Opening a store writable
migrates its schema to head (alembic, packaged); ``read_only=True`` (``onboard-sync plan``)
leaves the database byte-for-byte unchanged and creates no file. The operations are
grouped in mixins by topic: onboardings/transitions/cursors (``onboardings.py``), cached
facts (``facts.py``), the task ledger and written fields (``tasks.py``), audit/runs
(``journal.py``), the webhook inbox (``inbox.py``: a SQLite store keeps it in a file of its own),
tickets/links/health history/alert episodes
(``health.py``), worker heartbeats (``workers.py``). Called by the sync engine, the CLI and the webhook worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from onboard_sync.errors import UserError
from onboard_sync.store import locks
from onboard_sync.store import migrate as _migrate
from onboard_sync.store.base import StoreBase
from onboard_sync.store.database import DEFAULT_BUSY_TIMEOUT_MS, Opened, open_engine, redact_url
from onboard_sync.store.facts import FactsMixin
from onboard_sync.store.health import HealthMixin
from onboard_sync.store.inbox import InboxMixin
from onboard_sync.store.journal import JournalMixin
from onboard_sync.store.onboardings import OnboardingsMixin
from onboard_sync.store.tasks import TasksMixin
from onboard_sync.store.workers import WorkersMixin


def _open_error(exc: BaseException, display: str, password: str | None) -> UserError:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())
    if password:
        text = text.replace(password, "***")
    return UserError(f"cannot open the state store: {text}", where=display)


class Store(OnboardingsMixin, FactsMixin, TasksMixin, JournalMixin, InboxMixin, HealthMixin, WorkersMixin, StoreBase):
    """What onboard-sync remembers between runs. Open with ``Store.open(url)``.

    Outside ``transaction()`` every mutating call commits by itself. One ``Store`` may be
    used from several threads; a ``transaction()`` belongs to the thread that opened it.
    """

    def __init__(self, opened: Opened, *, read_only: bool, clock: Callable[[], datetime] | None) -> None:
        super().__init__(opened, read_only=read_only, clock=clock)
        self.schema_revision: str | None = None
        self._closed = False

    @classmethod
    def open(
        cls,
        url: str,
        *,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        must_exist: bool = False,
        connections: int | None = None,
    ) -> Store:
        """Open the store at ``url`` (``sqlite:///path/state.db`` or ``postgresql+psycopg://...``).

        Writable: creates the SQLite file (and its folder) if needed and migrates the
        schema to head; a store already at head is not written to. ``read_only``: no
        migration and no file created; a missing SQLite file gives an empty in-memory
        store; a schema behind head raises UserError asking to run ``onboard-sync sync``
        or ``store upgrade``. ``must_exist`` (``status``, ``report``): a SQLite file that is not
        there is a UserError naming its path instead of an empty store. ``clock`` supplies
        "now" for ``updated_at`` stamps (simulator). ``connections``: the PostgreSQL pool's size
        (``onboard-sync worker`` sizes it to its concurrency).
        Unreachable or corrupt stores raise UserError naming the URL (password hidden).
        """
        opened = open_engine(
            url, read_only=read_only, busy_timeout_ms=busy_timeout_ms, must_exist=must_exist, connections=connections
        )
        password = sa.engine.make_url(url).password
        store = cls(opened, read_only=read_only, clock=clock)
        try:
            if read_only and not opened.memory:
                store.schema_revision = _migrate.check_current(opened.engine, opened.display)
            else:
                store.schema_revision = _migrate.upgrade_to_head(opened.engine, opened.display)[1]
        except UserError:
            opened.engine.dispose()
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            opened.engine.dispose()
            raise _open_error(exc, opened.display, str(password) if password else None) from exc
        return store

    @staticmethod
    def migrate(url: str) -> tuple[str | None, str]:
        """Migrate the store at ``url`` to head (``onboard-sync store upgrade``); return (before, after)."""
        opened = open_engine(url, read_only=False)
        password = sa.engine.make_url(url).password
        try:
            return _migrate.upgrade_to_head(opened.engine, opened.display)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise _open_error(exc, opened.display, str(password) if password else None) from exc
        finally:
            opened.engine.dispose()

    @staticmethod
    def head_revision() -> str:
        """The schema revision this version of onboard-sync expects."""
        return _migrate.head_revision()

    def close(self) -> None:
        """Release all connections. Idempotent."""
        if not self._closed:
            self._closed = True
            self._close_inbox()
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self._read_only else "read-write"
        return f"<Store {self.url_for_display} {mode}>"

    @contextmanager
    def run_lock(self, name: str = "sync") -> Iterator[None]:
        """Hold the run lock ``name`` for the block, or raise LockHeld at once if another holds it.

        SQLite: an OS file lock on ``<db file>.<name>.lock``; Postgres: a session advisory
        lock on a dedicated connection. Both die with the holding process (even SIGKILL).
        Not available on a read-only store (it would create a file).
        """
        self._check_writable()
        where = self.url_for_display
        if self._opened.backend == "postgresql":
            with locks.pg_advisory_lock(self._engine, name, where):
                yield
        elif self._opened.path is not None:
            with locks.file_lock(self._opened.path, name, where):
                yield
        else:
            with locks.memory_lock(self, name, where):
                yield


__all__ = ["Store", "redact_url"]
