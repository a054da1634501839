"""Closing children's records and moving children to another village.

A director (their village), a supervisor or an admin (their area) closes a record with a
reason (care.closing.ClosingReason) and a line of explanation: the record stays, read-only,
with its visits and history; it leaves reminders, /overdue and its figures, the gaps and the
export; its pairings end (kept as history). Children who reach their category's age limit
are closed by a daily job on the day (catching up on the days the bot was down), and so are
those an imported ledger says are past it. Each closing is audited and told, through the
outbox, to the village's directors (or, without one, the town's supervisors) and to the
volunteers whose pairing ended; the person who closed the record gets the reply to their save.

A supervisor or an admin moves a child, with the brothers and sisters of the household, to
another village of their area: the record, its visits, pairings, due date and history go
along (care.closing.may_move says why directors do not). Each move is kept (shown on the
card) and audited, and told to the directors of both villages.

Each use case checks role and area inside its own transaction, whatever a button claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from care.access import child_scope
from care.cases import Audience
from care.children import Category
from care.closing import (
    AHEAD_DAYS,
    ClosingReason,
    age_out_day,
    aged_out,
    clean_note,
    may_close,
    may_move,
)
from care.reminders import release_at
from care.roles import Level, Viewer
from locales import Translator, labels
from service.services import Services
from storage import areas, cases, closing, outbox, people
from storage import children as children_store
from storage.closing import Ageing, Closed, ClosedLine
from storage.outbox import Message

RECENT_DAYS = 30  # /ageing also lists the records closed in the last this many days
RECENT_SHOWN = 20


class Refusal(StrEnum):
    ROLE = "role"  # the person may not close (or move) records
    CHILD = "child"  # no such child among those the person may change
    CLOSED = "closed"  # the record is closed: read-only
    REASON = "reason"  # the explanation is empty or too long
    NOT_AGED_OUT = "not_aged_out"  # "reached the age limit" for a child who has not yet
    AREA = "area"  # the new village is not a village of the person's area
    SAME_VILLAGE = "same_village"  # the child lives in that village already


class Refused(Exception):
    """Nothing was written, and why."""

    def __init__(self, why: Refusal) -> None:
        super().__init__(why.value)
        self.why = why


# -- closing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closable:
    """An open record the viewer may close, as the closing form shows it."""

    id: int
    name: str
    village: str
    category: Category
    age_out_on: date  # the day the child reaches the category's age limit
    aged_out: bool  # on or past that day


async def closable(services: Services, viewer: Viewer, child_id: int) -> Closable | Refusal:
    if not may_close(viewer):
        return Refusal.ROLE
    async with services.sessions() as session:
        child = await children_store.in_scope(session, child_scope(viewer), child_id)
        if child is None or child.id is None:
            return Refusal.CHILD
        here = await areas.get(session, child.area_id)
    if not child.active:
        return Refusal.CLOSED
    assert here is not None
    category = Category(child.category)
    return Closable(
        child.id, child.name, here.name, category,
        age_out_day(child.birth_date, category),
        aged_out(child.birth_date, category, services.today()),
    )  # fmt: skip


@dataclass(frozen=True)
class ClosedRecord:
    child_id: int
    name: str


async def close_child(
    services: Services, viewer: Viewer, child_id: int, reason: ClosingReason, note: str
) -> ClosedRecord:
    """Closes the record, if the viewer may and it is open; refused, with nothing written,
    otherwise, for an empty explanation, and for "reached the age limit" before the day."""
    if not may_close(viewer):
        raise Refused(Refusal.ROLE)
    cleaned = clean_note(note)
    if cleaned is None:
        raise Refused(Refusal.REASON)
    today = services.today()
    async with services.sessions.begin() as session:
        child = await children_store.in_scope(session, child_scope(viewer), child_id)
        if child is None or child.id is None:
            raise Refused(Refusal.CHILD)
        if not child.active:
            raise Refused(Refusal.CLOSED)
        if reason == ClosingReason.AGED_OUT and not aged_out(
            child.birth_date, Category(child.category), today
        ):
            raise Refused(Refusal.NOT_AGED_OUT)
        name = child.name
        closed = await closing.close(
            session, [child.id], reason=reason, note=cleaned, on=today,
            actor_id=viewer.person_id,
        )  # fmt: skip
        planned = await plan_notes(session, services, closed, reason, by=viewer)
    if planned:
        services.outbox_planned()
    return ClosedRecord(child_id, name)


async def close_aged_out(services: Services) -> int:
    """The daily job: closes the record of every child who has reached the category's age
    limit (those of the days the bot was down too), and tells their directors and
    volunteers. Running it again closes nothing twice. Returns how many were closed."""
    today = services.today()
    async with services.sessions.begin() as session:
        ids = await closing.aged_out(session, today)
        if not ids:
            return 0
        closed = await closing.close(
            session, ids, reason=ClosingReason.AGED_OUT, note="", on=today, actor_id=None
        )
        planned = await plan_notes(session, services, closed, ClosingReason.AGED_OUT, by=None)
    if planned:
        services.outbox_planned()
    return len(closed)


async def _directors(session: AsyncSession, village: str) -> list[cases.Recipient]:
    """Who keeps the village's records: its directors, else the town's supervisors."""
    found = await cases.audience(session, area_path=village, who=Audience.VILLAGE_DIRECTORS)
    if found:
        return found
    return await cases.audience(session, area_path=village, who=Audience.TOWN_SUPERVISORS)


def _closed_text(t: Translator, child: Closed, reason: ClosingReason, by: Viewer | None) -> str:
    village = child.area_path.rsplit("/", 1)[-1]
    if reason == ClosingReason.AGED_OUT and by is None:
        return t(
            "closing.note_aged_out", name=child.name, village=village,
            day=t.date(age_out_day(child.birth_date, child.category)),
            age=child.category.age_limit, category=t(labels.CATEGORY[child.category]),
        )  # fmt: skip
    return t("closing.note_closed", name=child.name, village=village,
             reason=t(labels.CLOSING_REASON[reason]), by=by.name if by else "—")  # fmt: skip


async def plan_notes(
    session: AsyncSession, services: Services, closed: Sequence[Closed], reason: ClosingReason,
    *, by: Viewer | None,
) -> int:  # fmt: skip
    """Plans the notes of these closings, in each reader's language, after the quiet hours:
    to the village's directors (but the person who closed it) and the volunteers whose
    pairing ended. Keyed by child and reader: planned once. Returns how many were new."""
    settings, now = services.settings, services.now()
    later = release_at(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz)
    volunteers = {
        p.id: p
        for p in await people.active_by_ids(session, {v for c in closed for v in c.volunteers})
    }
    directors: dict[str, list[cases.Recipient]] = {}
    messages = []
    for child in closed:
        village = child.area_path
        if village not in directors:
            directors[village] = await _directors(session, village)
        for reader in directors[village]:
            if by is not None and reader.person_id == by.person_id:
                continue
            t = services.translator(reader.locale)
            messages.append(Message(f"closed:{child.child_id}:{reader.person_id}", reader.chat_id,
                                    _closed_text(t, child, reason, by), (), reader.person_id,
                                    not_before=later))  # fmt: skip
        for volunteer_id in child.volunteers:
            volunteer = volunteers.get(volunteer_id)
            if volunteer is None or volunteer.id is None:
                continue
            t = services.translator(volunteer.locale)
            text = t("closing.note_volunteer", name=child.name,
                     reason=t(labels.CLOSING_REASON[reason]))  # fmt: skip
            messages.append(Message(f"closed:{child.child_id}:{volunteer.id}",
                                    volunteer.tg_user_id, text, (), volunteer.id,
                                    not_before=later))  # fmt: skip
    return await outbox.plan(session, messages, now=now)


# -- moving ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Village:
    id: int
    path: str


@dataclass(frozen=True)
class Movable:
    """A child the viewer may move, with the family that moves along and where to."""

    id: int
    name: str
    village: Village
    siblings: tuple[str, ...]  # the open records of the household: they move too
    villages: tuple[Village, ...]  # the other villages of the viewer's area


async def movable(services: Services, viewer: Viewer, child_id: int) -> Movable | Refusal:
    if not may_move(viewer):
        return Refusal.ROLE
    async with services.sessions() as session:
        child = await children_store.in_scope(session, child_scope(viewer), child_id)
        if child is None or child.id is None:
            return Refusal.CHILD
        if not child.active:
            return Refusal.CLOSED
        family = await closing.family(session, child)
        here = await areas.get(session, child.area_id)
        found = await children_store.villages_in(session, viewer.area_path)
    assert here is not None and here.id is not None
    others = tuple(Village(v.id, v.path) for v in found if v.id is not None and v.id != here.id)
    siblings = tuple(c.name for c in family if c.id != child.id)
    return Movable(child.id, child.name, Village(here.id, here.path), siblings, others)


@dataclass(frozen=True)
class Moved:
    names: tuple[str, ...]  # the child first, then the siblings who moved along
    from_path: str
    to_path: str


async def move_child(
    services: Services, viewer: Viewer, child_id: int, village_id: int, reason: str
) -> Moved:
    """Moves the child and the open records of its household to a village of the viewer's
    area. Refused, with nothing written, for a child or a village outside it, a closed
    record, the child's own village and an empty reason."""
    if not may_move(viewer):
        raise Refused(Refusal.ROLE)
    cleaned = clean_note(reason)
    if cleaned is None:
        raise Refused(Refusal.REASON)
    async with services.sessions.begin() as session:
        child = await children_store.in_scope(session, child_scope(viewer), child_id)
        if child is None or child.id is None:
            raise Refused(Refusal.CHILD)
        if not child.active:
            raise Refused(Refusal.CLOSED)
        target = await areas.get(session, village_id)
        if target is None or target.level != Level.VILLAGE or not viewer.sees(target.path):
            raise Refused(Refusal.AREA)
        if target.id == child.area_id:
            raise Refused(Refusal.SAME_VILLAGE)
        origin = await areas.get(session, child.area_id)
        assert origin is not None
        family = await closing.family(session, child)
        family.sort(key=lambda c: c.id != child_id)  # the child first
        names = tuple(c.name for c in family)
        move_id = await closing.move(
            session, children=family, to=target, reason=cleaned, actor_id=viewer.person_id,
            at=services.now(),
        )  # fmt: skip
        moved = Moved(names, origin.path, target.path)
        planned = await _plan_move_notes(session, services, moved, move_id, viewer)
    if planned:
        services.outbox_planned()
    return moved


async def _plan_move_notes(
    session: AsyncSession, services: Services, moved: Moved, move_id: int, by: Viewer
) -> int:
    """The directors of both villages (or their town's supervisors) hear of the move."""
    readers: dict[int, cases.Recipient] = {}
    for village in (moved.from_path, moved.to_path):
        for reader in await _directors(session, village):
            readers.setdefault(reader.person_id, reader)
    messages = []
    for reader in readers.values():
        if reader.person_id == by.person_id:
            continue
        t = services.translator(reader.locale)
        text = t("move.note", names="、".join(moved.names),
                 from_village=moved.from_path.rsplit("/", 1)[-1],
                 to_village=moved.to_path.rsplit("/", 1)[-1], by=by.name)  # fmt: skip
        messages.append(Message(f"moved:{move_id}:{reader.person_id}", reader.chat_id, text, (),
                                reader.person_id))  # fmt: skip
    return await outbox.plan(session, messages, now=services.now())


# -- /ageing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeingChild:
    child: Ageing
    on: date  # the day the record closes by itself


@dataclass(frozen=True)
class AgeingView:
    area_path: str
    today: date
    ageing: list[AgeingChild]  # by day, then name
    closed: list[ClosedLine] = field(default_factory=list)  # the latest first
    closed_count: int = 0  # closed in the last RECENT_DAYS days, all of them


async def ageing(services: Services, viewer: Viewer) -> AgeingView | Refusal:
    """The children of the viewer's area who reach their category's age limit within
    AHEAD_DAYS days (their records close by themselves on that day), and the records closed
    in the last RECENT_DAYS days."""
    if not may_close(viewer):
        return Refusal.ROLE
    today = services.today()
    async with services.sessions() as session:
        soon = await closing.ageing(
            session, area_path=viewer.area_path, today=today, days=AHEAD_DAYS
        )
        closed, count = await closing.closed_since(
            session, area_path=viewer.area_path, since=today - timedelta(days=RECENT_DAYS),
            limit=RECENT_SHOWN,
        )  # fmt: skip
    listed = sorted(
        (AgeingChild(c, age_out_day(c.birth_date, c.category)) for c in soon),
        key=lambda a: (a.on, a.child.area_path, a.child.name, a.child.child_id),
    )
    return AgeingView(viewer.area_path, today, listed, closed, count)
