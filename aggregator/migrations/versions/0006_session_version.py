"""a session version per user: logging out ends every copy of the session cookie

The session cookie is signed, not stored: clearing it at logout leaves a copied cookie
valid until it expires. Each session now carries the user's ``session_version``; logout
raises it, so every earlier cookie of that user stops being accepted.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add user.session_version (0 for existing accounts)."""
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    """Drop user.session_version."""
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")
