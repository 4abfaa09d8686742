"""scheduler state per source, ping tokens and WebSub subscriptions

``source_schedule`` keeps when each source is due, its consecutive failures and back-off,
a Retry-After hold, which process harvests it now and a harvest asked for by a ping, so a
restart (or another machine) carries on where the scheduler was. ``source_push`` keeps a
source's ping token (a SHA-256 digest, never the token) and its WebSub subscription.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = UTCDateTime


def upgrade() -> None:
    """Create source_schedule and source_push."""
    op.create_table(
        "source_schedule",
        sa.Column(
            "source_id",
            AutoString(length=100),
            sa.ForeignKey("source.id"),
            nullable=False,
        ),
        sa.Column("next_due", _WHEN(), nullable=False),
        sa.Column("last_attempt_at", _WHEN(), nullable=True),
        sa.Column("last_finished_at", _WHEN(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("backoff_seconds", sa.Float(), nullable=True),
        sa.Column("retry_after_until", _WHEN(), nullable=True),
        sa.Column("claimed_by", AutoString(length=80), nullable=True),
        sa.Column("claimed_at", _WHEN(), nullable=True),
        sa.Column("requested_at", _WHEN(), nullable=True),
        sa.Column("request_reason", AutoString(length=20), nullable=True),
        sa.PrimaryKeyConstraint("source_id"),
    )
    op.create_index("ix_source_schedule_next_due", "source_schedule", ["next_due"])
    op.create_table(
        "source_push",
        sa.Column(
            "source_id",
            AutoString(length=100),
            sa.ForeignKey("source.id"),
            nullable=False,
        ),
        sa.Column("token_hash", AutoString(length=64), nullable=True),
        sa.Column("token_created_at", _WHEN(), nullable=True),
        sa.Column("last_ping_at", _WHEN(), nullable=True),
        sa.Column("hub_url", AutoString(), nullable=True),
        sa.Column("topic_url", AutoString(), nullable=True),
        sa.Column("websub_secret", AutoString(length=100), nullable=True),
        sa.Column("websub_state", AutoString(length=20), nullable=True),
        sa.Column("websub_lease_until", _WHEN(), nullable=True),
        sa.Column("websub_checked_at", _WHEN(), nullable=True),
        sa.PrimaryKeyConstraint("source_id"),
    )


def downgrade() -> None:
    """Drop source_push and source_schedule."""
    op.drop_table("source_push")
    op.drop_index("ix_source_schedule_next_due", table_name="source_schedule")
    op.drop_table("source_schedule")
