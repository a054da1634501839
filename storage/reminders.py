"""What the reminder planner reads (pairings with their children's dates, plans and snoozes;
directors; supervisors) and the plans and snoozes volunteers set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import LunarBirthday
from care.roles import Role
from storage import audit
from storage.db import insert_for, select_wide
from storage.models import Area, Child, Pairing, Person, VisitPlan
from storage.types import utcnow


@dataclass(frozen=True)
class Paired:
    """One active pairing, as the planner needs it."""

    child_id: int
    child_name: str
    due_on: date | None
    birth_date: date
    lunar: LunarBirthday | None
    area_path: str
    volunteer_id: int
    planned_on: date | None
    snoozed_until: date | None


@dataclass(frozen=True)
class Addressee:
    person_id: int
    chat_id: int
    locale: str | None
    area_path: str
    role: Role


async def pairings(session: AsyncSession) -> list[Paired]:
    rows = await session.exec(
        select_wide(
            Child.id, Child.name, Child.due_on, Child.birth_date, Child.lunar_month,
            Child.lunar_day, Child.lunar_leap, Area.path, Pairing.volunteer_id,
            VisitPlan.planned_on, VisitPlan.snoozed_until,
        )
        .join(Child, col(Child.id) == Pairing.child_id)
        .join(Area, col(Area.id) == Child.area_id)
        .join(
            VisitPlan,
            (col(VisitPlan.child_id) == Pairing.child_id)
            & (col(VisitPlan.person_id) == Pairing.volunteer_id),
            isouter=True,
        )
        .where(col(Pairing.ended_on).is_(None), col(Child.active).is_(True))
    )  # fmt: skip
    found = []
    for cid, name, due, birth, month, day, leap, path, volunteer, planned, snoozed in rows:
        lunar = LunarBirthday(month, day, leap) if month and day else None
        found.append(Paired(cid, name, due, birth, lunar, path, volunteer, planned, snoozed))
    return found


async def people(session: AsyncSession, *, roles: tuple[Role, ...]) -> list[Addressee]:
    """Active, reachable people of these roles."""
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
