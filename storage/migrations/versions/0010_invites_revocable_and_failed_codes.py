"""invites: revocable, a short hint of the code; failed codes by account

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 09:02:29.299718
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invite_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invite_failure", schema=None) as batch_op:
        batch_op.create_index("ix_invite_failure_account", ["tg_user_id", "at"], unique=False)
        batch_op.create_index("ix_invite_failure_at", ["at"], unique=False)

    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "code_hint",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("revoked_by", sa.Integer(), nullable=True))
        batch_op.create_index("ix_invite_created_by", ["created_by"], unique=False)
        batch_op.create_foreign_key("fk_invite_revoked_by", "person", ["revoked_by"], ["id"])
    _revoke_invites_of_inactive_issuers()


def _revoke_invites_of_inactive_issuers() -> None:
    """Before this revision a deactivated person's invites stayed usable: they die now."""
    invite = sa.table(
        "invite",
        sa.column("created_by", sa.Integer),
        sa.column("used_at", storage.types.UTCDateTime()),
        sa.column("revoked_at", storage.types.UTCDateTime()),
    )
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("active", sa.Boolean))
    inactive = sa.select(person.c.id).where(person.c.active.is_(False))
    op.get_bind().execute(
        invite.update()
        .where(
            invite.c.created_by.in_(inactive),
            invite.c.used_at.is_(None),
            invite.c.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_constraint("fk_invite_revoked_by", type_="foreignkey")
        batch_op.drop_index("ix_invite_created_by")
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("code_hint")

    with op.batch_alter_table("invite_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_invite_failure_at")
        batch_op.drop_index("ix_invite_failure_account")

    op.drop_table("invite_failure")
