"""dashboard_plans: the engine's verdicts on a user's coming days, kept by the planning job;
dashboard_summaries: the year's day rows added up

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_plans",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("computed_at", service.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dashboard_plans_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_dashboard_plans")),
    )
    with op.batch_alter_table("dashboard_summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("year", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("year_first", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("year_end", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dashboard_summaries", schema=None) as batch_op:
        batch_op.drop_column("year_end")
        batch_op.drop_column("year_first")
        batch_op.drop_column("year")
    op.drop_table("dashboard_plans")
