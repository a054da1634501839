"""outbox: an index for the order of messages within a chat

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 07:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_chat", "outbox", ["chat_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_chat", table_name="outbox")
