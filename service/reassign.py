"""Moving a child to another volunteer (Reassign means move): in one step the old pairing ends
with a reason, kept as history, and the new one begins; the child's due date stays as it is
(it follows the visits). Supervisors and admins move the children of their area; a
children's director proposes a move for a child of their village, which a supervisor of the
child's town accepts (the move is made then, checked against the rules as they are at that
moment) or declines. The proposal reaches them through the outbox, in their language, with
Accept and Decline; the director is told the outcome the same way.

Refused with nothing written: a child outside the actor's area, a reason missing or too
short, a volunteer who breaks a rule (e.g. of another town) without an override and its
reason, a pairing that ended meanwhile, a proposal decided already."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from care.access import may_pair
from care.pairing import Rule
from care.roles import Role, Viewer, town_of
from locales import _ as mark
from locales import labels
from service.actions import REASSIGN_ACCEPT, REASSIGN_DECLINE
from service.pairing import (
    ActivePairing,
    Choice,
    Refusal,
    allowed,
    choose,
    clean_reason,
    may_propose,
)
from service.services import Services
from storage import areas, audit, outbox, pairings, people
from storage import children as children_store
from storage.models import Person, ReassignProposal
from storage.outbox import Message


class Status(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class MoveRequest:
    child_id: int
    pairing_id: int | None  # the pairing that ends; None: the child is paired with nobody
    volunteer_id: int
    reason: str  # why the pairing ends (needed when one does)
    overridden: tuple[Rule, ...] = ()  # the rules the actor knowingly breaks…
    override_reason: str = ""  # …and why (recorded); needed when any rule is broken
    draft_key: str = ""  # a proposal is stored once per draft


@dataclass(frozen=True)
class Moved:
    child_name: str
    volunteer_name: str
    broken: tuple[Rule, ...]


@dataclass(frozen=True)
class _Checked:
    choice: Choice
    reason: str
    override_reason: str


async def _check(
    session: AsyncSession, request: MoveRequest, services: Services
) -> _Checked | Refusal:
    """The request against the database as it is now (the actor's rights checked before)."""
    reason = clean_reason(request.reason) if request.pairing_id is not None else ""
    if reason is None:
        return Refusal.REASON
    found = await choose(
        session, request.child_id, request.volunteer_id, services.today(),
        ending=request.pairing_id,
    )  # fmt: skip
    if isinstance(found, Refusal):
        return found
    own = await pairings.active_with_names(session, request.child_id)
    if Rule.ALREADY_PAIRED in found.breaks or any(
        pid == request.pairing_id and person == request.volunteer_id
        for pid, person, _name, _active in own
    ):
        return Refusal.ALREADY_PAIRED
    if set(found.breaks) - set(request.overridden):
        return Refusal.RULES_CHANGED
    override = clean_reason(request.override_reason) if found.breaks else ""
    if override is None:
        return Refusal.REASON
    return _Checked(found, reason, override)


async def _move(
    session: AsyncSession, services: Services, actor_id: int, request: MoveRequest,
    checked: _Checked,
) -> Moved | Refusal:  # fmt: skip
    made = await pairings.reassign(
        session, child_id=request.child_id, pairing_id=request.pairing_id,
        volunteer_id=request.volunteer_id, on=services.today(), reason=checked.reason,
        broken_rules=[r.value for r in checked.choice.breaks],
        override_reason=checked.override_reason, actor_id=actor_id,
    )  # fmt: skip
    if made is None:
        return Refusal.ENDED
    found = checked.choice
    return Moved(found.child_name, found.volunteer_name, found.breaks)


async def move(services: Services, actor: Viewer, request: MoveRequest) -> Moved | Refusal:
    """Moves the child (a supervisor or an admin, a child of their area) in one transaction."""
    async with services.sessions.begin() as session:
        if not await allowed(session, actor, request.child_id):
            return Refusal.FORBIDDEN
        checked = await _check(session, request, services)
        if isinstance(checked, Refusal):
            return checked
        return await _move(session, services, actor.person_id, request, checked)


@dataclass(frozen=True)
class Proposed:
    child_name: str
    volunteer_name: str
    deciders: tuple[str, ...]  # the names of those asked to decide


async def _deciders(session: AsyncSession, area_path: str) -> list[tuple[Person, str]]:
    """Who decides a proposal for a child of this area: the supervisors of its town; with
    none active there, the supervisors and admins of its county."""
    town = town_of(area_path)
    found = await people.active_in(session, roles=[Role.SUPERVISOR], area_paths=[town])
    if not found:
        county = area_path.split("/", 1)[0]
        found = await people.active_in(
            session, roles=[Role.SUPERVISOR, Role.ADMIN], area_paths=[county]
        )
    return found


async def propose(services: Services, actor: Viewer, request: MoveRequest) -> Proposed | Refusal:
    """A director's proposal, checked as a move would be, stored once per draft, and sent to
    the deciders (outbox) in the same transaction."""
    if not request.draft_key:
        return Refusal.FORBIDDEN
    async with services.sessions.begin() as session:
        if not await allowed(session, actor, request.child_id, proposing=True):
            return Refusal.FORBIDDEN
        checked = await _check(session, request, services)
        if isinstance(checked, Refusal):
            return checked
        child = await children_store.get(session, request.child_id)
        village = await areas.get(session, child.area_id) if child is not None else None
        assert village is not None  # visible to the actor, so it exists
        area = village.path
        deciders = await _deciders(session, area)
        if not deciders:
            return Refusal.NO_SUPERVISOR
        proposal = await _store_proposal(session, actor, request, checked)
        assert proposal.id is not None
        old = await _old_volunteer(session, request)
        messages = [
            _proposal_message(services, person, proposal.id, actor, checked, old, area)
            for person, _path in deciders
        ]
        await outbox.plan(session, messages, now=services.now())
    services.outbox_planned()
    found = checked.choice
    return Proposed(found.child_name, found.volunteer_name, tuple(p.name for p, _ in deciders))


async def _store_proposal(
    session: AsyncSession, actor: Viewer, request: MoveRequest, checked: _Checked
) -> ReassignProposal:
    """The proposal of this draft, stored now or found from before (Confirm pressed twice)."""
    found = await pairings.proposal_by_key(session, request.draft_key)
    if found is not None:
        return found
    proposal = ReassignProposal(
        draft_key=request.draft_key, child_id=request.child_id, pairing_id=request.pairing_id,
        volunteer_id=request.volunteer_id, reason=checked.reason,
        broken_rules=",".join(r.value for r in checked.choice.breaks),
        override_reason=checked.override_reason, proposed_by=actor.person_id,
    )  # fmt: skip
    session.add(proposal)
    await session.flush()
    audit.record(
        session, actor_id=actor.person_id, action="reassign_propose",
        subject=f"child:{request.child_id}", detail=f"proposal={proposal.id}",
    )  # fmt: skip
    return proposal


async def _old_volunteer(session: AsyncSession, request: MoveRequest) -> str | None:
    for pid, _person, name, _active in await pairings.active_with_names(session, request.child_id):
        if pid == request.pairing_id:
            return name
    return None


def _proposal_message(
    services: Services, person: Person, proposal_id: int, actor: Viewer, checked: _Checked,
    old: str | None, area: str,
) -> Message:  # fmt: skip
    t = services.translator(person.locale)
    found = checked.choice
    village = area.rsplit("/", 1)[-1]
    if old is None:
        text = t("reassign.proposal_pair", director=actor.name, village=village,
                 child=found.child_name, volunteer=found.volunteer_name)  # fmt: skip
    else:
        text = t("reassign.proposal", director=actor.name, village=village, child=found.child_name,
                 old=old, volunteer=found.volunteer_name, reason=checked.reason)  # fmt: skip
    if found.breaks:
        rules = "；".join(t(labels.RULE[r]) for r in found.breaks)
        text += "\n" + t("pair.override", rules=rules, reason=checked.override_reason)
    accept, decline = REASSIGN_ACCEPT(proposal_id), REASSIGN_DECLINE(proposal_id)
    buttons = (((t("reassign.accept"), accept), (t("reassign.decline"), decline)),)
    assert person.id is not None
    return Message(
        f"reassign:{proposal_id}:{person.id}", person.tg_user_id, text, buttons, person.id
    )


@dataclass(frozen=True)
class Decided:
    accepted: bool
    child_name: str
    volunteer_name: str


@dataclass(frozen=True)
class AlreadyDecided:
    accepted: bool
    by: str  # who decided


class _Undo(Exception):
    """Leaves a transaction without writing anything, for this refusal."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


async def decide(
    services: Services, actor: Viewer, proposal_id: int, *, accept: bool
) -> Decided | AlreadyDecided | Refusal:
    """Accepts (the move is made now, checked as the supervisor's own would be) or declines
    a pending proposal for a child of the actor's area; the director is told either way."""
    try:
        return await _decide(services, actor, proposal_id, accept=accept)
    except _Undo as undone:
        return undone.refusal


async def _decide(
    services: Services, actor: Viewer, proposal_id: int, *, accept: bool
) -> Decided | AlreadyDecided | Refusal:
    async with services.sessions.begin() as session:
        proposal = await session.get(ReassignProposal, proposal_id)
        if proposal is None or not await allowed(session, actor, proposal.child_id):
            return Refusal.FORBIDDEN
        if proposal.status != Status.PENDING:
            decider = await people.get(session, proposal.decided_by or 0)
            name = decider.name if decider else ""
            return AlreadyDecided(proposal.status == Status.ACCEPTED, name)
        request = MoveRequest(
            proposal.child_id, proposal.pairing_id, proposal.volunteer_id, proposal.reason,
            tuple(Rule(r) for r in proposal.broken_rules.split(",") if r),
            proposal.override_reason,
        )  # fmt: skip
        checked = await _check(session, request, services) if accept else None
        if isinstance(checked, Refusal):
            return checked
        # One decision per proposal, whoever presses first: the update only one can win.
        won = await session.exec(
            update(ReassignProposal)
            .where(
                col(ReassignProposal.id) == proposal_id,
                col(ReassignProposal.status) == Status.PENDING,
            )
            .values(
                status=Status.ACCEPTED if accept else Status.DECLINED,
                decided_by=actor.person_id, decided_at=services.now(),
            )
        )  # fmt: skip
        if won.rowcount != 1:
            return Refusal.DECIDED
        if checked is not None:
            moved = await _move(session, services, actor.person_id, request, checked)
            if isinstance(moved, Refusal):
                raise _Undo(moved)  # the decision is not kept either
        audit.record(
            session, actor_id=actor.person_id,
            action="reassign_accept" if accept else "reassign_decline",
            subject=f"child:{proposal.child_id}", detail=f"proposal={proposal_id}",
        )  # fmt: skip
        child = await children_store.get(session, proposal.child_id)
        volunteer = await people.get(session, proposal.volunteer_id)
        names = (child.name if child else "", volunteer.name if volunteer else "")
        await _tell_director(session, services, actor, proposal, accept, names)
    services.outbox_planned()
    return Decided(accept, *names)


async def _tell_director(
    session: AsyncSession, services: Services, actor: Viewer, proposal: ReassignProposal,
    accept: bool, names: tuple[str, str],
) -> None:  # fmt: skip
    director = await people.get(session, proposal.proposed_by)
    if director is None or not director.active or director.id is None:
        return
    t = services.translator(director.locale)
    key = mark("reassign.told_accepted") if accept else mark("reassign.told_declined")
    text = t(key, child=names[0], volunteer=names[1], supervisor=actor.name)
    message = Message(f"reassign:{proposal.id}:decided", director.tg_user_id, text, (), director.id)
    await outbox.plan(session, [message], now=services.now())


@dataclass(frozen=True)
class Start:
    """What a move of this child starts from, for the actor: move it (supervisors and
    admins) or propose it (directors), and the child's active pairings."""

    proposing: bool
    child_name: str
    pairings: list[ActivePairing]


async def start(services: Services, actor: Viewer, child_id: int) -> Start | None:
    """None when the actor may neither move nor propose to move this child."""
    proposing = not may_pair(actor)
    if proposing and not may_propose(actor):
        return None
    async with services.sessions() as session:
        if not await allowed(session, actor, child_id, proposing=proposing):
            return None
        found = await pairings.active_with_names(session, child_id)
        child = await children_store.get(session, child_id)
    assert child is not None  # visible to the actor
    active = [ActivePairing(pid, name, active) for pid, _, name, active in found]
    return Start(proposing, child.name, active)
