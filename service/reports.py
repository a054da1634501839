"""Hazard reports (强制报告): filing one, with its first round of alerts planned in the same
transaction (the outbox), once per draft; and a report begun from a check-in's red flag."""

from __future__ import annotations

import json
from dataclasses import dataclass

from care.access import child_scope
from care.cases import FROM_RED_FLAG, RED_FLAG_QUESTION, Situation
from care.roles import Viewer
from care.visits import RedFlag
from service.alerts import first_round_due, number_of, plan_round
from service.services import Services
from storage import areas, cases, children, visits
from storage.cases import NewCase


@dataclass(frozen=True)
class Report:
    """What the reporter said. A child on their list by id; a child not listed (`child_id`
    None) by name and place, in the reporter's area. `draft_key` names the report: filing it
    again (Confirm pressed twice, an update delivered twice) stores it once."""

    situation: Situation
    draft_key: str
    child_id: int | None = None
    child_name: str = ""
    place: str = ""
    urgent: bool = False  # /urgent; someone in danger now makes a report urgent too
    danger_now: bool = False
    description: str = ""
    voice_file_id: str | None = None
    photo_file_id: str | None = None
    location: tuple[float, float] | None = None  # latitude, longitude
    visit_id: int | None = None  # the reporter's own check-in whose red flag led here


@dataclass(frozen=True)
class Filed:
    case_id: int
    number: str  # the case number people say on the phone
    urgent: bool
    new: bool  # False: this report was filed before; nothing was written now


async def may_report_on(services: Services, viewer: Viewer, child_id: int) -> bool:
    """A listed child must be one `viewer` may see (paired with them, or of their area)."""
    async with services.sessions() as session:
        return await children.visible(session, child_scope(viewer), child_id)


async def file_report(services: Services, viewer: Viewer, report: Report) -> Filed | None:
    """Files the report and plans its first round of alerts, in one transaction; an urgent
    report's ladder is scheduled. None, with nothing written, when the child (or the visit it
    came from) is not the reporter's."""
    now = services.now()
    async with services.sessions.begin() as session:
        if report.child_id is None:
            area_id = viewer.area_id
        else:
            if not await children.visible(session, child_scope(viewer), report.child_id):
                return None
            child = await children.get(session, report.child_id)
            assert child is not None
            area_id = child.area_id
        if report.visit_id is not None:
            visit = await visits.get(session, report.visit_id)
            if visit is None or visit.person_id != viewer.person_id:
                return None
        new_case = NewCase(
            draft_key=report.draft_key, area_id=area_id, reporter_id=viewer.person_id,
            situation=report.situation, created_at=now, child_id=report.child_id,
            child_name=report.child_name if report.child_id is None else "",
            place=report.place if report.child_id is None else "",
            urgent=report.urgent or report.danger_now, danger_now=report.danger_now,
            description=report.description, voice_file_id=report.voice_file_id,
            photo_file_id=report.photo_file_id, location=report.location,
            visit_id=report.visit_id,
        )  # fmt: skip
        case, new = await cases.create(session, new_case)
        if new:
            area = await areas.get(session, case.area_id)
            assert area is not None
            await cases.schedule(session, case=case, at=first_round_due(services, case))
            await plan_round(session, services, case=case, area_path=area.path, round_=0)
    if new:
        services.outbox_planned()
    assert case.id is not None
    return Filed(case.id, number_of(services, case), case.urgent, new)


@dataclass(frozen=True)
class FromVisit:
    """An urgent report pre-filled from a check-in's first red flag."""

    visit_id: int
    child_id: int
    situation: Situation
    description: str = ""  # what the volunteer wrote about the answer that raised the flag

    @property
    def draft_key(self) -> str:
        """One report per check-in, however often its button is pressed."""
        return f"visit-{self.visit_id}"


async def from_visit(services: Services, viewer: Viewer, visit_id: int) -> FromVisit | None:
    """The report a check-in's red flag leads to; None unless the visit is `viewer`'s own and
    has a red flag."""
    async with services.sessions() as session:
        visit = await visits.get(session, visit_id)
    if visit is None or visit.person_id != viewer.person_id or not visit.red_flags:
        return None
    assert visit.id is not None
    raised = {RedFlag(flag) for flag in visit.red_flags.split(",")}
    flag = next(f for f in FROM_RED_FLAG if f in raised)
    notes: dict[str, str] = json.loads(visit.notes or "{}")
    words = notes.get(RED_FLAG_QUESTION[flag], "")
    return FromVisit(visit.id, visit.child_id, FROM_RED_FLAG[flag], words)
