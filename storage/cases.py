"""Hazard cases: who is alerted, the case's life, its timeline, and the escalation ladder's
bookkeeping (which round was planned, when the next is due)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.cases import Audience, Situation, Status
from care.roles import Role, town_of
from storage import audit
from storage.areas import in_area
from storage.db import insert_for
from storage.models import Area, Case, CaseEvent, Child, Person


@dataclass(frozen=True)
class Recipient:
    person_id: int
    chat_id: int
    locale: str | None


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


async def audience(session: AsyncSession, *, area_path: str, who: Audience) -> list[Recipient]:
    """The active, reachable people of an audience for a case in `area_path` (a village)."""
    where: list[Any] = [col(Person.active).is_(True), col(Person.unreachable_at).is_(None)]
    if who == Audience.TOWN_SUPERVISORS:
        where += [col(Person.role) == Role.SUPERVISOR.value, in_area(town_of(area_path))]
    elif who == Audience.VILLAGE_DIRECTORS:
        where += [col(Person.role) == Role.DIRECTOR.value, col(Area.path) == area_path]
    elif who == Audience.COUNTY_ADMINS:
        where += [col(Person.role) == Role.ADMIN.value, col(Area.path).in_(_ancestors(area_path))]
    else:
        return []
    rows = await session.exec(
        select(Person.id, Person.tg_user_id, Person.locale)
        .join(Area, col(Area.id) == Person.area_id)
        .where(*where)
        .order_by(col(Person.id))
    )
    return [Recipient(pid, chat, locale) for pid, chat, locale in rows if pid is not None]


@dataclass(frozen=True)
class NewCase:
    """A report as stored when it is made; the ladder's bookkeeping starts empty."""

    draft_key: str
    area_id: int  # the child's village, or the reporter's area for a child not listed
    reporter_id: int
    situation: Situation
    created_at: datetime
    child_id: int | None = None  # None: a child not on the reporter's list…
    child_name: str = ""  # …named…
    place: str = ""  # …and where to find them
    urgent: bool = False
    danger_now: bool = False
    description: str = ""
    voice_file_id: str | None = None
    photo_file_id: str | None = None
    location: tuple[float, float] | None = None  # latitude, longitude
    visit_id: int | None = None  # the check-in whose red flag led to it


async def create(session: AsyncSession, new: NewCase) -> tuple[Case, bool]:
    """Stores a report once per draft; returns (case, newly stored)."""
    latitude, longitude = new.location if new.location is not None else (None, None)
    statement = (
        insert_for(session, Case)
        .values(
            draft_key=new.draft_key, child_id=new.child_id, child_name=new.child_name,
            place=new.place, area_id=new.area_id, reporter_id=new.reporter_id,
            situation=new.situation.value, urgent=new.urgent, danger_now=new.danger_now,
            description=new.description, voice_file_id=new.voice_file_id,
            photo_file_id=new.photo_file_id, latitude=latitude, longitude=longitude,
            visit_id=new.visit_id, created_at=new.created_at,
        )
        .on_conflict_do_nothing(index_elements=["draft_key"])
        .returning(Case.id)
    )  # fmt: skip
    new_id = (await session.exec(statement)).scalar_one_or_none()
    found = (await session.exec(select(Case).where(Case.draft_key == new.draft_key))).one()
    if new_id is not None:
        event(session, case_id=new_id, kind="reported", person_id=new.reporter_id)
        audit.record(session, actor_id=new.reporter_id, action="report", subject=f"case:{new_id}")
    return found, new_id is not None


def event(
    session: AsyncSession, *, case_id: int, kind: str, person_id: int | None, detail: str = ""
) -> None:
    session.add(CaseEvent(case_id=case_id, kind=kind, person_id=person_id, detail=detail))


async def with_area(session: AsyncSession, case_id: int) -> tuple[Case, str] | None:
    row = (
        await session.exec(
            select(Case, Area.path)
            .join(Area, col(Area.id) == Case.area_id)
            .where(Case.id == case_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def child_name(session: AsyncSession, case: Case) -> str:
    if case.child_id is None:
        return case.child_name
    return (await session.exec(select(Child.name).where(Child.id == case.child_id))).one()


async def acknowledge(
    session: AsyncSession, *, case_id: int, person_id: int, now: datetime
) -> bool:
    """Open → acknowledged, once (of two people pressing at once, one gets True)."""
    result = await session.exec(
        update(Case)
        .where(col(Case.id) == case_id, col(Case.status) == Status.OPEN.value)
        .values(
            status=Status.ACKNOWLEDGED.value, acknowledged_at=now, acknowledged_by=person_id,
            next_round_at=None,
        )
    )  # fmt: skip
    if result.rowcount != 1:
        return False
    event(session, case_id=case_id, kind="acknowledged", person_id=person_id)
    return True


async def resolve(
    session: AsyncSession, *, case_id: int, person_id: int, outcome: str, now: datetime
) -> bool:
    result = await session.exec(
        update(Case)
        .where(col(Case.id) == case_id, col(Case.status) != Status.RESOLVED.value)
        .values(
            status=Status.RESOLVED.value, resolved_at=now, resolved_by=person_id,
            outcome=outcome, next_round_at=None,
        )
    )  # fmt: skip
    if result.rowcount != 1:
        return False
    event(session, case_id=case_id, kind="resolved", person_id=person_id)
    return True


async def due_rounds(
    session: AsyncSession, *, now: datetime, limit: int = 100
) -> list[tuple[int, int]]:
    """(case id, last round) of open cases whose next round of alerts is due."""
    rows = await session.exec(
        select(Case.id, Case.round)
        .where(col(Case.status) == Status.OPEN.value, col(Case.next_round_at) <= now)
        .order_by(col(Case.next_round_at))
        .limit(limit)
    )
    return [(cid, r) for cid, r in rows if cid is not None]


async def advance(
    session: AsyncSession, *, case_id: int, from_round: int, to_round: int,
    next_at: datetime | None,
) -> bool:
    """Moves a case on to `to_round`, once: a second planner (or instance) gets False."""
    result = await session.exec(
        update(Case)
        .where(
            col(Case.id) == case_id, col(Case.round) == from_round,
            col(Case.status) == Status.OPEN.value,
        )
        .values(round=to_round, next_round_at=next_at)
    )  # fmt: skip
    return result.rowcount == 1


async def schedule(session: AsyncSession, *, case: Case, at: datetime | None) -> None:
    """When the case's next round of alerts is due (None: no ladder)."""
    case.next_round_at = at
    session.add(case)


async def lock(session: AsyncSession, case_id: int) -> None:
    """Holds the case row until the transaction ends (PostgreSQL; SQLite has one writer
    anyway): two deliveries of a round failing at once then decide in turn, and the second
    sees the first's outcome. Take it before any write in the transaction: rows written
    with a key to the case (events) share-lock it, and two such would deadlock here."""
    await session.exec(select(Case.id).where(col(Case.id) == case_id).with_for_update())


async def escalate_now(session: AsyncSession, *, case_id: int, now: datetime) -> None:
    """Nobody could be reached: the next round is due at once."""
    await session.exec(
        update(Case)
        .where(col(Case.id) == case_id, col(Case.status) == Status.OPEN.value)
        .values(next_round_at=now)
    )


async def open_in_area(
    session: AsyncSession, *, area_path: str, limit: int
) -> list[tuple[Case, str]]:
    """Cases not resolved yet, urgent first, oldest first."""
    rows = await session.exec(
        select(Case, Area.path)
        .join(Area, col(Area.id) == Case.area_id)
        .where(in_area(area_path), col(Case.status) != Status.RESOLVED.value)
        .order_by(col(Case.urgent).desc(), col(Case.created_at), col(Case.id))
        .limit(limit)
    )
    return [(case, path) for case, path in rows]


async def timeline(session: AsyncSession, case_id: int) -> list[tuple[CaseEvent, str | None]]:
    rows = await session.exec(
        select(CaseEvent, Person.name)
        .join(Person, col(Person.id) == CaseEvent.person_id, isouter=True)
        .where(col(CaseEvent.case_id) == case_id)
        .order_by(col(CaseEvent.at), col(CaseEvent.id))
    )
    return [(e, name) for e, name in rows]


async def person_name(session: AsyncSession, person_id: int | None) -> str:
    if person_id is None:
        return ""
    return (await session.exec(select(Person.name).where(Person.id == person_id))).one()


async def mark_unreachable(session: AsyncSession, *, chat_id: int, now: datetime) -> int | None:
    """Someone blocked the bot: their supervisors see it (/people); returns their id."""
    person = (await session.exec(select(Person).where(Person.tg_user_id == chat_id))).first()
    if person is None:
        return None
    person.unreachable_at = now
    session.add(person)
    return person.id
