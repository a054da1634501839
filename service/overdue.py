"""Overdue children (`/overdue`: directors for their village, supervisors and admins for their
area) and nudges: a reminder to the volunteers of overdue children, at most one a day per child
and volunteer, planned into the outbox in the transaction that finds the children overdue.
The areas read are always within the actor's own, whatever filter a button carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import Colour
from care.roles import Role, Viewer
from care.visits import days_overdue, expected_by
from service.actions import CHECK_IN
from service.services import Services
from storage import audit, due, outbox, people
from storage import children as children_store
from storage.due import AreaFigures, OverdueChild
from storage.outbox import Message

PAGE_SIZE = 12


class Refusal(StrEnum):
    FORBIDDEN = "forbidden"  # below a children's director
    NOT_OVERDUE = "not_overdue"  # the child is not overdue (any more), or not of the area


def may_follow(actor: Viewer) -> bool:
    return actor.at_least(Role.DIRECTOR)


@dataclass(frozen=True)
class Filter:
    page: int = 0
    village: int = 0  # an area id; 0: the actor's whole area
    colour: Colour | None = None


@dataclass(frozen=True)
class OverduePage:
    area_path: str  # the actor's area
    filter: Filter
    children: list[OverdueChild]  # by village, most overdue first
    total: int  # overdue children under the filter, on all pages
    pages: int
    figures: AreaFigures  # of the filtered areas, all colours
    today: date


async def _areas(session: AsyncSession, actor: Viewer, village: int) -> list[int]:
    """The areas a filter covers, always within the actor's own."""
    mine = await due.area_ids(session, actor.area_path)
    if village:
        return [village] if village in mine else []
    return mine


async def _page(
    session: AsyncSession, actor: Viewer, chosen: Filter, today: date
) -> tuple[list[int], list[OverdueChild], int]:
    areas = await _areas(session, actor, chosen.village)
    children, total = await due.overdue_page(
        session, areas=areas, today=today, colour=chosen.colour.value if chosen.colour else None,
        offset=chosen.page * PAGE_SIZE, limit=PAGE_SIZE,
    )  # fmt: skip
    return areas, children, total


async def page(services: Services, actor: Viewer, chosen: Filter) -> OverduePage | Refusal:
    if not may_follow(actor):
        return Refusal.FORBIDDEN
    today = services.today()
    async with services.sessions() as session:
        areas, children, total = await _page(session, actor, chosen, today)
        figures = await due.figures(session, areas=areas, today=today, expected=expected_by(today))
    pages = max(1, -(-total // PAGE_SIZE))
    return OverduePage(actor.area_path, chosen, children, total, pages, figures, today)


@dataclass(frozen=True)
class Village:
    area_id: int
    path: str


async def villages(services: Services, actor: Viewer) -> list[Village] | Refusal:
    """The villages of the actor's area, for the filter."""
    if not may_follow(actor):
        return Refusal.FORBIDDEN
    async with services.sessions() as session:
        found = await children_store.villages_in(session, actor.area_path)
    return [Village(v.id, v.path) for v in found if v.id is not None]


@dataclass(frozen=True)
class Nudged:
    planned: int  # reminders planned now (those planned earlier today are not again)


async def nudge_one(services: Services, actor: Viewer, child_id: int) -> Nudged | Refusal:
    """Reminds the volunteers of one overdue child of the actor's area."""
    if not may_follow(actor):
        return Refusal.FORBIDDEN
    today = services.today()
    async with services.sessions.begin() as session:
        areas = await _areas(session, actor, 0)
        found, _ = await due.overdue_page(
            session, areas=areas, today=today, colour=None, offset=0, limit=1, child_id=child_id
        )
        if not found:
            return Refusal.NOT_OVERDUE
        planned = await _nudge(session, services, actor, found, today)
    if planned:
        services.outbox_planned()
    return Nudged(planned)


async def nudge_page(services: Services, actor: Viewer, chosen: Filter) -> Nudged | Refusal:
    """Reminds the volunteers of every child on a page of /overdue."""
    if not may_follow(actor):
        return Refusal.FORBIDDEN
    today = services.today()
    async with services.sessions.begin() as session:
        _areas_read, children, _total = await _page(session, actor, chosen, today)
        planned = await _nudge(session, services, actor, children, today)
    if planned:
        services.outbox_planned()
    return Nudged(planned)


def nudge_key(child_id: int, person_id: int, day: date) -> str:
    """One reminder a day per child and volunteer, however often anyone presses."""
    return f"nudge:{child_id}:{person_id}:{day.isoformat()}"


async def _nudge(
    session: AsyncSession, services: Services, actor: Viewer, children: list[OverdueChild],
    today: date,
) -> int:  # fmt: skip
    """Plans a reminder to each active volunteer of these children, in their language; each
    nudge is audited. Returns how many reminders were new."""
    ids = {person_id for child in children for person_id, _name in child.volunteers}
    volunteers = {p.id: p for p in await people.active_by_ids(session, ids)}
    messages = []
    for child in children:
        for person_id, _name in child.volunteers:
            person = volunteers.get(person_id)
            if person is None:
                continue
            t = services.translator(person.locale)
            late = days_overdue(child.due_on, today)
            text = t.n("overdue.nudge_text", late, name=child.name, days=late)
            buttons = (((t("mychildren.check_in", name=child.name), CHECK_IN(child.id)),),)
            messages.append(Message(nudge_key(child.id, person_id, today), person.tg_user_id,
                                    text, buttons, person_id))  # fmt: skip
        audit.record(session, actor_id=actor.person_id, action="nudge",
                     subject=f"child:{child.id}")  # fmt: skip
    return await outbox.plan(session, messages, now=services.now())
