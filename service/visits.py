"""Visits: the children a person may visit, with when each is due; recording a check-in; and
the day a volunteer plans to go, or a snooze, in answer to a reminder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from care.access import child_scope
from care.roles import Viewer
from care.visits import CheckIn, RedFlag, days_overdue
from service.services import Services
from storage import reminders, visits
from storage.children import visible
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


async def may_visit(services: Services, viewer: Viewer, child_id: int) -> bool:
    """Is this a child `viewer` may visit (paired with them, or of their area)?"""
    async with services.sessions() as session:
        return await visible(session, child_scope(viewer), child_id)


def due_of(child: VisitedChild) -> date:
    """The due date kept on the child's row (storage.due, by care.visits's one rule)."""
    return child.due_on


def overdue_first(children: list[VisitedChild], today: date) -> list[VisitedChild]:
    return sorted(children, key=lambda c: (-days_overdue(c.due_on, today), c.due_on, c.name))


@dataclass(frozen=True)
class Recorded:
    visit_id: int
    new: bool  # False: this check-in was recorded before; nothing was written now
    red_flags: tuple[RedFlag, ...]  # answers that call for a hazard report


async def record_visit(services: Services, viewer: Viewer, visit: CheckIn) -> Recorded | None:
    """Records a check-in by `viewer`, once per draft key; None when the child is not (or no
    longer) theirs to visit, and then nothing is written. The access check, the duplicate
    check and the write are one statement, in one transaction with the child's due date and
    the audit entry (the busiest write: Core on a connection, see storage.visits.save)."""
    async with services.engine.begin() as connection:
        saved = await visits.save(
            connection, visit, person_id=viewer.person_id, scope=child_scope(viewer),
            rule=services.settings.visit_rule,
        )  # fmt: skip
    if saved is None:
        return None
    return Recorded(saved[0], saved[1], visit.red_flags)


async def plan_visit(services: Services, viewer: Viewer, child_id: int, on: date) -> bool:
    """The day `viewer` will visit the child (they are reminded on it; a snooze is cleared).
    False when the child is not theirs to visit; nothing is written then."""
    async with services.sessions.begin() as session:
        if not await visible(session, child_scope(viewer), child_id):
            return False
        await reminders.set_plan(session, child_id=child_id, person_id=viewer.person_id,
                                 planned_on=on)  # fmt: skip
    return True


async def snooze(
    services: Services, viewer: Viewer, child_id: int, until: date, reason: str
) -> bool:
    """No visit reminders for this child until `until`, for a reason (a planned day is
    cleared). False when the child is not theirs to visit; nothing is written then."""
    async with services.sessions.begin() as session:
        if not await visible(session, child_scope(viewer), child_id):
            return False
        await reminders.set_plan(session, child_id=child_id, person_id=viewer.person_id,
                                 snoozed_until=until, reason=reason)  # fmt: skip
    return True


__all__ = ["CheckIn", "Recorded", "VisitedChild", "children_of", "due_of", "may_visit",
           "overdue_first", "plan_visit", "record_visit", "snooze"]  # fmt: skip
