"""Alembic environment for the state store; run programmatically by ``onboard_sync.store.migrate``.

The caller passes an open connection (inside a transaction) in
``config.attributes["connection"]``; there is no alembic.ini and no offline mode. To write
a new revision during development::

    /work/venv/bin/python -m onboard_sync.store.migrate revision -m "what changed"
"""

from __future__ import annotations

from alembic import context

from onboard_sync.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through a misconfigured call
    raise RuntimeError("onboard_sync.store migrations must be run with an open connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
