"""Task notes: why a task was skipped, or why its due date is not the plan's (catch-up).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Frozen like 0001: column types are spelled out here, not imported from ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("owned_tasks") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("owned_tasks") as batch:
        batch.drop_column("note")
