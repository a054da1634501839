"""Visits: the children a person may visit, with when each is due."""

from __future__ import annotations

from datetime import date

from care.access import child_scope
from care.children import Colour
from care.roles import Viewer
from care.visits import days_overdue, next_due
from service.services import Services
from storage import visits
from storage.visits import VisitedChild


async def children_of(
    services: Services, viewer: Viewer, child_id: int | None = None
) -> list[VisitedChild]:
    """The children `viewer` may visit (paired, or of their area), or just `child_id` if so."""
    today = services.today()
    async with services.engine.connect() as connection:
        return await visits.children_to_visit(
            connection, child_scope(viewer), year_start=date(today.year, 1, 1),
            child_id=child_id,
        )  # fmt: skip


def due_of(child: VisitedChild) -> date:
    return next_due(Colour(child.colour), last_visit=child.last_visit, since=child.since)


def overdue_first(children: list[VisitedChild], today: date) -> list[VisitedChild]:
    return sorted(children, key=lambda c: (-days_overdue(due_of(c), today), due_of(c), c.name))
