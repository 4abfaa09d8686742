"""accounts, submissions and rate limits (web pages, issue 7)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_dt = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", _str(length=254), nullable=False),
        sa.Column("password_hash", _str(), nullable=False),
        sa.Column("role", _str(length=20), nullable=False),
        sa.Column("region", _str(length=100), nullable=True),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("last_login_at", _dt(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_email"), ["email"], unique=True)

    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _str(length=20), nullable=False),
        sa.Column("status", _str(length=20), nullable=False),
        sa.Column("region", _str(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("published", sa.JSON(), nullable=True),
        sa.Column("submitter_email", _str(length=254), nullable=False),
        sa.Column("submitter_user_id", sa.Integer(), nullable=True),
        sa.Column("edit_token", _str(length=64), nullable=False),
        sa.Column("event_id", _str(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", _dt(), nullable=True),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("updated_at", _dt(), nullable=False),
        sa.ForeignKeyConstraint(["submitter_user_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_region"), ["region"], unique=False)

    op.create_table(
        "ratelimithit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _str(length=100), nullable=False),
        sa.Column("at", _dt(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ratelimithit", schema=None) as batch_op:
        batch_op.create_index("ix_ratelimit_key_at", ["key", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ratelimithit", schema=None) as batch_op:
        batch_op.drop_index("ix_ratelimit_key_at")
    op.drop_table("ratelimithit")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_region"))
        batch_op.drop_index(batch_op.f("ix_submission_status"))
    op.drop_table("submission")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_email"))
    op.drop_table("user")
