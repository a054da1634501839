"""Pairing (结对): volunteers offered for a child by the rules (care.pairing), pairing with a
recorded override when a rule is broken, ending a pairing, the yearly review, and the gaps of
an area. Only supervisors and admins pair (care.access.may_pair), and only children of their
area: checked in each use case, in the transaction that reads or writes, whatever the button
or the flow's answers claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from care.access import child_scope, may_pair
from care.pairing import GapItem, Rule, check_choice, find_gaps, rank_volunteers
from care.roles import Gender, Viewer
from service.services import Services
from storage import children, pairings
from storage.children import ChildFilter, ChildLine

REASON_LENGTH = (4, 200)  # an override's or an ending's reason, in characters


class Refusal(StrEnum):
    FORBIDDEN = "forbidden"  # not a supervisor or admin, or the child is not of their area
    VOLUNTEER_GONE = "volunteer_gone"  # the chosen person is no longer an active volunteer
    ALREADY_PAIRED = "already_paired"  # this volunteer is paired with the child already
    RULES_CHANGED = "rules_changed"  # the choice breaks a rule the actor did not override
    REASON = "reason"  # a reason is needed (an override, an ending) and this one is not one
    ENDED = "ended"  # the pairing to end is not an active pairing of the child


def clean_reason(text: str) -> str | None:
    """A reason single-spaced, or None when it is too short or too long to be one."""
    reason = " ".join(text.split())
    return reason if REASON_LENGTH[0] <= len(reason) <= REASON_LENGTH[1] else None


async def _allowed(session: AsyncSession, actor: Viewer, child_id: int) -> bool:
    # a closed record is read-only: nobody is paired with it (its pairings ended with it)
    return may_pair(actor) and await children.visible(
        session, child_scope(actor), child_id, open_only=True
    )


async def may_pair_child(services: Services, actor: Viewer, child_id: int) -> bool:
    async with services.sessions() as session:
        return await _allowed(session, actor, child_id)


async def find_children(
    services: Services, actor: Viewer, name: str, *, limit: int = 10
) -> tuple[list[ChildLine], int]:
    """Children of the actor's area by name (the first `limit`), and how many match."""
    if not may_pair(actor):
        return [], 0
    async with services.sessions() as session:
        return await children.page(
            session, child_scope(actor), ChildFilter(name=name), offset=0, limit=limit
        )


@dataclass(frozen=True)
class Offer:
    """A volunteer offered for a child, with the rules choosing them would break."""

    volunteer_id: int
    name: str
    gender: Gender
    load: int  # children they are paired with now
    breaks: tuple[Rule, ...]
    sibling_family: bool  # already paired with a sibling of the child


async def candidates(
    services: Services, actor: Viewer, child_id: int, *, limit: int
) -> list[Offer]:
    """The volunteers of the child's town, best first (care.pairing.rank_volunteers)."""
    async with services.sessions() as session:
        if not await _allowed(session, actor, child_id):
            return []
        found = await pairings.context_for(session, child_id)
    if found is None:
        return []
    ranked = rank_volunteers(
        found.child, found.volunteers, found.pairings, services.today(), siblings=found.siblings
    )
    return [
        Offer(c.volunteer.person_id, found.names[c.volunteer.person_id], c.volunteer.gender,
              c.volunteer.load, c.breaks, c.sibling_family)
        for c in ranked[:limit]
    ]  # fmt: skip


@dataclass(frozen=True)
class Choice:
    child_name: str
    volunteer_name: str
    breaks: tuple[Rule, ...]  # the rules pairing them would break, as the database is now


async def choice(
    services: Services, actor: Viewer, child_id: int, volunteer_id: int
) -> Choice | Refusal:
    """What pairing this volunteer with this child would break (never taken from a button)."""
    async with services.sessions() as session:
        if not await _allowed(session, actor, child_id):
            return Refusal.FORBIDDEN
        return await _choice(session, child_id, volunteer_id, services.today())


async def _choice(
    session: AsyncSession, child_id: int, volunteer_id: int, today: date
) -> Choice | Refusal:
    found = await pairings.context_for(session, child_id)
    if found is None:
        return Refusal.FORBIDDEN
    chosen = await pairings.volunteer(session, volunteer_id)
    if chosen is None:
        return Refusal.VOLUNTEER_GONE
    facts, name = chosen
    breaks = check_choice(found.child, facts, found.pairings, today, siblings=found.siblings)
    return Choice(found.name, name, breaks)


@dataclass(frozen=True)
class PairRequest:
    child_id: int
    volunteer_id: int
    overridden: tuple[Rule, ...] = ()  # the rules the actor knowingly breaks…
    reason: str = ""  # …and why (recorded); needed when any rule is broken


@dataclass(frozen=True)
class Paired:
    pairing_id: int
    child_name: str
    volunteer_name: str
    broken: tuple[Rule, ...]


async def pair(services: Services, actor: Viewer, request: PairRequest) -> Paired | Refusal:
    """Pairs the volunteer with the child from today, if the rules as they are now allow it
    or every rule it breaks was overridden with a reason. Refused, with nothing written,
    for a child outside the actor's area, a volunteer gone or paired with the child already,
    and a rule broken without an override (e.g. a sibling was paired meanwhile)."""
    today = services.today()
    async with services.sessions.begin() as session:
        if not await _allowed(session, actor, request.child_id):
            return Refusal.FORBIDDEN
        found = await _choice(session, request.child_id, request.volunteer_id, today)
        if isinstance(found, Refusal):
            return found
        if Rule.ALREADY_PAIRED in found.breaks:
            return Refusal.ALREADY_PAIRED
        if set(found.breaks) - set(request.overridden):
            return Refusal.RULES_CHANGED
        reason = clean_reason(request.reason) if found.breaks else ""
        if reason is None:
            return Refusal.REASON
        created = await pairings.create(
            session, child_id=request.child_id, volunteer_id=request.volunteer_id,
            started_on=today, broken_rules=[r.value for r in found.breaks],
            reason=reason, actor_id=actor.person_id,
        )  # fmt: skip
        assert created.id is not None
    return Paired(created.id, found.child_name, found.volunteer_name, found.breaks)


@dataclass(frozen=True)
class ActivePairing:
    pairing_id: int
    volunteer_name: str


async def active_pairings(services: Services, actor: Viewer, child_id: int) -> list[ActivePairing]:
    """The child's active pairings (none when the actor may not pair this child)."""
    async with services.sessions() as session:
        if not await _allowed(session, actor, child_id):
            return []
        found = await pairings.active_with_names(session, child_id)
    return [ActivePairing(pairing_id, name) for pairing_id, name in found]


@dataclass(frozen=True)
class UnpairRequest:
    child_id: int
    pairing_id: int
    reason: str


@dataclass(frozen=True)
class Unpaired:
    pairing_id: int


async def unpair(services: Services, actor: Viewer, request: UnpairRequest) -> Unpaired | Refusal:
    """Ends an active pairing of the child today, with a reason; kept as history."""
    reason = clean_reason(request.reason)
    async with services.sessions.begin() as session:
        if not await _allowed(session, actor, request.child_id):
            return Refusal.FORBIDDEN
        if reason is None:
            return Refusal.REASON
        ended = await pairings.end(
            session, child_id=request.child_id, pairing_id=request.pairing_id,
            on=services.today(), reason=reason, actor_id=actor.person_id,
        )  # fmt: skip
    return Unpaired(request.pairing_id) if ended else Refusal.ENDED


@dataclass(frozen=True)
class Reviewed:
    count: int  # the child's active pairings, now reviewed today


async def mark_reviewed(services: Services, actor: Viewer, child_id: int) -> Reviewed | Refusal:
    """This year's review (每年3月底前更新) of the child's active pairings is done."""
    async with services.sessions.begin() as session:
        if not await _allowed(session, actor, child_id):
            return Refusal.FORBIDDEN
        count = await pairings.review(
            session, child_id=child_id, on=services.today(), actor_id=actor.person_id
        )
    return Reviewed(count)


@dataclass(frozen=True)
class Gaps:
    area_path: str
    items: list[GapItem]  # by kind (care.pairing.Gap), then children, then volunteers
    child_names: dict[int, tuple[str, str]]  # id -> (name, area path)
    volunteer_names: dict[int, str]


async def gaps(services: Services, actor: Viewer) -> Gaps | Refusal:
    """The rule gaps among the active children of the actor's area (`/unpaired`)."""
    if not may_pair(actor):
        return Refusal.FORBIDDEN
    async with services.sessions() as session:
        inputs = await pairings.gap_inputs(session, actor.area_path)
    items = find_gaps(inputs.children, inputs.volunteers, inputs.pairings, services.today())
    return Gaps(actor.area_path, items, inputs.child_names, inputs.volunteer_names)
