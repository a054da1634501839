"""`/overdue` (directors for their village, supervisors and admins for their area): the children
nobody is to visit (not covered) first, then the overdue; the state of every active child
(care.visits.State) as figures; and nudges: a reminder to the volunteers of overdue children,
at most one a day per child and volunteer, planned into the outbox in the transaction that
finds the children overdue. The areas read are always within the actor's own, whatever
filter a button carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import Colour
from care.roles import Role, Viewer
from care.visits import days_overdue
from service.actions import CHECK_IN
from service.services import Services
from storage import audit, due, outbox, people
from storage import children as children_store
from storage.due import Counts, FollowChild, Listed
from storage.outbox import Message

PAGE_SIZE = 12


class Refusal(StrEnum):
    FORBIDDEN = "forbidden"  # below a children's director
    NOT_OVERDUE = "not_overdue"  # the child is not listed (any more), or not of the area


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
    children: list[FollowChild]  # not covered first, then overdue; by village, most overdue first
    listed: Listed  # under the filter (colour too): not covered and overdue, on all pages
    pages: int
    figures: Counts  # every active child of the filtered areas, all colours, by state
    today: date
    yearly_minimum: int

    @property
    def total(self) -> int:
        return self.listed.total


async def _areas(session: AsyncSession, actor: Viewer, village: int) -> list[int]:
    """The areas a filter covers, always within the actor's own."""
    mine = await due.area_ids(session, actor.area_path)
    if village:
        return [village] if village in mine else []
    return mine


async def _page(
    services: Services, session: AsyncSession, actor: Viewer, chosen: Filter, today: date
) -> tuple[list[FollowChild], Listed, Counts]:
    """The children of a page, the counts under the filter, and the figures of its areas."""
    areas = await _areas(session, actor, chosen.village)
    expected = services.settings.visit_rule.expected_by(today)
    colour = chosen.colour.value if chosen.colour else None
    figures, listed = await due.counts(
        session, areas=areas, today=today, expected=expected, colour=colour
    )
    children = await due.follow_page(
        session, areas=areas, today=today, colour=colour, not_covered=listed.not_covered,
        offset=chosen.page * PAGE_SIZE, limit=PAGE_SIZE,
    )  # fmt: skip
    return children, listed, figures


async def page(services: Services, actor: Viewer, chosen: Filter) -> OverduePage | Refusal:
    if not may_follow(actor):
        return Refusal.FORBIDDEN
    today = services.today()
    async with services.sessions() as session:
        children, listed, figures = await _page(services, session, actor, chosen, today)
    pages = max(1, -(-listed.total // PAGE_SIZE))
    minimum = services.settings.visit_rule.yearly_minimum
    return OverduePage(actor.area_path, chosen, children, listed, pages, figures, today, minimum)


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
        found = await due.listed_child(session, areas=areas, today=today, child_id=child_id)
        if found is None:
            return Refusal.NOT_OVERDUE
        planned = await _nudge(session, services, actor, [found], today)
    if planned:
        services.outbox_planned()
    return Nudged(planned)


async def nudge_page(services: Services, actor: Viewer, chosen: Filter) -> Nudged | Refusal:
    """Reminds the volunteers of every child on a page of /overdue."""
    if not may_follow(actor):
        return Refusal.FORBIDDEN
    today = services.today()
    async with services.sessions.begin() as session:
        children, _listed, _figures = await _page(services, session, actor, chosen, today)
        planned = await _nudge(session, services, actor, children, today)
    if planned:
        services.outbox_planned()
    return Nudged(planned)


def nudge_key(child_id: int, person_id: int, day: date) -> str:
    """One reminder a day per child and volunteer, however often anyone presses."""
    return f"nudge:{child_id}:{person_id}:{day.isoformat()}"


async def _nudge(
    session: AsyncSession, services: Services, actor: Viewer, children: list[FollowChild],
    today: date,
) -> int:  # fmt: skip
    """Plans a reminder to each active volunteer of these children, in their language; each
    child nudged is audited (a child nobody is to visit is not). Returns how many reminders
    were new."""
    ids = {person_id for child in children for person_id, _name, _active in child.volunteers}
    volunteers = {p.id: p for p in await people.active_by_ids(session, ids)}
    messages = []
    for child in children:
        reached = [volunteers[p] for p, _name, _active in child.volunteers if p in volunteers]
        for person in reached:
            person_id = person.id
            assert person_id is not None
            t = services.translator(person.locale)
            late = days_overdue(child.due_on, today)
            text = t.n("overdue.nudge_text", late, name=child.name, days=late)
            buttons = (((t("mychildren.check_in", name=child.name), CHECK_IN(child.id)),),)
            messages.append(Message(nudge_key(child.id, person_id, today), person.tg_user_id,
                                    text, buttons, person_id))  # fmt: skip
        if reached:
            audit.record(session, actor_id=actor.person_id, action="nudge",
                         subject=f"child:{child.id}")  # fmt: skip
    return await outbox.plan(session, messages, now=services.now())
