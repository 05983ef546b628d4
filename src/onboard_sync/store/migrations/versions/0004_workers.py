"""Workers: the heartbeat table of ``onboard-sync worker`` processes (the durable engine).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

One row per running worker: its id (also its DBOS executor id), host, pid, when it started and
its last heartbeat. A live worker recovers the workflows of a worker whose heartbeat is stale.
Frozen like 0001: column types are spelled out here, not imported from ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_beat", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workers")
