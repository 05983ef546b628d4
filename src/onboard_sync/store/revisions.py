"""The schema revision this onboard-sync expects, read from its packaged alembic revision files.

A store at this revision is recognised without importing alembic (``migrate.check_current``)
or SQLAlchemy (``sqlite_reader``): the ``revision``/``down_revision`` lines of the files in
``migrations/versions`` and alembic's one-row version table are enough.
``tests/store/test_store_migrations.py`` checks the answer against alembic's own.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
"""Alembic's default version table (one row: the revision the database is at)."""

_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*(?:\"([^\"]*)\"|None)", re.M)


@cache
def head_revision() -> str:
    """The newest revision shipped with this version of onboard-sync: the one no other revision
    file names as its ``down_revision`` (a linear history, as alembic's ``get_current_head``)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for kind, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the packaged migrations have {len(heads)} heads ({sorted(heads)}), not one")
    return heads.pop()
