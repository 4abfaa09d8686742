"""dedup index on source records; raw payloads no longer kept

* sourcerecord.dedup_bucket, sourcerecord.dedup_place: where dedup finds a record
  (``aggregator.dedup.slot_of``: its start in 20-minute slots, its municipality or kind of
  placeless record), with a partial index over live records, so a new record is compared
  with the records of its own slot and place instead of every live event of its day.
* sourcerecord.data dropped: the raw payload of each record was written on every harvest
  and read by nothing; a record's canonical ``fields`` and ``content_hash`` are what
  merging and history need.

Plain ADD/DROP COLUMN (SQLite >= 3.35 and PostgreSQL), never a batch rebuild: on SQLite
that would drop the publish-state triggers of migration 0002.

Revision ID: 0008
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from aggregator.dedup import slot_of

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def _backfill() -> None:
    """Give every stored record its slot (read and written in batches)."""
    connection = op.get_bind()
    record = sa.table(
        "sourcerecord",
        sa.column("id", sa.Integer),
        sa.column("fields", sa.JSON),
        sa.column("dedup_bucket", sa.Integer),
        sa.column("dedup_place", sa.String),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(record.c.id, record.c.fields)
            .where(record.c.id > last)
            .order_by(record.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        updates = []
        for record_id, fields in rows:
            bucket, place = slot_of(fields or {})
            if bucket is not None:
                updates.append({"rid": record_id, "bucket": bucket, "place": place})
        if updates:
            connection.execute(
                record.update()
                .where(record.c.id == sa.bindparam("rid"))
                .values(dedup_bucket=sa.bindparam("bucket"), dedup_place=sa.bindparam("place")),
                updates,
            )
        last = rows[-1][0]


def upgrade() -> None:
    """Add and fill the dedup slot columns and their index; drop sourcerecord.data."""
    op.add_column("sourcerecord", sa.Column("dedup_bucket", sa.Integer(), nullable=True))
    op.add_column(
        "sourcerecord",
        sa.Column("dedup_place", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    )
    _backfill()
    op.create_index(
        "ix_record_dedup",
        "sourcerecord",
        ["dedup_bucket", "dedup_place"],
        sqlite_where=sa.text("removed_at IS NULL"),
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.execute("ALTER TABLE sourcerecord DROP COLUMN data")


def downgrade() -> None:
    """Restore sourcerecord.data (empty payloads) and drop the dedup slot."""
    op.add_column(
        "sourcerecord",
        sa.Column("data", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.drop_index("ix_record_dedup", table_name="sourcerecord")
    op.execute("ALTER TABLE sourcerecord DROP COLUMN dedup_place")
    op.execute("ALTER TABLE sourcerecord DROP COLUMN dedup_bucket")
