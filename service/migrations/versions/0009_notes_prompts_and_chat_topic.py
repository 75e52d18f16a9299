"""planned notes remember their person and prompts; a proposal keeps the chat's topic

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("planned_notes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("person", sa.String(length=254), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("prompts", sa.String(length=200), server_default="", nullable=False)
        )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("topic", sa.String(length=80), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("topic")
    with op.batch_alter_table("planned_notes", schema=None) as batch_op:
        batch_op.drop_column("prompts")
        batch_op.drop_column("person")
