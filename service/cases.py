"""Cases after a report: who may handle one, taking it ("I'm handling it") and resolving it
with an outcome. Each change and the reporter's notice are one transaction (the notice goes
through the outbox, so the reporter is told even after a crash)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from care.cases import Status
from care.roles import Role, Viewer
from locales import _ as mark
from service.alerts import number_of
from service.services import Services
from storage import audit, cases, outbox, people
from storage.models import Case, CaseEvent
from storage.outbox import Message


def may_handle(viewer: Viewer, area_path: str) -> bool:
    """Directors for their village, supervisors and admins for their area."""
    return viewer.at_least(Role.DIRECTOR) and viewer.sees(area_path)


async def handled_by(services: Services, viewer: Viewer, case_id: int) -> tuple[Case, str] | None:
    """The case and its area path, if `viewer` may handle it (checked on every action)."""
    async with services.sessions() as session:
        found = await cases.with_area(session, case_id)
    if found is None or not may_handle(viewer, found[1]):
        return None
    return found


async def _notice(
    session: AsyncSession, services: Services, case: Case, key: str, **params: str
) -> Message:
    """The reporter's notice of a change, in their language (and time shown in it)."""
    assert case.id is not None
    reporter = await people.get(session, case.reporter_id)
    assert reporter is not None
    t = services.translator(reporter.locale)
    text = t(key, number=number_of(services, case), time=t.datetime(services.now()), **params)
    return Message(f"case:{case.id}:{key}", reporter.tg_user_id, text, person_id=reporter.id,
                   case_id=case.id)  # fmt: skip


async def open_cases(
    services: Services, viewer: Viewer, *, limit: int
) -> list[tuple[Case, str]] | None:
    """The cases of the viewer's area not resolved yet (urgent first, oldest first), with
    each one's area path; None for someone who does not handle cases."""
    if not viewer.at_least(Role.DIRECTOR):
        return None
    async with services.sessions() as session:
        return await cases.open_in_area(session, area_path=viewer.area_path, limit=limit)


@dataclass(frozen=True)
class CaseView:
    case: Case
    area_path: str
    child: str  # the child's name (or as the reporter gave it)
    reporter: str
    timeline: list[tuple[CaseEvent, str | None]]  # each event with who did it


async def view(services: Services, viewer: Viewer, case_id: int) -> CaseView | None:
    """A case's private view for someone who may handle it; the view is recorded on the case's
    timeline and in the audit log in the same transaction. None when `viewer` may not."""
    async with services.sessions.begin() as session:
        found = await cases.with_area(session, case_id)
        if found is None or not may_handle(viewer, found[1]):
            return None
        case, path = found
        shown = CaseView(
            case, path, await cases.child_name(session, case),
            await cases.person_name(session, case.reporter_id),
            await cases.timeline(session, case_id),
        )  # fmt: skip
        cases.event(session, case_id=case_id, kind="viewed", person_id=viewer.person_id)
        audit.record(session, actor_id=viewer.person_id, action="case_view",
                     subject=f"case:{case_id}")  # fmt: skip
    return shown


@dataclass(frozen=True)
class Changed:
    done: bool  # False: someone else took (or resolved) it first; nothing was written
    number: str  # the case number people say on the phone


Step = Callable[[AsyncSession, datetime], Awaitable[bool]]


async def _change(
    services: Services, viewer: Viewer, case_id: int, step: Step, *, notice: str, action: str,
    **params: str,
) -> Changed | None:
    """One step of a case by someone who may handle it, the reporter's notice planned and the
    step audited in the same transaction; None when `viewer` may not (nothing written)."""
    now = services.now()
    async with services.sessions.begin() as session:
        found = await cases.with_area(session, case_id)
        if found is None or not may_handle(viewer, found[1]):
            return None
        case = found[0]
        done = await step(session, now)
        if done:
            told = await _notice(session, services, case, notice, **params)
            await outbox.plan(session, [told], now=now)
            audit.record(session, actor_id=viewer.person_id, action=action,
                         subject=f"case:{case_id}")  # fmt: skip
    if done:
        services.outbox_planned()
    return Changed(done, number_of(services, case))


async def acknowledge(services: Services, viewer: Viewer, case_id: int) -> Changed | None:
    """"I'm handling it": the first to press takes the case; None when `viewer` may not."""

    async def take(session: AsyncSession, now: datetime) -> bool:
        return await cases.acknowledge(
            session, case_id=case_id, person_id=viewer.person_id, now=now
        )

    return await _change(services, viewer, case_id, take, action="case_ack",
                         notice=mark("case.acknowledged_notice"), name=viewer.name)  # fmt: skip


async def may_resolve(services: Services, viewer: Viewer, case_id: int) -> bool:
    found = await handled_by(services, viewer, case_id)
    return found is not None and found[0].status != Status.RESOLVED


async def resolve(
    services: Services, viewer: Viewer, case_id: int, outcome: str
) -> Changed | None:
    """Closes the case with what was done; the reporter is told. None when `viewer` may not."""

    async def close(session: AsyncSession, now: datetime) -> bool:
        return await cases.resolve(session, case_id=case_id, person_id=viewer.person_id,
                                   outcome=outcome, now=now)  # fmt: skip

    return await _change(services, viewer, case_id, close, action="case_resolve",
                         notice=mark("case.resolved_notice"), outcome=outcome)  # fmt: skip
