"""Ledger (台账) import and export against the database: plan (a dry run), apply (in the
caller's transaction), and the rows and workbook of an export. The use cases (service.ledger)
decide who may, and audit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import Category, Colour, Gender, LunarBirthday
from care.closing import ClosingReason
from care.ledger import (
    COUNTY,
    ID_NUMBER,
    NAME,
    PAIRINGS_SHEET,
    TOWN,
    VILLAGE,
    VISITS_SHEET,
    LedgerParse,
    LedgerRow,
    Problem,
    ProblemCode,
    write_ledger_xlsx,
)
from care.roles import AreaPathError, split_area_path, within
from storage import areas, audit, closing, due
from storage.areas import in_area
from storage.db import key, select_wide
from storage.models import Area, Child, ChildMove, ColourChange, Household, Pairing, Person
from storage.types import utcnow

CHUNK = 500  # keeps IN (...) lists well inside SQLite's and asyncpg's parameter limits
# Child columns a ledger row sets (household and area are resolved separately).
FIELDS = (
    "name", "gender", "birth_date", "id_number", "ethnicity", "category", "colour", "schooling",
    "school", "health", "disability", "guardian_name", "guardian_relation", "guardian_phone",
    "father_work", "mother_work", "lunar_month", "lunar_day", "lunar_leap", "consent",
)  # fmt: skip


def row_values(row: LedgerRow) -> dict[str, Any]:
    lunar = row.lunar_birthday
    return {
        "name": row.name, "gender": row.gender.value, "birth_date": row.birth_date,
        "id_number": row.id_number, "ethnicity": row.ethnicity, "category": row.category.value,
        "colour": row.colour.value, "schooling": row.schooling, "school": row.school,
        "health": row.health, "disability": row.disability, "guardian_name": row.guardian_name,
        "guardian_relation": row.guardian_relation, "guardian_phone": row.guardian_phone,
        "father_work": row.father_work, "mother_work": row.mother_work,
        "lunar_month": lunar.month if lunar else None, "lunar_day": lunar.day if lunar else None,
        "lunar_leap": lunar.leap if lunar else False, "consent": row.consent,
    }  # fmt: skip


def row_path(row: LedgerRow) -> str | None:
    if not (row.county and row.town):
        return None
    return "/".join(split_area_path(f"{row.county}/{row.town}/{row.village}"))


@dataclass
class Update:
    child_id: int
    row: LedgerRow
    changed: list[str]
    colour_before: str
    area_before: int | None = None  # the village it leaves, when "area" changed


@dataclass(frozen=True)
class Closing:
    """An open record that an aged-out row closes (care.ledger.AgedOut)."""

    child_id: int
    problem: Problem  # what the row says: the age, the category's limit


@dataclass
class ImportPlan:
    create: list[LedgerRow] = field(default_factory=list)
    update: list[Update] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # reported; reject nothing
    close: list[Closing] = field(default_factory=list)  # records of children aged out

    @property
    def rejected(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    @property
    def writes(self) -> int:
        return len(self.create) + len(self.update) + len(self.close)


_COLUMNS = ("id", "path", "household", "area_id", "active", "closed_on", "closed_reason",
            *FIELDS)  # fmt: skip


async def _stored(session: AsyncSession, *where: Any) -> list[dict[str, Any]]:
    """Stored children matching `where`, as plain dicts (building ORM objects is slow)."""
    columns = [
        col(Child.id), col(Area.path), col(Household.code), col(Child.area_id),
        col(Child.active), col(Child.closed_on), col(Child.closed_reason),
    ] + [getattr(Child, name) for name in FIELDS]  # fmt: skip
    query = (
        select(*columns)
        .join(Area, col(Area.id) == Child.area_id)
        .join(Household, col(Household.id) == Child.household_id, isouter=True)
        .where(*where)
    )
    return [dict(zip(_COLUMNS, values, strict=True)) for values in await session.exec(query)]


async def _existing(
    session: AsyncSession, rows: Sequence[tuple[LedgerRow, str]]
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Stored children the rows stand for: by ID number, or, for a child without one, by
    name, birth date and village (so re-importing such a row does not add the child twice)."""
    ids = [row.id_number for row, _ in rows if row.id_number]
    names = sorted({row.name for row, _ in rows if not row.id_number})
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for record in await _stored(session, col(Child.id_number).in_(chunk)):
            found[("id", record["id_number"])] = record
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        where = (col(Child.id_number).is_(None), col(Child.name).in_(chunk))
        for record in await _stored(session, *where):
            found[_key(record["name"], record["birth_date"], record["path"])] = record
    return found


def _key(name: str, birth_date: date, path: str) -> tuple[str, ...]:
    return ("name", name, birth_date.isoformat(), path)


def _row_key(row: LedgerRow, path: str) -> tuple[str, ...]:
    if row.id_number:
        return ("id", row.id_number)
    return _key(row.name, row.birth_date, path)


async def plan_import(
    session: AsyncSession, parsed: LedgerParse, *, area_path: str | None
) -> ImportPlan:
    """What applying `parsed` would do, changing nothing. With `area_path` (the importer's own
    area; None from the server's command line), rows outside it are rejected, and so are rows
    that would change a child recorded outside it. A closed record is read-only: a row for it
    is rejected, saying so, unless the row itself says the child is past the age limit. A
    row past the age limit closes the open record it matches; with none to close, it is
    rejected (the import does not create a record to close it)."""
    plan = ImportPlan(problems=list(parsed.problems), warnings=list(parsed.warnings))
    aged = {a.row.row: a.problem for a in parsed.aged_out}
    accepted: list[tuple[LedgerRow, str]] = []
    for number, row in enumerate([*parsed.rows, *(a.row for a in parsed.aged_out)], start=1):
        if number % CHUNK == 0:
            await asyncio.sleep(0)  # others' updates run between chunks
        try:
            path = row_path(row)
        except AreaPathError:  # care.ledger refuses such names; rows built elsewhere may not
            value = f"{row.county}/{row.town}/{row.village}"
            plan.problems.append(Problem(row.row, VILLAGE, ProblemCode.AREA_NAME, {"value": value}))
            continue
        if path is None:
            column = TOWN if row.county else COUNTY
            plan.problems.append(Problem(row.row, column, ProblemCode.REQUIRED, {}))
        elif area_path is not None and not within(path, area_path):
            plan.problems.append(
                Problem(row.row, VILLAGE, ProblemCode.AREA_OUTSIDE, {"area": area_path})
            )
        else:
            accepted.append((row, path))
    stored = await _existing(session, accepted)
    for number, (row, path) in enumerate(accepted, start=1):
        if number % CHUNK == 0:
            await asyncio.sleep(0)  # (without: 10,000 rows held the loop 0.15 to 0.25 s)
        before = stored.get(_row_key(row, path))
        if before is None and row.row in aged:
            plan.problems.append(aged[row.row])  # nothing to close
            continue
        if before is None:
            plan.create.append(row)
            continue
        if area_path is not None and not within(before["path"], area_path):
            plan.problems.append(
                Problem(row.row, ID_NUMBER, ProblemCode.AREA_OUTSIDE, {"area": area_path})
            )
            continue
        if row.row in aged:
            if before["active"]:
                plan.close.append(Closing(before["id"], aged[row.row]))
            else:
                plan.unchanged += 1  # closed already
            continue
        if not before["active"]:
            on, reason = before["closed_on"], before["closed_reason"]
            params = {"on": on.isoformat() if on else "", "reason": reason or ""}
            plan.problems.append(Problem(row.row, NAME, ProblemCode.RECORD_CLOSED, params))
            continue
        values = row_values(row)
        changed = [name for name in FIELDS if before[name] != values[name]]
        if before["path"] != path:
            changed.append("area")
        if before["household"] != row.household:
            changed.append("household")
        if changed:
            moved = before["area_id"] if "area" in changed else None
            plan.update.append(Update(before["id"], row, changed, before["colour"], moved))
        else:
            plan.unchanged += 1
    plan.problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    plan.close.sort(key=lambda c: c.problem.row or 0)
    return plan


async def _area_ids(session: AsyncSession, rows: Sequence[LedgerRow]) -> dict[str, int]:
    """The village of every row, created where new (a ledger names few villages)."""
    found: dict[str, int] = {}
    for path in sorted({p for row in rows if (p := row_path(row)) is not None}):
        area = await areas.ensure_path(session, path)
        assert area.id is not None
        found[path] = area.id
    return found


async def _household_ids(
    session: AsyncSession, wanted: set[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """Households by (village, code): the existing ones in one query, the new ones in one
    insert (one statement per household cost seconds on a 10,000-row ledger)."""
    villages = sorted({village for village, _ in wanted})
    found: dict[tuple[int, str], int] = {}
    for start in range(0, len(villages), CHUNK):
        rows = await session.exec(
            select(Household.id, Household.area_id, Household.code).where(
                col(Household.area_id).in_(villages[start : start + CHUNK])
            )
        )
        found.update({(area, code): hid for hid, area, code in rows if hid is not None})
    missing = [{"area_id": a, "code": c} for a, c in sorted(wanted - found.keys())]
    for start in range(0, len(missing), CHUNK):
        result = await session.exec(
            insert(Household).returning(
                key(Household.id), col(Household.area_id), col(Household.code)
            ),
            params=missing[start : start + CHUNK],
        )
        found.update({(area, code): hid for hid, area, code in result})
    return found


async def apply_import(
    session: AsyncSession, plan: ImportPlan, *, actor_id: int | None, on: date | None = None
) -> list[closing.Closed]:
    """Writes a plan in the caller's transaction: areas, households, children, colour history,
    moves between villages, the records closed (on `on`, today) and the audit trail, in a few
    bulk statements. Nothing of a rejected row is in a plan, so nothing of it is written.
    Returns the records closed."""
    rows = [*plan.create, *(u.row for u in plan.update)]
    area_ids = await _area_ids(session, rows)

    def village(row: LedgerRow) -> int:
        path = row_path(row)
        assert path is not None
        return area_ids[path]

    households = await _household_ids(
        session, {(village(row), row.household) for row in rows if row.household}
    )

    def placed(row: LedgerRow) -> dict[str, Any]:
        home = households.get((village(row), row.household)) if row.household else None
        return {**row_values(row), "area_id": village(row), "household_id": home}

    now = utcnow()
    new_rows = [
        {**placed(row), "active": True, "created_at": now, "updated_at": now} for row in plan.create
    ]
    created: list[tuple[int, str]] = []
    for start in range(0, len(new_rows), CHUNK):
        result = await session.exec(
            insert(Child).returning(key(Child.id), col(Child.colour)),
            params=new_rows[start : start + CHUNK],
        )
        created.extend((child_id, colour) for child_id, colour in result)
    if plan.update:
        changes = [{**placed(u.row), "id": u.child_id, "updated_at": now} for u in plan.update]
        await session.exec(update(Child), params=changes)  # bulk UPDATE by primary key
    moves = [
        {"child_id": u.child_id, "from_area_id": u.area_before, "to_area_id": village(u.row),
         "reason": "ledger", "moved_by": actor_id, "at": now}
        for u in plan.update
        if u.area_before is not None
    ]  # fmt: skip
    if moves:
        await session.exec(insert(ChildMove), params=moves)
    history = [
        {"child_id": cid, "colour": colour, "previous": None, "reason": "ledger", "at": now,
         "changed_by": actor_id}
        for cid, colour in created
    ] + [
        {"child_id": u.child_id, "colour": u.row.colour.value, "previous": u.colour_before,
         "reason": "ledger", "at": now, "changed_by": actor_id}
        for u in plan.update
        if "colour" in u.changed
    ]  # fmt: skip
    if history:
        await session.exec(insert(ColourChange), params=history)
    await due.refresh(session, [cid for cid, _ in created] + [u.child_id for u in plan.update])
    entries = [(f"child:{cid}", "ledger_create", "") for cid, _ in created] + [
        (f"child:{u.child_id}", "ledger_update", ",".join(u.changed)) for u in plan.update
    ]
    await audit.record_many(await session.connection(), actor_id=actor_id, entries=entries, at=now)
    if not plan.close:
        return []
    assert on is not None  # the day the records close
    return await closing.close(
        session, [c.child_id for c in plan.close], reason=ClosingReason.AGED_OUT, note="",
        on=on, actor_id=actor_id, action="ledger_close",
    )  # fmt: skip


# -- export ----------------------------------------------------------------------------------


def ledger_row(child: Child, path: str, household: str | None, serial: int) -> LedgerRow:
    county, town, village = ([*path.split("/"), "", "", ""])[:3]
    lunar = (
        LunarBirthday(child.lunar_month, child.lunar_day, child.lunar_leap)
        if child.lunar_month and child.lunar_day
        else None
    )
    return LedgerRow(
        row=serial + 1, name=child.name, gender=Gender(child.gender),
        birth_date=child.birth_date, category=Category(child.category),
        colour=Colour(child.colour), village=village, id_number=child.id_number,
        ethnicity=child.ethnicity, county=county, town=town, household=household,
        schooling=child.schooling, school=child.school, health=child.health,
        disability=child.disability, guardian_name=child.guardian_name,
        guardian_relation=child.guardian_relation, guardian_phone=child.guardian_phone,
        father_work=child.father_work, mother_work=child.mother_work, lunar_birthday=lunar,
        consent=child.consent,
    )  # fmt: skip


@dataclass(frozen=True)
class ExportData:
    children: list[LedgerRow]
    # child's name, ID number, area path, volunteer's name, since, reviewed
    pairings: list[tuple[str, str | None, str, str, date, date | None]]
    last_visits: list[date | None]  # per child, in the order of `children`


async def export_data(session: AsyncSession, *, area_path: str) -> ExportData:
    query = (
        select(Child, Area.path, Household.code)
        .join(Area, col(Area.id) == Child.area_id)
        .join(Household, col(Household.id) == Child.household_id, isouter=True)
        .where(in_area(area_path), col(Child.active).is_(True))
        .order_by(col(Area.path), col(Child.household_id), col(Child.id))
    )
    rows: list[LedgerRow] = []
    last_visits: list[date | None] = []
    for serial, (child, path, household) in enumerate(await session.exec(query), start=1):
        rows.append(ledger_row(child, path, household, serial))
        last_visits.append(child.last_visit_on)
    pairings = list(
        await session.exec(
            select_wide(
                Child.name, Child.id_number, Area.path, Person.name, Pairing.started_on,
                Pairing.reviewed_on,
            )
            .join(Child, col(Child.id) == Pairing.child_id)
            .join(Person, col(Person.id) == Pairing.volunteer_id)
            .join(Area, col(Area.id) == Child.area_id)
            .where(in_area(area_path), col(Pairing.ended_on).is_(None))
            .order_by(col(Area.path), col(Child.id))
        )
    )  # fmt: skip
    return ExportData(rows, [tuple(p) for p in pairings], last_visits)


def workbook(data: ExportData) -> bytes:
    """The export as XLSX in the import layout (it re-imports as it is), with sheets of
    pairings and last visits. No database: the caller may run it in a thread."""
    pairings = [
        (child, id_number or "", path.rsplit("/", 1)[-1], volunteer, since, reviewed or "")
        for child, id_number, path, volunteer, since, reviewed in data.pairings
    ]
    visits = [
        (row.name, row.id_number or "", row.village, last or "")
        for row, last in zip(data.children, data.last_visits, strict=True)
    ]
    return write_ledger_xlsx(
        data.children, extra=[(*PAIRINGS_SHEET, pairings), (*VISITS_SHEET, visits)]
    )
