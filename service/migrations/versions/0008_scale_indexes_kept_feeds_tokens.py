"""scale: indexes for every periodic job, kept feeds' span, Google access token reuse

Revision ID: 0008
Revises: 0009
Create Date: 2026-12-06 08:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import service.models.base

revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None

# (name, table, column(s), partial condition or None); the same text on SQLite and PostgreSQL.
INDEXES: tuple[tuple[str, str, str | tuple[str, ...], str | None], ...] = (
    ("ix_connections_due", "connections", ("next_sync_at", "id"), "status IN ('ok', 'failing')"),
    ("ix_occurrences_timed_end", "occurrences", "end", "NOT all_day"),
    ("ix_outbox_waiting", "outbox", "created_at", "sent_at IS NULL AND claimed_at IS NULL"),
    (
        "ix_outbox_claimed",
        "outbox",
        "claimed_at",
        "sent_at IS NULL AND claimed_at IS NOT NULL AND refused_at IS NULL",
    ),
    ("ix_planned_notes_planned_due", "planned_notes", "due_at", "status = 'planned'"),
    ("ix_proposals_accepted_start", "proposals", "chosen_start", "status = 'accepted'"),
    ("ix_proposals_open_expiry", "proposals", "expires_at", "status = 'proposed'"),
    ("ix_users_tz", "users", "tz", None),
)


def upgrade() -> None:
    when = service.models.base.UtcDateTime(timezone=True)
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expanded_until", when, nullable=True))
        batch_op.add_column(sa.Column("access_token", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("access_token_expires_at", when, nullable=True))
    for name, table, column, condition in INDEXES:
        where = {} if condition is None else _where(condition)
        columns = [column] if isinstance(column, str) else list(column)
        op.create_index(name, table, columns, unique=False, **where)


def _where(condition: str) -> dict[str, Any]:
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def downgrade() -> None:
    for name, table, _column, _condition in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("access_token_expires_at")
        batch_op.drop_column("access_token")
        batch_op.drop_column("expanded_until")
