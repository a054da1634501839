"""Small shared pieces of benchmark data."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Area


async def county_town_village(session: AsyncSession) -> tuple[Area, Area]:
    """示范县/城关镇/东村; returns (town, village), flushed (with ids)."""
    county = Area(name="示范县", level=1, path="示范县")
    session.add(county)
    await session.flush()
    town = Area(name="城关镇", level=2, path="示范县/城关镇", parent_id=county.id)
    session.add(town)
    await session.flush()
    village = Area(name="东村", level=3, path="示范县/城关镇/东村", parent_id=town.id)
    session.add(village)
    await session.flush()
    return town, village
