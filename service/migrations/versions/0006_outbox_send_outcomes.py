"""outbox: handed over, resends, refused

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handed_over", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("resends", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("refused_at", service.models.base.UtcDateTime(timezone=True), nullable=True)
        )
    # Before this revision a stopped send was sent again once, marked in last_error. A row still
    # claimed with another error may be refused or may be the stuck claim this revision frees: it
    # is tried once more, and a refusal is then recorded in refused_at.
    op.execute(
        "UPDATE outbox SET resends = 1 WHERE sent_at IS NULL AND last_error LIKE 'interrupted%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("refused_at")
        batch_op.drop_column("resends")
        batch_op.drop_column("handed_over")
