"""the organiser's e-mail address: a mailto: of the source is kept, not dropped

URL fields take http(s) only, so a ``mailto:`` organiser or registration link used to be
dropped. The address now goes to its own column, published as the organiser's e-mail
(ORGANIZER in iCal, organizer.email in JSON and schema.org).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add event.organizer_email (a plain ADD COLUMN: a batch copy of the table would drop
    its publish-version triggers on SQLite)."""
    op.add_column("event", sa.Column("organizer_email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    """Drop event.organizer_email (SQLite 3.35+ drops a column in place)."""
    op.drop_column("event", "organizer_email")
