"""every active child followed: since when, covered, due dates for all; move proposals;
applied settings; who deactivated a person

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 10:00:08.112916
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate writes sqlmodel.sql.sqltypes.AutoString
from alembic import op

import storage.types
from care.children import Colour
from care.visits import VisitRule

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 1000
# /overdue's pages and figures, each count a range of one of them (storage.due.counts)
NEW_INDEXES = {
    "ix_child_area_visits": ["area_id", "active", "visits_year", "visits_in_year"],
    "ix_child_follow": ["area_id", "active", "covered", "due_on"],
    "ix_child_colour": ["area_id", "active", "colour", "covered", "due_on"],
}


def upgrade() -> None:
    op.create_table(
        "applied_setting",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("applied_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "reassign_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=True),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("broken_rules", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("override_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["pairing_id"], ["pairing.id"]),
        sa.ForeignKeyConstraint(["proposed_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("draft_key"),
    )
    with op.batch_alter_table("reassign_proposal", schema=None) as batch_op:
        batch_op.create_index("ix_reassign_proposal_child_id", ["child_id"], unique=False)

    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(sa.Column("followed_since", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("covered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.drop_index("ix_child_area_active")
        batch_op.drop_index("ix_child_area_due")
        batch_op.drop_index("ix_child_area_figures")
    _fill_children()
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.alter_column("followed_since", existing_type=sa.Date(), nullable=False)
        for name, columns in NEW_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deactivated_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deactivated_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_person_deactivated_by", "person", ["deactivated_by"], ["id"]
        )


def _fill_children() -> None:
    """Children recorded before this revision: followed since the (UTC) day their record was
    created; covered when an active pairing has an active volunteer (storage.cover's rule as
    it stands at this revision); a due date for every child, pairings no longer counting,
    by the default intervals, which are recorded as applied (a start with other intervals
    configured recomputes them). A database without children gets no row: it is filled, or
    copied into (copy-db), as any new one."""
    child = sa.table(
        "child",
        sa.column("id", sa.Integer),
        sa.column("colour", sa.String),
        sa.column("created_at", storage.types.UTCDateTime()),
        sa.column("last_visit_on", sa.Date),
        sa.column("followed_since", sa.Date),
        sa.column("due_on", sa.Date),
        sa.column("covered", sa.Boolean),
    )
    pairing = sa.table(
        "pairing",
        sa.column("child_id", sa.Integer),
        sa.column("volunteer_id", sa.Integer),
        sa.column("ended_on", sa.Date),
    )
    person = sa.table("person", sa.column("id", sa.Integer), sa.column("active", sa.Boolean))
    bind = op.get_bind()
    rule = VisitRule()
    rows = bind.execute(
        sa.select(child.c.id, child.c.colour, child.c.created_at, child.c.last_visit_on)
    ).all()
    values = []
    for child_id, colour, created, last_visit in rows:
        since = created.date()
        due = rule.next_due(Colour(colour), last_visit=last_visit, since=since)
        values.append({"child": child_id, "since": since, "due": due})
    update = (
        child.update()
        .where(child.c.id == sa.bindparam("child"))
        .values(followed_since=sa.bindparam("since"), due_on=sa.bindparam("due"))
    )
    for start in range(0, len(values), CHUNK):
        bind.execute(update, values[start : start + CHUNK])
    visited_by_someone = (
        sa.select(pairing.c.child_id)
        .join(person, person.c.id == pairing.c.volunteer_id)
        .where(
            pairing.c.child_id == child.c.id,
            pairing.c.ended_on.is_(None),
            person.c.active.is_(True),
        )
        .exists()
    )
    bind.execute(child.update().values(covered=visited_by_someone))
    if not rows:
        return  # a new database: the first start records the intervals it applies
    applied = sa.table(
        "applied_setting",
        sa.column("name", sa.String),
        sa.column("value", sa.String),
        sa.column("applied_at", storage.types.UTCDateTime()),
    )
    bind.execute(
        applied.insert().values(
            name="visit_intervals", value=rule.intervals_key(), applied_at=datetime.now(UTC)
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("fk_person_deactivated_by", type_="foreignkey")
        batch_op.drop_column("deactivated_by")
        batch_op.drop_column("deactivated_at")

    with op.batch_alter_table("child", schema=None) as batch_op:
        for name in NEW_INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index(
            "ix_child_area_figures",
            ["area_id", "due_on", "visits_year", "visits_in_year", "active"],
            unique=False,
        )
        batch_op.create_index("ix_child_area_due", ["area_id", "due_on"], unique=False)
        batch_op.create_index("ix_child_area_active", ["area_id", "active"], unique=False)
        batch_op.drop_column("covered")
        batch_op.drop_column("followed_since")

    with op.batch_alter_table("reassign_proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_reassign_proposal_child_id")

    op.drop_table("reassign_proposal")
    op.drop_table("applied_setting")
