"""workers: planned notes, sync scheduling, push channels

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 05:44:20.940240
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import service.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planned_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("start", service.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", service.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("calendar_event_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", service.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_planned_notes_outbox_id_outbox"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_planned_notes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_notes")),
        sa.UniqueConstraint("user_id", "uid", "start", name="uq_planned_notes_instance"),
    )
    with op.batch_alter_table("planned_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_planned_notes_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_planned_notes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_sync_at", service.models.base.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("refresh_minutes", sa.Integer(), server_default="15", nullable=False)
        )
        batch_op.add_column(
            sa.Column("channel_id", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "channel_resource_id", sa.String(length=255), server_default="", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("channel_token", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "channel_expires_at", service.models.base.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("app_calendar_id", sa.String(length=255), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "broken_notified_at", service.models.base.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_connections_next_sync_at"), ["next_sync_at"], unique=False
        )

    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learned", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("follow_up", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("offered", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("source", sa.String(length=300), server_default="", nullable=False)
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ignored_proposals", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("feed_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("digest_sent_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_on")
        batch_op.drop_column("feed_version")
        batch_op.drop_column("ignored_proposals")

    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("offered")
        batch_op.drop_column("follow_up")
        batch_op.drop_column("learned")

    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_next_sync_at"))
        batch_op.drop_column("broken_notified_at")
        batch_op.drop_column("app_calendar_id")
        batch_op.drop_column("channel_expires_at")
        batch_op.drop_column("channel_token")
        batch_op.drop_column("channel_resource_id")
        batch_op.drop_column("channel_id")
        batch_op.drop_column("refresh_minutes")
        batch_op.drop_column("next_sync_at")

    with op.batch_alter_table("planned_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planned_notes_user_id"))
        batch_op.drop_index(batch_op.f("ix_planned_notes_due_at"))

    op.drop_table("planned_notes")
