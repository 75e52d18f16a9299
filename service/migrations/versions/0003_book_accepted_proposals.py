"""book accepted proposals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:31:31.039704
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar", sa.Text(), server_default="", nullable=False))

    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("booked_at", service.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("calendar_event_id", sa.String(length=255), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("invite_sequence", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("booking_error", sa.String(length=500), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("booking_error")
        batch_op.drop_column("invite_sequence")
        batch_op.drop_column("calendar_event_id")
        batch_op.drop_column("booked_at")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("calendar")
