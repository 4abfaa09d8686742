"""interest counts: subscription fetches, event-page views and registration clicks per week

Counts only, per ISO week: no person, no address, no cookie is stored (issue 13).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the interestcount table (model aggregator.models.InterestCount)."""
    op.create_table(
        "interestcount",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False, server_default=""),
        sa.Column("subject", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("kind", "week", "event_id", "subject", name="uq_interest_key"),
    )
    op.create_index("ix_interest_week", "interestcount", ["week"])


def downgrade() -> None:
    """Drop the interestcount table."""
    op.drop_index("ix_interest_week", table_name="interestcount")
    op.drop_table("interestcount")
