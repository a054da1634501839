"""closing and moving children's records

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 09:56:47.492572
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "child_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("from_area_id", sa.Integer(), nullable=False),
        sa.Column("to_area_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("moved_by", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["from_area_id"], ["area.id"]),
        sa.ForeignKeyConstraint(["moved_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["to_area_id"], ["area.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("child_move", schema=None) as batch_op:
        batch_op.create_index("ix_child_move_child_id", ["child_id"], unique=False)

    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("closed_reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "closed_note",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("closed_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_child_closed_by", "person", ["closed_by"], ["id"])
        batch_op.create_index("ix_child_active_birth", ["active", "birth_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.drop_index("ix_child_active_birth")
        batch_op.drop_constraint("fk_child_closed_by", type_="foreignkey")
        batch_op.drop_column("closed_by")
        batch_op.drop_column("closed_note")
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("closed_on")

    with op.batch_alter_table("child_move", schema=None) as batch_op:
        batch_op.drop_index("ix_child_move_child_id")

    op.drop_table("child_move")
