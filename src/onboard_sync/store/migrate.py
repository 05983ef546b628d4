"""Run the store's alembic migrations programmatically (no alembic.ini at the user's side).

``Store.open`` calls ``upgrade_to_head`` on a writable open and ``check_current`` on a
read-only one. The revisions live in ``migrations/versions`` inside the package. For
development, ``python -m onboard_sync.store.migrate revision -m "..." URL`` autogenerates a
new revision by comparing a database at head with ``schema.metadata``.

Alembic (and the Mako and Pygments it brings, ~0.1 s to import) loads only when a migration runs or
a revision is unknown: a store already at head is recognised from the ``revision``/``down_revision``
lines of the packaged revision files (``revisions.head_revision``) and one ``SELECT`` of
``alembic_version``, so that ``status`` starts fast. ``tests/store/test_store_migrations.py``
checks both answers against alembic's own.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import sqlalchemy as sa

from onboard_sync.errors import UserError
from onboard_sync.store.database import WRITE_OPTION
from onboard_sync.store.revisions import MIGRATIONS_DIR, VERSION_TABLE, head_revision

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE", "check_current", "head_revision", "upgrade_to_head"]

_PG_MIGRATION_LOCK = 0x0B0A_5D_0001  # pg_advisory_xact_lock key serialising concurrent migrators


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An in-memory alembic Config pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at (``None``: never migrated): alembic's version table, read directly."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) <= 1:
        return rows[0] if rows else None
    from alembic.runtime.migration import MigrationContext  # several heads: alembic says what that means

    return MigrationContext.configure(connection).get_current_revision()


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    try:
        return script.get_revision(revision) is not None
    except Exception:
        return False


def _too_new(revision: str, where: str) -> UserError:
    return UserError(
        f"the store is at schema revision {revision}, which this version of onboard-sync does not know "
        "(it was written by a newer onboard-sync): upgrade onboard-sync",
        where=where,
    )


def check_current(engine: sa.Engine, where: str) -> str | None:
    """For read-only opens: the database must already be at head; return its revision."""
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision == head_revision():
        return revision
    if revision is not None and not _known(revision):
        raise _too_new(revision, where)
    raise UserError(
        f"the store's schema is at revision {revision or 'none'} but this onboard-sync needs "
        f"{head_revision()}: run `onboard-sync sync` or `onboard-sync store upgrade` first",
        where=where,
    )


def upgrade_to_head(engine: sa.Engine, where: str) -> tuple[str | None, str]:
    """Migrate to head in one transaction; a no-op (no write at all) when already there.

    Returns ``(revision before, revision after)``.
    """
    with engine.connect() as conn:
        before = current_revision(conn)
    if before == head_revision():
        return before, before
    if before is not None and not _known(before):
        raise _too_new(before, where)
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        from alembic import command

        before = current_revision(conn)  # another process may have migrated meanwhile
        command.upgrade(alembic_config(conn), "head")
    return before, head_revision()


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - developer tool
    """Developer entry point: ``revision -m MSG URL`` or ``upgrade URL``."""
    parser = argparse.ArgumentParser(prog="python -m onboard_sync.store.migrate")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="autogenerate a revision against a database at head")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("url")
    up = sub.add_parser("upgrade", help="migrate a database to head")
    up.add_argument("url")
    args = parser.parse_args(argv)
    from alembic import command

    engine = sa.create_engine(args.url)
    if args.cmd == "upgrade":
        print(upgrade_to_head(engine, args.url))
        return
    with engine.begin() as conn:
        command.revision(alembic_config(conn), message=args.message, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover
    main()
