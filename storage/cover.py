"""Whether someone is to visit a child ("covered"): the one rule, kept on the child row
(`Child.covered`) so that /overdue and its figures count every child from one index.

Today a child is covered by an active pairing with an active volunteer. Area cover (包片: a
town department or a named person covering categories 4–6 of a village) is one more source:
it joins `covered_clause`, and whatever changes a cover calls `refresh` for the children it
touches. Everything that changes a source calls `refresh` (or `refresh_of_volunteer`) in its
own transaction: pairing, ending or moving a pairing, deactivating or re-registering a person.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Child, Pairing, Person

CHUNK = 500


def by_volunteer() -> ColumnElement[bool]:
    """An active pairing of the child with an active volunteer."""
    return exists().where(
        col(Pairing.child_id) == col(Child.id),
        col(Pairing.ended_on).is_(None),
        col(Person.id) == col(Pairing.volunteer_id),
        col(Person.active).is_(True),
    )


def covered_clause() -> ColumnElement[bool]:
    """The one rule of "covered", as SQL on `child` (area cover will join here, with `|`)."""
    return by_volunteer()


async def refresh(session: AsyncSession, child_ids: Sequence[int]) -> None:
    """Recomputes `covered` for these children."""
    ids = sorted(set(child_ids))
    for start in range(0, len(ids), CHUNK):
        await session.exec(
            update(Child)
            .where(col(Child.id).in_(ids[start : start + CHUNK]))
            .values(covered=covered_clause())
            .execution_options(synchronize_session=False)
        )


async def refresh_of_volunteer(session: AsyncSession, person_id: int) -> list[int]:
    """Recomputes `covered` for the children in an active pairing with this person (whose
    active flag just changed); returns their ids."""
    ids = [
        child_id
        for child_id in await session.exec(
            select(Pairing.child_id).where(
                col(Pairing.volunteer_id) == person_id, col(Pairing.ended_on).is_(None)
            )
        )
    ]
    await refresh(session, ids)
    return sorted(set(ids))
