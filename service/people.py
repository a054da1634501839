"""People: who is registered in one's area (`/people`), deactivating someone, and one's own
language. Role and area are checked here, in the transaction that reads or writes, whatever a
button claimed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from care.roles import Role, Viewer, can_manage, town_of
from locales import LOCALES
from service.services import Services
from storage import audit, invites, pairings, people

PAGE_SIZE = 15


class Refusal(StrEnum):
    UNKNOWN = "unknown"  # no such person
    FORBIDDEN = "forbidden"  # oneself, not below the actor's role, or outside the actor's area


def may_list(actor: Viewer) -> bool:
    """Supervisors and admins see who is registered in their area."""
    return actor.at_least(Role.SUPERVISOR)


def may_deactivate(actor: Viewer, person_id: int, role: Role, area_path: str) -> bool:
    """Someone of a lower role (admins: any role) in the actor's area, never oneself."""
    return (
        person_id != actor.person_id and can_manage(actor.role, role) and actor.sees(area_path)
    )


@dataclass(frozen=True)
class PersonLine:
    person_id: int
    name: str
    role: Role
    area_path: str
    active: bool
    unreachable: bool  # blocked the bot: reminders and alerts do not reach them
    manageable: bool  # the actor may deactivate them (and they are still active)


@dataclass(frozen=True)
class PeoplePage:
    area_path: str  # the actor's area: everyone listed is in it or below it
    lines: list[PersonLine]
    total: int
    page: int
    pages: int


async def page(services: Services, actor: Viewer, number: int) -> PeoplePage | Refusal:
    """A page of the people of the actor's area (active first, by area, then name), each
    marked whether the actor may deactivate them."""
    if not may_list(actor):
        return Refusal.FORBIDDEN
    number = max(0, number)
    async with services.sessions() as session:
        rows, total = await people.in_area_page(
            session, area_path=actor.area_path, offset=number * PAGE_SIZE, limit=PAGE_SIZE
        )
    lines = []
    for person, path in rows:
        assert person.id is not None
        role = Role(person.role)
        lines.append(
            PersonLine(
                person_id=person.id, name=person.name, role=role, area_path=path,
                active=person.active, unreachable=person.unreachable_at is not None,
                manageable=person.active and may_deactivate(actor, person.id, role, path),
            )
        )  # fmt: skip
    pages = max(1, -(-total // PAGE_SIZE))
    return PeoplePage(actor.area_path, lines, total, number, pages)


@dataclass(frozen=True)
class PairedChild:
    child_id: int
    name: str
    area_path: str


@dataclass(frozen=True)
class Target:
    """Someone the actor may deactivate, for the "are you sure?" question, with the children
    still paired with them: to be moved first, or listed as gaps until they are."""

    person_id: int
    name: str
    area_path: str
    children: list[PairedChild] = field(default_factory=list)


async def target(services: Services, actor: Viewer, person_id: int) -> Target | Refusal:
    async with services.sessions() as session:
        found = await people.with_area(session, person_id)
        if found is None:
            return Refusal.UNKNOWN
        person, path = found
        if not may_deactivate(actor, person_id, Role(person.role), path):
            return Refusal.FORBIDDEN
        paired = await pairings.of_volunteer(session, person_id)
    return Target(person_id, person.name, path, [PairedChild(*child) for child in paired])


@dataclass(frozen=True)
class Deactivated:
    person_id: int
    tg_user_id: int  # their chat: the caller clears their command menu
    name: str
    changed: bool  # False: they were inactive already (nothing written)
    invites_revoked: int = 0  # their invites nobody had used yet, revoked with them
    children_left: int = 0  # children paired with them, now gaps ("volunteer left")


async def deactivate(services: Services, actor: Viewer, person_id: int) -> Deactivated | Refusal:
    """Deactivates someone of a lower role in the actor's area; they are treated as unknown
    from the next update on (this process forgets them at once), and the invites they issued
    that nobody has used die with them, in the same transaction. Their pairings stay until
    the children are moved: those children are no longer covered (gaps). Audited."""
    async with services.sessions.begin() as session:
        found = await people.with_area(session, person_id)
        if found is None:
            return Refusal.UNKNOWN
        person, path = found
        if not may_deactivate(actor, person_id, Role(person.role), path):
            return Refusal.FORBIDDEN
        changed = person.active
        revoked: list[int] = []
        left: list[int] = []
        if changed:
            left = await people.deactivate(
                session, person_id, by=actor.person_id, now=services.now()
            )
            audit.record(session, actor_id=actor.person_id, action="deactivate",
                         subject=f"person:{person_id}")  # fmt: skip
            revoked = await invites.revoke_issued_by(
                session, issuer_id=person_id, by=actor.person_id, now=services.now()
            )
            for invite_id in revoked:
                audit.record(session, actor_id=actor.person_id, action="revoke_invite",
                             subject=f"invite:{invite_id}", detail="issuer left")  # fmt: skip
    services.viewers.forget(person.tg_user_id)
    return Deactivated(person_id, person.tg_user_id, person.name, changed, len(revoked), len(left))


@dataclass(frozen=True)
class Former:
    """Someone whose access ended, as they are told when they write to the bot."""

    ended_on: date | None  # unknown for those deactivated before it was recorded
    contacts: list[tuple[str, Role]]  # whom to ask: name, role


async def former(services: Services, tg_user_id: int) -> Former | None:
    """A deactivated person (None for anyone else): when, and whom to contact: who
    deactivated them, if still active, and the supervisors of their town (else the admins
    of their county)."""
    async with services.sessions() as session:
        found = await people.former(session, tg_user_id)
        if found is None:
            return None
        person, path = found
        contacts: list[tuple[str, Role]] = []
        by = await people.get(session, person.deactivated_by) if person.deactivated_by else None
        if by is not None and by.active:
            contacts.append((by.name, Role(by.role)))
        town = town_of(path)
        nearby = await people.active_in(session, roles=[Role.SUPERVISOR], area_paths=[town])
        if not nearby:
            nearby = await people.active_in(
                session, roles=[Role.ADMIN], area_paths=[path.split("/", 1)[0]]
            )
        for other, _path in nearby:
            if by is None or other.id != by.id:
                contacts.append((other.name, Role(other.role)))
    ended = person.deactivated_at.astimezone(services.settings.tz).date() if (
        person.deactivated_at) else None  # fmt: skip
    return Former(ended, contacts[:3])


async def set_language(services: Services, viewer: Viewer, locale: str) -> bool:
    """The viewer's own language; False (nothing written) for a locale we have no catalog of."""
    if locale not in LOCALES:
        return False
    async with services.sessions.begin() as session:
        await people.set_locale(session, person_id=viewer.person_id, locale=locale)
        audit.record(session, actor_id=viewer.person_id, action="set_language",
                     subject=f"person:{viewer.person_id}", detail=locale)  # fmt: skip
    services.viewers.forget(viewer.tg_user_id)
    return True
