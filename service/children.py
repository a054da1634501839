"""Children's records (一人一档): adding a child, changing a child's colour, school or guardian,
and the reads the chat needs (a page of children with filters, finding a child by name, a
child's card). Each use case checks who may do it, role and area, inside its own transaction,
whatever a button claimed; every change and every card shown is audited."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from care.access import Detail, child_scope, detail_for, may_edit_children
from care.children import Category, Colour, LunarBirthday, Schooling
from care.closing import ClosingReason, may_close
from care.idcard import mask_id
from care.roles import Gender, Level, Viewer
from care.visits import Mode, RedFlag
from service.services import Services
from storage import areas, audit, closing, visits
from storage import children as store
from storage.children import ChildLine
from storage.closing import MoveLine
from storage.models import Child


class Refusal(StrEnum):
    ROLE = "role"  # the person does not keep children's records
    CHILD = "child"  # no such child among those the person may change
    AREA = "area"  # not a village, or a village outside the person's area
    ID_TAKEN = "id_taken"  # the ID number is recorded for another child
    CLOSED = "closed"  # the record is closed: read-only (service.closing)


class Refused(Exception):
    """Nothing was written, and why."""

    def __init__(self, why: Refusal) -> None:
        super().__init__(why.value)
        self.why = why


# -- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What `/children` narrows a list to; None: all."""

    village_id: int | None = None
    category: Category | None = None
    colour: Colour | None = None


@dataclass(frozen=True)
class Page:
    lines: list[ChildLine]
    total: int  # how many match, on all pages
    number: int  # this page, from 0
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


async def page(
    services: Services, viewer: Viewer, filters: Filters = Filters(), *, number: int = 0,
    size: int = 10,
) -> Page:  # fmt: skip
    """One page of the children `viewer` may see (their area's, or for a volunteer those paired
    with them), by village then name."""
    where = store.ChildFilter(
        village_id=filters.village_id,
        category=filters.category.value if filters.category else None,
        colour=filters.colour.value if filters.colour else None,
    )
    number = max(0, number)
    async with services.sessions() as session:
        lines, total = await store.page(
            session, child_scope(viewer), where, offset=number * size, limit=size
        )
    return Page(lines, total, number, size)


async def find(services: Services, viewer: Viewer, name: str, *, size: int = 10) -> Page:
    """The children `viewer` may see whose name contains `name` (the first `size` of them);
    for those who keep the records, closed records too (after the open ones)."""
    where = store.ChildFilter(name=name, with_closed=may_close(viewer))
    async with services.sessions() as session:
        lines, total = await store.page(session, child_scope(viewer), where, offset=0, limit=size)
    return Page(lines, total, 0, size)


@dataclass(frozen=True)
class Village:
    id: int
    path: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


async def villages(services: Services, viewer: Viewer) -> list[Village]:
    """The villages of `viewer`'s area, by path: the choices of a filter or of a new child."""
    async with services.sessions() as session:
        found = await store.villages_in(session, viewer.area_path)
    return [Village(area.id, area.path) for area in found if area.id is not None]


@dataclass(frozen=True)
class VisitLine:
    visited_on: date
    visitor: str
    mode: Mode
    red_flags: tuple[RedFlag, ...]


@dataclass(frozen=True)
class ClosedInfo:
    """Why and when a record was closed, and by whom (None: the bot, or the command line)."""

    on: date
    reason: ClosingReason
    note: str
    by: str | None


@dataclass(frozen=True)
class ChildCard:
    """What `viewer` may be shown of one child (care.access.detail_for), and nothing more: for a
    volunteer no ID number, category, health, disability or consent; for a director the ID
    number masked."""

    id: int
    detail: Detail
    name: str
    gender: Gender
    birth_date: date
    colour: Colour
    area_path: str
    lunar_birthday: LunarBirthday | None
    school: str | None
    schooling: str | None
    guardian_name: str | None
    guardian_relation: str | None
    guardian_phone: str | None
    father_work: str | None
    mother_work: str | None
    siblings: tuple[str, ...]  # names of the active children of the same household
    volunteers: tuple[tuple[str, date, date | None], ...]  # name, since, reviewed
    visits: tuple[VisitLine, ...]  # the latest first
    # Not for volunteers (Detail.PAIRED): None there.
    category: Category | None = None
    id_number: str | None = None  # masked for a director (Detail.VILLAGE)
    health: str | None = None
    disability: str | None = None
    consent: bool | None = None
    closed: ClosedInfo | None = None  # a closed record: read-only
    moves: tuple[MoveLine, ...] = ()  # the latest first


def _shown(card: store.Card, recent: list[VisitLine], detail: Detail) -> ChildCard:
    child, lunar = card.child, None
    if child.lunar_month and child.lunar_day:
        lunar = LunarBirthday(child.lunar_month, child.lunar_day, child.lunar_leap)
    assert child.id is not None
    shown = ChildCard(
        id=child.id, detail=detail, name=child.name, gender=Gender(child.gender),
        birth_date=child.birth_date, colour=Colour(child.colour), area_path=card.area_path,
        lunar_birthday=lunar, school=child.school, schooling=child.schooling,
        guardian_name=child.guardian_name, guardian_relation=child.guardian_relation,
        guardian_phone=child.guardian_phone, father_work=child.father_work,
        mother_work=child.mother_work, siblings=tuple(name for _, name in card.siblings),
        volunteers=tuple((name, since, reviewed) for _, name, since, reviewed in card.volunteers),
        visits=tuple(recent),
    )  # fmt: skip
    if detail == Detail.PAIRED:
        return shown
    id_number = child.id_number
    if id_number and detail != Detail.FULL:
        id_number = mask_id(id_number)
    return replace(
        shown, category=Category(child.category), id_number=id_number, health=child.health,
        disability=child.disability, consent=child.consent,
    )  # fmt: skip


async def card(services: Services, viewer: Viewer, child_id: int) -> ChildCard | None:
    """A child's card as `viewer` may see it, with the latest visits; None when the child is
    not theirs to see. Each card shown is audited (in the same transaction as the read)."""
    async with services.sessions.begin() as session:
        if not await store.visible(session, child_scope(viewer), child_id):
            return None
        found = await store.card(session, child_id)
        if found is None:
            return None
        recent = [
            VisitLine(visit.visited_on, visitor, Mode(visit.mode),
                      tuple(RedFlag(f) for f in visit.red_flags.split(",") if f))
            for visit, visitor in await visits.history(session, child_id)
        ]  # fmt: skip
        child, closed = found.child, None
        if not child.active and child.closed_on and child.closed_reason:
            by = await closing.person_name(session, child.closed_by)
            reason = ClosingReason(child.closed_reason)
            closed = ClosedInfo(child.closed_on, reason, child.closed_note, by)
        moves = tuple(await closing.moves(session, child_id))
        audit.record(session, actor_id=viewer.person_id, action="child_view",
                     subject=f"child:{child_id}")  # fmt: skip
    return replace(_shown(found, recent, detail_for(viewer)), closed=closed, moves=moves)


@dataclass(frozen=True)
class Editable:
    """A child `viewer` may change, as the edit forms show it."""

    id: int
    name: str
    colour: Colour
    open: bool = True  # False: a closed record, which nobody changes


async def editable(services: Services, viewer: Viewer, child_id: int) -> Editable | None:
    """The child, if `viewer` keeps records and may see them; else None."""
    if not may_edit_children(viewer):
        return None
    async with services.sessions() as session:
        child = await store.in_scope(session, child_scope(viewer), child_id)
    if child is None or child.id is None:
        return None
    return Editable(child.id, child.name, Colour(child.colour), child.active)


async def id_number_taken(services: Services, id_number: str) -> bool:
    """Is this ID number recorded for a child already (anywhere: it is unique)?"""
    async with services.sessions() as session:
        return await store.id_number_taken(session, id_number)


# -- changes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    child_id: int
    name: str
    changed: list[str] = field(default_factory=list)  # the fields that changed (audited)


async def _to_change(session: AsyncSession, viewer: Viewer, child_id: int) -> Child:
    """The child, in the caller's transaction, if `viewer` may change it; else Refused."""
    if not may_edit_children(viewer):
        raise Refused(Refusal.ROLE)
    child = await store.in_scope(session, child_scope(viewer), child_id)
    if child is None:
        raise Refused(Refusal.CHILD)
    if not child.active:
        raise Refused(Refusal.CLOSED)
    return child


async def change_colour(
    services: Services, viewer: Viewer, child_id: int, colour: Colour, reason: str
) -> Saved:
    """A new risk colour, with the reason, in the colour history; the due date follows it.
    The same colour again changes nothing."""
    async with services.sessions.begin() as session:
        child = await _to_change(session, viewer, child_id)
        changed = []
        if child.colour != colour.value:
            await store.change_colour(session, child=child, colour=colour.value, reason=reason,
                                      actor_id=viewer.person_id)  # fmt: skip
            changed = ["colour"]
    return Saved(child_id, child.name, changed)


async def _change(
    services: Services, viewer: Viewer, child_id: int, values: dict[str, object]
) -> Saved:
    async with services.sessions.begin() as session:
        child = await _to_change(session, viewer, child_id)
        changed = await store.update_fields(
            session, child=child, values=values, actor_id=viewer.person_id
        )
    return Saved(child_id, child.name, changed)


async def change_school(
    services: Services, viewer: Viewer, child_id: int, school: str | None, schooling: Schooling
) -> Saved:
    return await _change(
        services, viewer, child_id, {"school": school, "schooling": schooling.value}
    )


@dataclass(frozen=True)
class Guardian:
    name: str
    relation: str
    phone: str | None = None  # normalised (care.ledger.normalize_phone)


async def change_guardian(
    services: Services, viewer: Viewer, child_id: int, guardian: Guardian
) -> Saved:
    return await _change(services, viewer, child_id, {
        "guardian_name": guardian.name, "guardian_relation": guardian.relation,
        "guardian_phone": guardian.phone,
    })  # fmt: skip


@dataclass(frozen=True)
class NewChild:
    """A child to add, its answers checked one by one already (name, ID number, eligibility)."""

    name: str
    gender: Gender
    birth_date: date
    category: Category
    colour: Colour
    village_id: int
    id_number: str | None = None
    household: str | None = None  # the household's code in the village (户号)
    guardian: Guardian | None = None
    consent: bool | None = None


async def add_child(services: Services, viewer: Viewer, new: NewChild) -> Saved:
    """Adds the child to a village of `viewer`'s area, with the first entry of its colour
    history; audited. Refused for a village outside their area or an ID number taken."""
    if not may_edit_children(viewer):
        raise Refused(Refusal.ROLE)
    guardian = new.guardian or Guardian("", "")
    async with services.sessions.begin() as session:
        village = await areas.get(session, new.village_id)
        if village is None or village.level != Level.VILLAGE or not viewer.sees(village.path):
            raise Refused(Refusal.AREA)
        if new.id_number and await store.id_number_taken(session, new.id_number):
            raise Refused(Refusal.ID_TAKEN)
        household = None
        if new.household:
            household = await store.household_for(
                session, area_id=new.village_id, code=new.household
            )
        child = Child(
            name=new.name, gender=new.gender.value, birth_date=new.birth_date,
            id_number=new.id_number or None, category=new.category.value,
            colour=new.colour.value, area_id=new.village_id, household_id=household,
            guardian_name=guardian.name or None, guardian_relation=guardian.relation or None,
            guardian_phone=guardian.phone, consent=new.consent,
            consent_date=services.today() if new.consent else None,
        )  # fmt: skip
        await store.add(session, child, actor_id=viewer.person_id)
        assert child.id is not None
    return Saved(child.id, child.name)
