"""connections: what the last read of a calendar left out, in plain words

Revision ID: 0007
Revises: 0008
Create Date: 2026-12-06 08:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = (
    "0008"  # re-chained after main's 0009 and 0008 when merging main; the lead orders them
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_notes", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("read_notes")
