"""Registered people and the viewer behind each update."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.roles import Gender, Role, Viewer
from storage import cover
from storage.models import Area, Person


async def viewer(session: AsyncSession, tg_user_id: int) -> Viewer | None:
    """The active person with this Telegram id, with their area path; one query."""
    row = (
        await session.exec(
            select(Person, Area.path)
            .join(Area, col(Area.id) == Person.area_id)
            .where(Person.tg_user_id == tg_user_id, col(Person.active).is_(True))
        )
    ).first()
    if row is None:
        return None
    person, path = row
    assert person.id is not None
    return Viewer(
        person_id=person.id,
        tg_user_id=person.tg_user_id,
        name=person.name,
        role=Role(person.role),
        area_id=person.area_id,
        area_path=path,
        locale=person.locale,
    )


async def by_tg_user(session: AsyncSession, tg_user_id: int) -> Person | None:
    return (await session.exec(select(Person).where(Person.tg_user_id == tg_user_id))).first()


async def upsert(
    session: AsyncSession,
    *,
    tg_user_id: int,
    name: str,
    role: Role,
    area_id: int,
    gender: Gender,
    locale: str | None,
) -> Person:
    """Registers someone, or re-registers a deactivated person with their new invite (the
    children still paired with them are covered again)."""
    person = await by_tg_user(session, tg_user_id) or Person(
        tg_user_id=tg_user_id, name=name, role=role, area_id=area_id, gender=gender
    )
    returning = person.id is not None and not person.active
    person.name, person.role, person.area_id = name, role.value, area_id
    person.gender, person.locale, person.active = gender.value, locale, True
    session.add(person)
    await session.flush()
    if returning:
        assert person.id is not None
        await cover.refresh_of_volunteer(session, person.id)
    return person


async def set_locale(session: AsyncSession, *, person_id: int, locale: str) -> None:
    person = await session.get(Person, person_id)
    if person is not None:
        person.locale = locale
        session.add(person)


async def in_area_page(
    session: AsyncSession, *, area_path: str, offset: int, limit: int
) -> tuple[list[tuple[Person, str]], int]:
    """People of an area and everything below it, active first, by area then name."""
    where = (col(Area.path) == area_path) | col(Area.path).startswith(
        area_path + "/", autoescape=True
    )
    base = select(Person, Area.path).join(Area, col(Area.id) == Person.area_id).where(where)
    total = (
        await session.exec(select(func.count()).select_from(Person).join(Area).where(where))
    ).one()
    rows = await session.exec(
        base.order_by(col(Person.active).desc(), col(Area.path), col(Person.name), col(Person.id))
        .offset(offset)
        .limit(limit)
    )
    return [(person, path) for person, path in rows], total


async def with_area(session: AsyncSession, person_id: int) -> tuple[Person, str] | None:
    row = (
        await session.exec(
            select(Person, Area.path)
            .join(Area, col(Area.id) == Person.area_id)
            .where(Person.id == person_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def get(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def active_by_ids(session: AsyncSession, person_ids: Collection[int]) -> list[Person]:
    """The active people among these ids, in one query."""
    if not person_ids:
        return []
    query = select(Person).where(
        col(Person.id).in_(sorted(person_ids)), col(Person.active).is_(True)
    )
    return list(await session.exec(query))


async def deactivate(session: AsyncSession, person_id: int, *, by: int, now: datetime) -> list[int]:
    """Deactivates the person; returns the children still paired with them, who are no
    longer covered (their pairings stay until the children are moved)."""
    person = await session.get(Person, person_id)
    if person is None:
        return []
    person.active, person.deactivated_at, person.deactivated_by = False, now, by
    session.add(person)
    await session.flush()
    return await cover.refresh_of_volunteer(session, person_id)


async def former(session: AsyncSession, tg_user_id: int) -> tuple[Person, str] | None:
    """A deactivated person with this Telegram id, with their area path."""
    row = (
        await session.exec(
            select(Person, Area.path)
            .join(Area, col(Area.id) == Person.area_id)
            .where(Person.tg_user_id == tg_user_id, col(Person.active).is_(False))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def active_in(
    session: AsyncSession, *, roles: Collection[Role], area_paths: Collection[str]
) -> list[tuple[Person, str]]:
    """Active people of these roles whose area is exactly one of these paths, by name."""
    if not area_paths:
        return []
    rows = await session.exec(
        select(Person, Area.path)
        .join(Area, col(Area.id) == Person.area_id)
        .where(
            col(Person.active).is_(True),
            col(Person.role).in_([r.value for r in roles]),
            col(Area.path).in_(sorted(area_paths)),
        )
        .order_by(col(Person.name), col(Person.id))
    )
    return [(person, path) for person, path in rows]
