"""source health: event count and duration per harvest run, the notification log

Each harvest run now records how many events the calendar publishes from its source
after the run (``events``, the trend on /bronnen) and how long it took
(``duration_seconds``, the harvest duration histograms of /metrics). ``source_notification``
logs every mail sent to a source's owners (failing, held, recovered), so that they get at
most one a day and a recovery mail only after a problem mail.

Revision ID: 0009
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add harvestrun.events and harvestrun.duration_seconds; create source_notification."""
    with op.batch_alter_table("harvestrun", schema=None) as batch_op:
        batch_op.add_column(sa.Column("events", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("duration_seconds", sa.Float(), nullable=True))
    op.create_table(
        "sourcenotification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", AutoString(length=100), nullable=False),
        sa.Column("kind", AutoString(length=20), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_source_sent", "sourcenotification", ["source_id", "sent_at"])


def downgrade() -> None:
    """Drop source_notification and the two harvest run columns."""
    op.drop_index("ix_notification_source_sent", table_name="sourcenotification")
    op.drop_table("sourcenotification")
    with op.batch_alter_table("harvestrun", schema=None) as batch_op:
        batch_op.drop_column("duration_seconds")
        batch_op.drop_column("events")
