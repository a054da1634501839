"""user_state: the last update each person's flows include

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("user_state", sa.Column("last_update", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("user_state", "last_update")
