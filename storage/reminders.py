"""What the reminder planner reads (the pairings whose child may have a reminder today, page by
page; directors; supervisors; the days planned so far) and the plans and snoozes volunteers
set."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, String, and_, bindparam, cast, false, func, literal, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import LunarBirthday
from care.reminders import BirthdayWindow, VisitWindow
from care.roles import Role
from storage import audit
from storage.db import insert_for, select_wide
from storage.models import Area, Child, Pairing, Person, ReminderDay, VisitPlan
from storage.types import utcnow

# Children (or people) read per page: small enough that working through a page keeps the event
# loop busy for a few milliseconds; every page is its own short read, so other updates get the
# database in between.
PAGE = 2000
SLICE = 250  # rows turned into records between two turns of the event loop


@dataclass(frozen=True, slots=True)
class Paired:
    """One active pairing of a child who may have a reminder today, as the planner needs it."""

    child_id: int
    child_name: str
    due_on: date | None
    birth_date: date
    lunar: LunarBirthday | None
    area_path: str
    volunteer_id: int
    reachable: bool  # the volunteer gets reminders (the child's supervisors get escalations)
    chat_id: int
    locale: str | None
    planned_on: date | None
    snoozed_until: date | None


@dataclass(frozen=True)
class Addressee:
    person_id: int
    chat_id: int
    locale: str | None
    area_path: str
    role: Role


def _due() -> Any:
    """The planner reads a child's due date here and nowhere else: the column storage.due
    keeps (None while nobody is paired with the child)."""
    return col(Child.due_on)


_ADDRESSED = (Role.VOLUNTEER, Role.DIRECTOR, Role.SUPERVISOR)  # who gets reminders


def _days_before(dialect: str, today: date, column: Any) -> Any:
    """Whole days from the date `column` to `today`, in SQL."""
    if dialect == "postgresql":
        return literal(today, Date) - column  # date - date is an integer
    return cast(func.julianday(literal(today, Date)) - func.julianday(column), Integer)


def _month_day(dialect: str, column: Any) -> Any:
    """A date's month and day as text, 'MM-DD', in SQL."""
    if dialect == "postgresql":
        return func.to_char(column, "MM-DD")
    return func.substr(column, 6, 5)  # SQLite keeps a date as its ISO text


def _reachable() -> tuple[Any, ...]:
    return (
        col(Person.active).is_(True),
        col(Person.unreachable_at).is_(None),
        col(Person.role).in_([r.value for r in _ADDRESSED]),
    )


def _in_windows(dialect: str, visits: VisitWindow, births: BirthdayWindow) -> Any:
    """The SQL of `VisitWindow.admits` and `BirthdayWindow.admits`, on the child's row."""
    due, today = _due(), visits.today
    visit = [
        due.in_(sorted(visits.exact)),
        and_(due < today, _days_before(dialect, today, due) % visits.every == 0),
    ]
    if visits.up_to is not None:
        visit.append(due <= visits.up_to)
    # a planned visit or the end of a snooze today (a handful of rows: looked up once)
    planned = (col(VisitPlan.planned_on) == today) | (col(VisitPlan.snoozed_until) == today)
    visit.append(col(Child.id).in_(select(VisitPlan.child_id).where(planned)))
    month_day = _month_day(dialect, col(Child.birth_date))
    lunar_month, lunar_day = col(Child.lunar_month), col(Child.lunar_day)
    solar = [f"{m:02}-{d:02}" for m, d in sorted(births.solar)]
    lunar = [and_(lunar_month == m, lunar_day == d) for m, d in sorted(births.lunar)]
    return or_(
        and_(due.is_not(None), or_(*visit)),
        and_(lunar_month.is_(None), month_day.in_(solar)),
        and_(lunar_month.is_not(None), or_(*lunar)),
    )


async def candidate_children(
    session: AsyncSession, visits: VisitWindow, births: BirthdayWindow
) -> list[int]:
    """The ids, in order, of the active children whose due date, plan, snooze or birthday lies
    in the windows: one pass over the children's rows, no join. The ids come back joined in one
    string, as tens of thousands of rows would cost a Python object each."""
    dialect = session.get_bind().dialect.name
    # `active` inside an expression: on `active` itself SQLite walks ix_child_active_birth, which
    # holds nearly every child, and fetches each row out of order (four times slower)
    active = func.coalesce(col(Child.active), false()).is_(True)
    joined = await session.scalar(
        select(func.aggregate_strings(cast(col(Child.id), String), ",")).where(
            active, _in_windows(dialect, visits, births)
        )
    )
    return sorted(map(int, joined.split(","))) if joined else []


def _pairings_of() -> Any:
    return (
        select_wide(
            Child.id, Child.name, Child.due_on, Child.birth_date, Child.lunar_month,
            Child.lunar_day, Child.lunar_leap, Area.path, Pairing.volunteer_id,
            and_(*_reachable()), Person.tg_user_id, Person.locale, VisitPlan.planned_on,
            VisitPlan.snoozed_until,
        )
        .join(Child, col(Child.id) == Pairing.child_id)
        .join(Area, col(Area.id) == Child.area_id)
        .join(Person, col(Person.id) == Pairing.volunteer_id)
        .join(
            VisitPlan,
            (col(VisitPlan.child_id) == Pairing.child_id)
            & (col(VisitPlan.person_id) == Pairing.volunteer_id),
            isouter=True,
        )
        .where(
            col(Pairing.child_id).in_(bindparam("children", expanding=True)),
            col(Pairing.ended_on).is_(None),
        )
    )  # fmt: skip


_PAIRINGS_OF = _pairings_of()  # built once: a day reads it page after page


async def pairings_of(session: AsyncSession, children: list[int]) -> list[Paired]:
    """The active pairings of these children (a page of them), whether or not their volunteer
    can be reached: a child whose volunteer blocked the bot is still escalated."""
    connection = await session.connection()  # Core: a page is a thousand rows or more
    rows = await connection.execute(_PAIRINGS_OF, {"children": children})
    found = []
    for n, (cid, name, due_on, birth, lm, ld, leap, path, volunteer, reachable, chat, locale,
            planned, snoozed) in enumerate(rows, 1):  # fmt: skip
        lunar = LunarBirthday(lm, ld, leap) if lm and ld else None
        found.append(Paired(cid, name, due_on, birth, lunar, path, volunteer, bool(reachable),
                            chat, locale, planned, snoozed))  # fmt: skip
        if n % SLICE == 0:
            await asyncio.sleep(0)  # the rows are in memory: let the event loop run meanwhile
    return found


async def volunteers(
    session: AsyncSession, *, after: int, limit: int = PAGE
) -> tuple[list[Addressee], int | None]:
    """Reachable people paired with an active child, the next `limit` by id after `after`
    (for care dates), and the id to go on after (None: that was the last page)."""
    paired = (
        select(Pairing.id)
        .join(Child, col(Child.id) == Pairing.child_id)
        .where(
            col(Pairing.volunteer_id) == Person.id, col(Pairing.ended_on).is_(None),
            col(Child.active).is_(True),
        )
        .exists()
    )  # fmt: skip
    rows = await session.exec(
        select_wide(Person.id, Person.tg_user_id, Person.locale, Area.path, Person.role)
        .join(Area, col(Area.id) == Person.area_id)
        .where(col(Person.id) > after, *_reachable(), paired)
        .order_by(col(Person.id))
        .limit(limit)
    )
    found = [Addressee(p, chat, locale, path, Role(role)) for p, chat, locale, path, role in rows]
    return found, (found[-1].person_id if len(found) == limit else None)


async def last_planned(session: AsyncSession, *, up_to: date) -> date | None:
    """The latest day up to `up_to` that the planner planned in full (one look at the key)."""
    statement = select(func.max(ReminderDay.day)).where(col(ReminderDay.day) <= up_to)
    return (await session.exec(statement)).one()


async def record_day(
    session: AsyncSession, day: date, *, at: datetime, messages: int, caught_up_from: date | None
) -> None:
    """Marks `day` planned (a second instance that planned it too changes nothing)."""
    values = {"day": day, "planned_at": at, "messages": messages,
              "caught_up_from": caught_up_from}  # fmt: skip
    statement = insert_for(session, ReminderDay).values(**values)
    await session.exec(statement.on_conflict_do_nothing(index_elements=["day"]))


async def people(session: AsyncSession, *, roles: tuple[Role, ...]) -> list[Addressee]:
    """Active, reachable people of these roles (directors and supervisors: a few per area)."""
    rows = await session.exec(
        select_wide(Person.id, Person.tg_user_id, Person.locale, Area.path, Person.role)
        .join(Area, col(Area.id) == Person.area_id)
        .where(
            col(Person.active).is_(True),
            col(Person.unreachable_at).is_(None),
            col(Person.role).in_([r.value for r in roles]),
        )
    )
    return [
        Addressee(pid, chat, locale, path, Role(role))
        for pid, chat, locale, path, role in rows
        if pid is not None
    ]


async def set_plan(
    session: AsyncSession,
    *,
    child_id: int,
    person_id: int,
    planned_on: date | None = None,
    snoozed_until: date | None = None,
    reason: str = "",
) -> None:
    """A planned day or a snooze (the other is cleared); audited."""
    row = {"child_id": child_id, "person_id": person_id, "planned_on": planned_on,
           "snoozed_until": snoozed_until, "reason": reason, "updated_at": utcnow()}  # fmt: skip
    statement = insert_for(session, VisitPlan).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=["child_id", "person_id"],
        set_={k: v for k, v in row.items() if k not in ("child_id", "person_id")},
    )
    await session.exec(statement)
    action = "visit_plan" if planned_on else "visit_snooze"
    audit.record(session, actor_id=person_id, action=action, subject=f"child:{child_id}")
