"""a record's input hash: an unchanged record skips the pipeline stages

``sourcerecord.input_hash`` is the hash of the raw record as the source gave it, keyed by
the pipeline's version (stages, taxonomy, regions) and the source's configuration
(``aggregator.unchanged_records``). A re-harvest whose record has the same input hash
runs no stage for it and writes nothing.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add sourcerecord.input_hash (a plain ADD COLUMN: a batch copy of the table would drop
    its publish-version triggers on SQLite)."""
    op.add_column("sourcerecord", sa.Column("input_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop sourcerecord.input_hash (SQLite 3.35+ drops a column in place)."""
    op.drop_column("sourcerecord", "input_hash")
