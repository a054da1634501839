"""Queries on the area tree."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.roles import Level, split_area_path
from storage.models import Area


def in_area(path: str) -> ColumnElement[bool]:
    """The area at `path` or any area below it."""
    return or_(col(Area.path) == path, col(Area.path).startswith(path + "/", autoescape=True))


async def ensure_path(session: AsyncSession, path: str) -> Area:
    """The area at `path`, creating the missing parts (county > town > village)."""
    parent: Area | None = None
    walked: list[str] = []
    for depth, name in enumerate(split_area_path(path), start=1):
        walked.append(name)
        full = "/".join(walked)
        area = (await session.exec(select(Area).where(Area.path == full))).first()
        if area is None:
            area = Area(
                name=name,
                level=Level(depth),
                path=full,
                parent_id=parent.id if parent else None,
            )
            session.add(area)
            await session.flush()
        parent = area
    assert parent is not None
    return parent


async def get(session: AsyncSession, area_id: int) -> Area | None:
    return await session.get(Area, area_id)


async def children_page(
    session: AsyncSession, *, parent_id: int, offset: int, limit: int
) -> tuple[list[Area], int]:
    """One page of an area's direct children, by name, and how many there are."""
    where = Area.parent_id == parent_id
    total = (await session.exec(select(func.count()).select_from(Area).where(where))).one()
    rows = await session.exec(
        select(Area).where(where).order_by(col(Area.name)).offset(offset).limit(limit)
    )
    return list(rows), total
