"""dashboard: the past a user's dashboard shows, kept per day by the sync and planning jobs

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.models.base

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_summaries",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("refreshed_at", service.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("planned_at", service.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dashboard_summaries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_dashboard_summaries")),
    )
    op.create_table(
        "dashboard_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dashboard_days_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_days")),
        sa.UniqueConstraint("user_id", "day", name="uq_dashboard_days_user_day"),
    )
    op.create_table(
        "dashboard_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dashboard_dirty_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_dirty")),
    )
    op.create_index("ix_dashboard_dirty_user", "dashboard_dirty", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dashboard_dirty_user", table_name="dashboard_dirty")
    op.drop_table("dashboard_dirty")
    op.drop_table("dashboard_days")
    op.drop_table("dashboard_summaries")
