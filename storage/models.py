"""SQLModel tables. Schema changes go through Alembic (storage/migrations)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from care.children import TEXT_LENGTHS
from care.roles import MAX_NAME_LENGTH
from storage.types import UTCDateTime, utcnow


class Area(SQLModel, table=True):
    """A node of the area tree; `path` is the whole way down, e.g. 示范县/城关镇/东村."""

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    name: str = Field(max_length=MAX_NAME_LENGTH)  # one part of an area path
    level: int
    path: str = Field(max_length=200, unique=True)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tg_user_id: int = Field(sa_column=Column(BigInteger(), unique=True, nullable=False))
    name: str = Field(max_length=40)
    role: str = Field(max_length=16)
    area_id: int = Field(foreign_key="area.id", index=True)
    gender: str = Field(max_length=8)
    locale: str | None = Field(default=None, max_length=8)
    active: bool = True
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # blocked us
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    code_hint: str = Field(default="", max_length=8)  # the code's first characters, for /invites
    role: str = Field(max_length=16)
    area_id: int = Field(foreign_key="area.id")
    created_by: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    used_by: int | None = Field(default=None, foreign_key="person.id")
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    revoked_by: int | None = Field(default=None, foreign_key="person.id")  # or of its issuer


class InviteFailure(SQLModel, table=True):
    """A code that opened nothing, by Telegram account (not by person: guests try codes).
    Kept for a minute (care.invites.FAILURE_WINDOW), to slow down guessing."""

    __tablename__ = "invite_failure"
    __table_args__ = (Index("ix_invite_failure_account", "tg_user_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    tg_user_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    at: datetime = Field(sa_type=UTCDateTime(), index=True)


class AuditLog(SQLModel, table=True):
    """Who viewed, changed or exported what. `subject` names a row (`person:12`), never data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    actor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    action: str = Field(max_length=40)
    subject: str = Field(max_length=60)
    detail: str = Field(default="", max_length=500)


class Household(SQLModel, table=True):
    """Siblings share one household (户号); a code is unique within its village."""

    __table_args__ = (UniqueConstraint("area_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    area_id: int = Field(foreign_key="area.id")
    code: str = Field(max_length=TEXT_LENGTHS["household"])


class Child(SQLModel, table=True):
    """One record per child (一人一档). Sensitive: shown only to those entitled, audited."""

    __table_args__ = (
        Index("ix_child_area_active", "area_id", "active"),
        Index("ix_child_area_due", "area_id", "due_on"),  # /overdue's pages, in order
        # /overdue's figures read only the index (no row per child)
        Index(
            "ix_child_area_figures", "area_id", "due_on", "visits_year", "visits_in_year", "active"
        ),
        # who reaches the age limit (the daily closing job, /ageing): a range of birth dates
        Index("ix_child_active_birth", "active", "birth_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=TEXT_LENGTHS["name"], index=True)
    gender: str = Field(max_length=8)
    birth_date: date
    lunar_month: int | None = None
    lunar_day: int | None = None
    lunar_leap: bool = False
    id_number: str | None = Field(default=None, max_length=TEXT_LENGTHS["id_number"], unique=True)
    ethnicity: str | None = Field(default=None, max_length=TEXT_LENGTHS["ethnicity"])
    category: str = Field(max_length=40)
    colour: str = Field(max_length=8)
    area_id: int = Field(foreign_key="area.id")
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    schooling: str | None = Field(default=None, max_length=TEXT_LENGTHS["schooling"])
    school: str | None = Field(default=None, max_length=TEXT_LENGTHS["school"])
    health: str | None = Field(default=None, max_length=TEXT_LENGTHS["health"])
    disability: str | None = Field(default=None, max_length=TEXT_LENGTHS["disability"])
    guardian_name: str | None = Field(default=None, max_length=TEXT_LENGTHS["guardian_name"])
    guardian_relation: str | None = Field(
        default=None, max_length=TEXT_LENGTHS["guardian_relation"]
    )
    guardian_phone: str | None = Field(default=None, max_length=TEXT_LENGTHS["guardian_phone"])
    father_work: str | None = Field(default=None, max_length=TEXT_LENGTHS["father_work"])
    mother_work: str | None = Field(default=None, max_length=TEXT_LENGTHS["mother_work"])
    consent: bool | None = None
    consent_date: date | None = None
    active: bool = True
    # A closed record (care.closing): inactive, read-only, kept with its history.
    closed_on: date | None = None
    closed_reason: str | None = Field(default=None, max_length=20)  # care.closing.ClosingReason
    closed_note: str = Field(default="", max_length=200)
    closed_by: int | None = Field(default=None, foreign_key="person.id")  # None: the bot
    # Kept up to date by storage.due, so that /overdue needs no scan of the visits:
    last_visit_on: date | None = None
    due_on: date | None = None  # None: nobody is paired with the child, so no visit is due
    visits_year: int | None = None  # the year `visits_in_year` counts
    visits_in_year: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ColourChange(SQLModel, table=True):
    """The history of a child's risk colour (分级分色): who changed it, when and why."""

    __tablename__ = "colour_change"

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    colour: str = Field(max_length=8)
    previous: str | None = Field(default=None, max_length=8)
    reason: str = Field(default="", max_length=500)
    changed_by: int | None = Field(default=None, foreign_key="person.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ChildMove(SQLModel, table=True):
    """A child moved to another village (迁移), with the family: the record, its visits and
    its history go along; this row keeps where from, where to, when, who and why."""

    __tablename__ = "child_move"

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    from_area_id: int = Field(foreign_key="area.id")
    to_area_id: int = Field(foreign_key="area.id")
    reason: str = Field(default="", max_length=200)
    moved_by: int | None = Field(default=None, foreign_key="person.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Pairing(SQLModel, table=True):
    """A volunteer paired with a child (结对); ended pairings are kept as history."""

    __table_args__ = (
        Index("ix_pairing_child_active", "child_id", "ended_on"),
        Index("ix_pairing_volunteer_active", "volunteer_id", "ended_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id")
    volunteer_id: int = Field(foreign_key="person.id")
    started_on: date
    reviewed_on: date | None = None
    ended_on: date | None = None
    end_reason: str = Field(default="", max_length=500)
    broken_rules: str = Field(default="", max_length=200)  # rules overridden, comma-separated
    override_reason: str = Field(default="", max_length=500)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class UserState(SQLModel, table=True):
    """A person's flows in progress: their answers so far (python-telegram-bot's user_data) and
    where they are in each conversation, as JSON; one row per person, written in one go."""

    __tablename__ = "user_state"

    user_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    data: str = "{}"
    conversations: str = "{}"  # {flow name: {"chat id,user id": state}}
    # The last update of their private chat that these answers and states include: an update
    # Telegram delivers again after a crash is recognised and not handled twice.
    last_update: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class InboxUpdate(SQLModel, table=True):
    """The durable inbox: every update as it arrived, stored before it is handled and marked
    done after (toolkit.inbox). A seen id is not taken again; after a crash, what was stored
    but not done is handled on start. The payload is dropped once done: it holds what people
    wrote."""

    __tablename__ = "inbox"

    update_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    payload: str | None = None  # the update as JSON, until done
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), index=True)


class Visit(SQLModel, table=True):
    """A visit check-in (走访). `draft_key` makes saving idempotent."""

    __table_args__ = (Index("ix_visit_child_day", "child_id", "visited_on"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    visited_on: date
    mode: str = Field(max_length=16)
    health: str = Field(max_length=16)
    mood: str = Field(max_length=16)
    study: str = Field(max_length=16)
    care: str = Field(max_length=16)
    parents: str = Field(max_length=16)
    notes: str = Field(default="{}", max_length=4000)  # JSON: follow-up details by question
    safety: str = Field(default="", max_length=200)  # topics, comma-separated
    wishes: str = Field(default="", max_length=1000)
    problems: str = Field(default="", max_length=2000)
    problems_voice: str | None = Field(default=None, max_length=200)  # Telegram file id
    red_flags: str = Field(default="", max_length=200)  # comma-separated
    draft_key: str = Field(max_length=40, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Case(SQLModel, table=True):
    """A hazard report (强制报告) and its life: open, acknowledged, resolved."""

    __tablename__ = "hazard_case"
    __table_args__ = (
        Index("ix_case_area_status", "area_id", "status"),
        Index("ix_case_escalation", "status", "next_round_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draft_key: str = Field(max_length=40, unique=True)
    child_id: int | None = Field(default=None, foreign_key="child.id", index=True)
    child_name: str = Field(default="", max_length=40)  # a child not on the reporter's list
    place: str = Field(default="", max_length=200)
    area_id: int = Field(foreign_key="area.id")  # the child's village, or the reporter's area
    reporter_id: int = Field(foreign_key="person.id")
    situation: str = Field(max_length=20)
    urgent: bool = False
    danger_now: bool = False
    description: str = Field(default="", max_length=2000)
    voice_file_id: str | None = Field(default=None, max_length=200)
    photo_file_id: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    status: str = Field(default="open", max_length=16)
    round: int = 0  # the last round of alerts planned
    next_round_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    acknowledged_by: int | None = Field(default=None, foreign_key="person.id")
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    resolved_by: int | None = Field(default=None, foreign_key="person.id")
    outcome: str = Field(default="", max_length=1000)


class CaseEvent(SQLModel, table=True):
    """A case's timeline: reported, alerted, escalated, undeliverable, viewed, acknowledged…"""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hazard_case.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    kind: str = Field(max_length=20)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    detail: str = Field(default="", max_length=200)


class Outbox(SQLModel, table=True):
    """Messages that must not be lost (alerts, reminders): written with the fact that causes
    them, sent by one sender, marked sent once. `key` makes planning them idempotent."""

    __table_args__ = (
        Index("ix_outbox_due", "sent_at", "failed_at", "next_attempt_at"),
        Index("ix_outbox_chat", "chat_id", "id"),  # what is still ahead in a chat's queue
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    chat_id: int = Field(sa_column=Column(BigInteger(), nullable=False))
    person_id: int | None = Field(default=None, foreign_key="person.id")
    case_id: int | None = Field(default=None, foreign_key="hazard_case.id", index=True)
    text: str = Field(max_length=4096)
    buttons: str = Field(default="[]", max_length=2000)  # JSON rows of [label, callback data]
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    attempts: int = 0
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime())
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    message_id: int | None = None
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    error: str = Field(default="", max_length=200)


class VisitPlan(SQLModel, table=True):
    """A volunteer's answer to a reminder: the day they will visit, or a snooze with a reason."""

    __tablename__ = "visit_plan"
    __table_args__ = (UniqueConstraint("child_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id")
    person_id: int = Field(foreign_key="person.id")
    planned_on: date | None = None
    snoozed_until: date | None = None
    reason: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ReminderDay(SQLModel, table=True):
    """A day the reminder planner planned in full, one row a day: a rerun that day reads the
    latest row and stops; the first run after days without one catches up what they missed."""

    __tablename__ = "reminder_day"

    day: date = Field(primary_key=True)
    planned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    messages: int = 0  # outbox messages the run added
    caught_up_from: date | None = None  # the first missed day it caught up, if any
