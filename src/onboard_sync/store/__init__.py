"""The state store: onboardings, the task idempotency ledger, cached facts, cursors, audit, runs.

``Store.open(url)`` opens a SQLite file (default) or PostgreSQL database and migrates it;
``Store.open(url, read_only=True)`` is for ``plan`` and changes nothing. See ``store.Store``.
``sqlite_reader.SqliteReader`` reads what ``status`` shows from a SQLite file without SQLAlchemy.

The names are imported on first use (``lazy_loader``; listed once, in ``__init__.pyi``): importing
a light submodule (``rows``, ``codec``, ``sqlite_reader``) does not import SQLAlchemy.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
