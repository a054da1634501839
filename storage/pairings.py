"""Pairings: the facts the pairing rules need, and writing, ending, moving and reviewing
pairings. Each change keeps the children's `covered` flag (storage.cover) and never touches
their due dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import Category
from care.pairing import ChildFacts, PairingFacts, VolunteerFacts
from care.roles import Gender, Role, town_of
from storage import audit, cover
from storage.areas import in_area
from storage.db import key, select_wide
from storage.models import Area, Child, Pairing, Person, ReassignProposal

NEEDS_FAMILY = [c.value for c in Category if c.needs_caring_family]


def _child_facts(child: Child, path: str) -> ChildFacts:
    assert child.id is not None
    return ChildFacts(
        child_id=child.id,
        gender=Gender(child.gender),
        birth_date=child.birth_date,
        household=str(child.household_id) if child.household_id else None,
        town=town_of(path),
        individual_family_required=child.category in NEEDS_FAMILY,
        covered=child.covered,
    )


@dataclass(frozen=True)
class PairingContext:
    """Everything the rules need to rank volunteers for one child."""

    child: ChildFacts
    name: str
    siblings: list[int]
    volunteers: list[VolunteerFacts]
    names: dict[int, str]
    pairings: list[PairingFacts]  # active pairings of the child and its siblings
    own: dict[int, int]  # the child's active pairings: pairing id -> volunteer id

    def without(self, pairing_id: int | None) -> list[PairingFacts]:
        """The active pairings as if the child's pairing `pairing_id` had ended (a move)."""
        if pairing_id is None or pairing_id not in self.own:
            return self.pairings
        gone = (self.child.child_id, self.own[pairing_id])
        return [p for p in self.pairings if (p.child_id, p.volunteer_id) != gone]


async def context_for(session: AsyncSession, child_id: int) -> PairingContext | None:
    row = (
        await session.exec(
            select(Child, Area.path)
            .join(Area, col(Area.id) == Child.area_id)
            .where(col(Child.id) == child_id)
        )
    ).first()
    if row is None:
        return None
    child, path = row
    siblings: list[int] = []
    if child.household_id is not None:
        siblings = [
            sid
            for sid in await session.exec(
                select(Child.id).where(
                    col(Child.household_id) == child.household_id, col(Child.active).is_(True)
                )
            )
            if sid is not None
        ]
    facts = _child_facts(child, path)
    volunteers, names = await _volunteers(session, facts.town)
    pairings = await active(session, [child_id, *siblings])
    own = {pid: person for pid, person, _, _ in await active_with_names(session, child_id)}
    return PairingContext(facts, child.name, siblings, volunteers, names, pairings, own)


async def _volunteers(
    session: AsyncSession, town: str
) -> tuple[list[VolunteerFacts], dict[int, str]]:
    load = (
        select(Pairing.volunteer_id, func.count().label("n"))
        .where(col(Pairing.ended_on).is_(None))
        .group_by(col(Pairing.volunteer_id))
        .subquery()
    )
    rows = await session.exec(
        select_wide(Person.id, Person.name, Person.gender, Area.path, func.coalesce(load.c.n, 0))
        .join(Area, col(Area.id) == Person.area_id)
        .join(load, load.c.volunteer_id == Person.id, isouter=True)
        .where(
            col(Person.role) == Role.VOLUNTEER.value,
            col(Person.active).is_(True),
            in_area(town),
        )
    )
    facts, names = [], {}
    for pid, name, gender, path, n in rows:
        facts.append(VolunteerFacts(person_id=pid, gender=Gender(gender), town=path, load=n))
        names[pid] = name
    return facts, names


async def volunteer(session: AsyncSession, person_id: int) -> tuple[VolunteerFacts, str] | None:
    """Any active volunteer, wherever they are: a choice is checked against the rules."""
    row = (
        await session.exec(
            select(Person, Area.path)
            .join(Area, col(Area.id) == Person.area_id)
            .where(
                col(Person.id) == person_id,
                col(Person.role) == Role.VOLUNTEER.value,
                col(Person.active).is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    person, path = row
    load = (
        await session.exec(
            select(func.count())
            .select_from(Pairing)
            .where(col(Pairing.volunteer_id) == person_id, col(Pairing.ended_on).is_(None))
        )
    ).one()
    assert person.id is not None
    return VolunteerFacts(person.id, Gender(person.gender), path, load), person.name


async def active(session: AsyncSession, child_ids: list[int]) -> list[PairingFacts]:
    rows = await session.exec(
        select_wide(
            Pairing.child_id, Pairing.volunteer_id, Pairing.started_on, Pairing.reviewed_on,
            Person.active,
        )
        .join(Person, col(Person.id) == Pairing.volunteer_id)
        .where(col(Pairing.child_id).in_(child_ids), col(Pairing.ended_on).is_(None))
    )  # fmt: skip
    return [PairingFacts(*row) for row in rows]


async def active_with_names(
    session: AsyncSession, child_id: int
) -> list[tuple[int, int, str, bool]]:
    """(pairing id, volunteer id, name, still active) of a child's active pairings."""
    rows = await session.exec(
        select_wide(Pairing.id, Person.id, Person.name, Person.active)
        .join(Person, col(Person.id) == Pairing.volunteer_id)
        .where(col(Pairing.child_id) == child_id, col(Pairing.ended_on).is_(None))
        .order_by(col(Pairing.id))
    )
    return [(pid, person, name, active) for pid, person, name, active in rows]


async def of_volunteer(session: AsyncSession, person_id: int) -> list[tuple[int, str, str]]:
    """(child id, name, area path) of the active children in an active pairing with this
    person, by village and name."""
    rows = await session.exec(
        select(key(Child.id), Child.name, Area.path)
        .join(Pairing, col(Pairing.child_id) == Child.id)
        .join(Area, col(Area.id) == Child.area_id)
        .where(
            col(Pairing.volunteer_id) == person_id,
            col(Pairing.ended_on).is_(None),
            col(Child.active).is_(True),
        )
        .order_by(col(Area.path), col(Child.name), col(Child.id))
    )
    return [(cid, name, path) for cid, name, path in rows]


async def create(
    session: AsyncSession,
    *,
    child_id: int,
    volunteer_id: int,
    started_on: date,
    broken_rules: list[str],
    reason: str,
    actor_id: int,
) -> Pairing:
    pairing = Pairing(
        child_id=child_id, volunteer_id=volunteer_id, started_on=started_on,
        reviewed_on=started_on, broken_rules=",".join(broken_rules), override_reason=reason,
        created_by=actor_id,
    )  # fmt: skip
    session.add(pairing)
    await session.flush()
    await cover.refresh(session, [child_id])
    audit.record(
        session, actor_id=actor_id, action="pair", subject=f"child:{child_id}",
        detail=f"pairing={pairing.id} volunteer={volunteer_id} overridden={','.join(broken_rules)}",
    )  # fmt: skip
    return pairing


async def _end(
    session: AsyncSession, *, child_id: int, pairing_id: int, on: date, reason: str
) -> bool:
    result = await session.exec(
        update(Pairing)
        .where(
            col(Pairing.id) == pairing_id,
            col(Pairing.child_id) == child_id,
            col(Pairing.ended_on).is_(None),
        )
        .values(ended_on=on, end_reason=reason)
    )
    return bool(result.rowcount == 1)


async def end(
    session: AsyncSession, *, child_id: int, pairing_id: int, on: date, reason: str, actor_id: int
) -> bool:
    """Ends an active pairing of this child (kept as history); False if there is none. The
    child's due date stays as it is: it follows the visits, not the pairings."""
    if not await _end(session, child_id=child_id, pairing_id=pairing_id, on=on, reason=reason):
        return False
    await cover.refresh(session, [child_id])
    audit.record(
        session, actor_id=actor_id, action="unpair", subject=f"child:{child_id}",
        detail=f"pairing={pairing_id}",
    )  # fmt: skip
    return True


async def reassign(
    session: AsyncSession, *, child_id: int, pairing_id: int | None, volunteer_id: int,
    on: date, reason: str, broken_rules: list[str], override_reason: str, actor_id: int,
) -> Pairing | None:  # fmt: skip
    """Moves the child to another volunteer in one step: the pairing `pairing_id` ends with
    `reason` (kept as history), a new one begins `on` (with the rules it breaks and why);
    without a pairing to end, the child is simply paired. None, nothing written, when that
    pairing is no longer active. The due date is not touched."""
    if pairing_id is not None and not await _end(
        session, child_id=child_id, pairing_id=pairing_id, on=on, reason=reason
    ):
        return None
    pairing = Pairing(
        child_id=child_id, volunteer_id=volunteer_id, started_on=on, reviewed_on=on,
        broken_rules=",".join(broken_rules), override_reason=override_reason,
        created_by=actor_id,
    )  # fmt: skip
    session.add(pairing)
    await session.flush()
    await cover.refresh(session, [child_id])
    audit.record(
        session, actor_id=actor_id, action="reassign", subject=f"child:{child_id}",
        detail=f"ended={pairing_id or '-'} pairing={pairing.id} volunteer={volunteer_id} "
        f"overridden={','.join(broken_rules)}",
    )  # fmt: skip
    return pairing


async def proposal_by_key(session: AsyncSession, draft_key: str) -> ReassignProposal | None:
    """The move proposal stored for this draft, if any."""
    query = select(ReassignProposal).where(col(ReassignProposal.draft_key) == draft_key)
    return (await session.exec(query)).first()


async def review(session: AsyncSession, *, child_id: int, on: date, actor_id: int) -> int:
    """Marks the child's active pairings reviewed (每年3月底前更新); how many there were."""
    result = await session.exec(
        update(Pairing)
        .where(col(Pairing.child_id) == child_id, col(Pairing.ended_on).is_(None))
        .values(reviewed_on=on)
    )
    if result.rowcount:
        audit.record(session, actor_id=actor_id, action="pair_review", subject=f"child:{child_id}")
    return int(result.rowcount)


@dataclass(frozen=True)
class GapInputs:
    children: list[ChildFacts]
    volunteers: list[VolunteerFacts]
    pairings: list[PairingFacts]
    child_names: dict[int, tuple[str, str]]  # id -> (name, area path)
    volunteer_names: dict[int, str]


async def gap_inputs(session: AsyncSession, area_path: str) -> GapInputs:
    """The area's active children, their active pairings and volunteers, as plain facts."""
    children: list[ChildFacts] = []
    child_names: dict[int, tuple[str, str]] = {}
    rows = await session.exec(
        select_wide(
            Child.id, Child.name, Child.gender, Child.birth_date, Child.household_id,
            Child.category, Area.path, Child.covered,
        )
        .join(Area, col(Area.id) == Child.area_id)
        .where(in_area(area_path), col(Child.active).is_(True))
    )  # fmt: skip
    for cid, name, gender, birth, household, category, path, covered in rows:
        household_key = str(household) if household else None
        needs_family = category in NEEDS_FAMILY
        children.append(
            ChildFacts(
                cid, Gender(gender), birth, household_key, town_of(path), needs_family, covered
            )
        )
        child_names[cid] = (name, path)
    pairing_rows = await session.exec(
        select_wide(
            Pairing.child_id, Pairing.volunteer_id, Pairing.started_on, Pairing.reviewed_on,
            Person.name, Person.gender, Area.path, Person.active,
        )
        .join(Child, col(Child.id) == Pairing.child_id)
        .join(Person, col(Person.id) == Pairing.volunteer_id)
        .join(Area, col(Area.id) == Person.area_id)
        .where(col(Pairing.ended_on).is_(None), col(Child.active).is_(True))
        .where(col(Pairing.child_id).in_(select(Child.id).join(Area).where(in_area(area_path))))
    )  # fmt: skip
    pairings: list[PairingFacts] = []
    volunteers: dict[int, VolunteerFacts] = {}
    names: dict[int, str] = {}
    for cid, pid, since, reviewed, name, gender, path, active in pairing_rows:
        pairings.append(PairingFacts(cid, pid, since, reviewed, active))
        volunteers[pid] = VolunteerFacts(pid, Gender(gender), path, 0)
        names[pid] = name
    return GapInputs(children, list(volunteers.values()), pairings, child_names, names)
