"""Visits: the children a person may visit, with when each is due; recording a check-in; and
the day a volunteer plans to go, or a snooze, in answer to a reminder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from care.access import child_scope
from care.children import Colour
from care.roles import Viewer
from care.visits import (
    Care,
    Health,
    Mode,
    Mood,
    Parents,
    RedFlag,
    Safety,
    Study,
    days_overdue,
    next_due,
    red_flags,
)
from service.services import Services
from storage import reminders, visits
from storage.children import visible
from storage.visits import VisitedChild, VisitRecord


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
    return next_due(Colour(child.colour), last_visit=child.last_visit, since=child.since)


def overdue_first(children: list[VisitedChild], today: date) -> list[VisitedChild]:
    return sorted(children, key=lambda c: (-days_overdue(due_of(c), today), due_of(c), c.name))


@dataclass(frozen=True)
class CheckIn:
    """The answers of a check-in. `draft_key` names the check-in: recording it again (Confirm
    pressed twice, an update delivered twice) stores it once."""

    child_id: int
    visited_on: date
    mode: Mode
    health: Health
    mood: Mood
    study: Study
    care: Care
    parents: Parents
    draft_key: str
    notes: Mapping[str, str] = field(default_factory=dict)  # follow-up details by question
    safety: tuple[Safety, ...] = ()  # the safety lessons given
    wishes: str = ""
    problems: str = ""  # typed…
    problems_voice: str | None = None  # …or spoken: a Telegram file id


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
    flags = tuple(red_flags(visit.study, visit.care))
    record = VisitRecord(
        child_id=visit.child_id, person_id=viewer.person_id, visited_on=visit.visited_on,
        mode=visit.mode, health=visit.health, mood=visit.mood, study=visit.study,
        care=visit.care, parents=visit.parents, draft_key=visit.draft_key, notes=visit.notes,
        safety=visit.safety, wishes=visit.wishes, problems=visit.problems,
        problems_voice=visit.problems_voice, red_flags=flags,
    )  # fmt: skip
    async with services.engine.begin() as connection:
        saved = await visits.save(connection, record, child_scope(viewer))
    if saved is None:
        return None
    return Recorded(saved[0], saved[1], flags)


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
