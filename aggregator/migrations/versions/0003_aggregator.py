"""aggregator: per-record canonical fields, merged events, online geocoder cache

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:20:00

* sourcerecord.fields: the record's own normalised, classified and geocoded fields, so
  that the canonical event of several records can be recomputed when one changes or goes.
* event.merged_into: an event folded into another by dedup (marked, never deleted).
* geocodecache: answers of the optional online geocoder, so each query is asked once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch rebuild: on SQLite a rebuild drops the search and
    # publish-state triggers that migration 0002 put on these tables.
    op.add_column(
        "sourcerecord",
        sa.Column("fields", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column(
        "event",
        sa.Column("merged_into", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    )
    op.create_table(
        "geocodecache",
        sa.Column("query", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("municipality_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("query", "provider"),
    )


def downgrade() -> None:
    op.drop_table("geocodecache")
    # Plain DROP COLUMN (SQLite >= 3.35 and PostgreSQL): a batch rebuild on SQLite would
    # drop the search and publish-state triggers of migration 0002.
    op.execute("ALTER TABLE event DROP COLUMN merged_into")
    op.execute("ALTER TABLE sourcerecord DROP COLUMN fields")
