"""The ledger (台账), imported and exported. There is one way to do each, whoever asks: a
supervisor or an admin in chat (restricted to their own area), or the server's operator on the
command line (no viewer: no restriction unless an area is given).

An import is a dry run first (`plan_import`: parsed and planned, nothing written), then
`apply_import`, which plans again in its own transaction, against the data as it is at that
moment, and writes what that plan accepts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from care.closing import ClosingReason
from care.ledger import LedgerParse, parse_ledger
from care.roles import Role, Viewer
from service import closing
from service.services import Services
from storage import audit, ledger
from storage.ledger import ImportPlan


class Refusal(StrEnum):
    ROLE = "role"  # only supervisors and admins import and export
    AREA = "area"  # an area outside the person's own


class Refused(Exception):
    """Nothing was read or written, and why."""

    def __init__(self, why: Refusal) -> None:
        super().__init__(why.value)
        self.why = why


def may_use_ledger(viewer: Viewer) -> bool:
    return viewer.at_least(Role.SUPERVISOR)


def _area(viewer: Viewer | None, area_path: str | None) -> str | None:
    """The area an import or export is restricted to: the one given, which must be within a
    person's own; for a person who names none, their own; for the command line, as given."""
    if viewer is None:
        return area_path
    if not may_use_ledger(viewer):
        raise Refused(Refusal.ROLE)
    if area_path is None:
        return viewer.area_path
    if not viewer.sees(area_path):
        raise Refused(Refusal.AREA)
    return area_path


@dataclass(frozen=True)
class PlannedImport:
    """A dry run, with what it was planned from (so that applying it plans again)."""

    parsed: LedgerParse
    area_path: str | None  # rows outside it are rejected; None: none are
    plan: ImportPlan

    @property
    def unreadable(self) -> bool:
        """A problem with the file as a whole (too large, not a ledger, no header, columns
        missing): the file is refused, and nothing of it was planned."""
        return any(problem.row is None for problem in self.plan.problems)


async def plan_import(
    services: Services, viewer: Viewer | None, data: bytes, *, area_path: str | None = None
) -> PlannedImport:
    """What importing `data` (.xlsx or .csv) would do, row by row; writes nothing. A file past
    the settings' limits is refused whole (one problem), before it is parsed. Parsing runs in a
    worker thread (10,000 rows take about half a second; calamine lets go of the GIL), so that
    the event loop goes on serving everybody else meanwhile."""
    area = _area(viewer, area_path)
    limits = services.settings.sheet_limits
    parsed = await asyncio.to_thread(parse_ledger, data, today=services.today(), limits=limits)
    async with services.sessions() as session:
        plan = await ledger.plan_import(session, parsed, area_path=area)
    return PlannedImport(parsed, area, plan)


async def apply_import(
    services: Services, viewer: Viewer | None, planned: PlannedImport
) -> ImportPlan:
    """Plans `planned` again and writes it, in one transaction: the rows accepted now are
    written, a rejected row not at all; the records of children past the age limit are closed
    (their directors and volunteers told, as service.closing does). Returns the plan written
    (nothing, when it has nothing to write); audited, each child and the import as a whole."""
    area = _area(viewer, planned.area_path)
    actor = viewer.person_id if viewer is not None else None
    notes = 0
    async with services.sessions.begin() as session:
        plan = await ledger.plan_import(session, planned.parsed, area_path=area)
        if plan.writes:
            closed = await ledger.apply_import(session, plan, actor_id=actor, on=services.today())
            notes = await closing.plan_notes(
                session, services, closed, ClosingReason.AGED_OUT, by=viewer
            )
            audit.record(
                session, actor_id=actor, action="ledger_import", subject=f"area:{area or '*'}",
                detail=f"create={len(plan.create)} update={len(plan.update)} "
                f"close={len(plan.close)} rejected={plan.rejected}",
            )  # fmt: skip
    if notes:
        services.outbox_planned()
    return plan


async def export(services: Services, viewer: Viewer | None, area_path: str) -> bytes:
    """The area's ledger as XLSX, in the layout an import reads (it re-imports unchanged),
    with sheets of pairings and last visits; audited. The workbook is written in a thread,
    after the transaction."""
    area = _area(viewer, area_path)
    assert area is not None
    async with services.sessions.begin() as session:
        data = await ledger.export_data(session, area_path=area)
        audit.record(
            session, actor_id=viewer.person_id if viewer is not None else None, action="export",
            subject=f"area:{area}", detail=f"children={len(data.children)}",
        )  # fmt: skip
    return await asyncio.to_thread(ledger.workbook, data)
