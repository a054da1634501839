"""The use cases of children's records and of the ledger, called directly (no chat) on a real
database: whoever calls them, role and area are checked inside, and what a viewer may not see
is not in what they return."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement
from sqlmodel import SQLModel, col, func, select

from care.access import Detail
from care.children import Category, Colour, Schooling
from care.ledger import ProblemCode
from care.roles import Gender, Role, Viewer
from sandbox.harness import Sandbox
from service import children, ledger
from storage.models import Area, AuditLog, Child, ColourChange
from tests.conftest import child_id, pair_directly, register, seed_ledger

EAST = "示范县/城关镇/东村"
TOWN = "示范县/城关镇"
SAMPLE_XLSX = (Path(__file__).resolve().parent / "fixtures" / "ledger-sample.xlsx").read_bytes()


async def viewer(box: Sandbox, role: Role, path: str, user_id: int) -> Viewer:
    await register(box, role, path, user_id=user_id, name=f"{role.value}{user_id}")
    found = await box.services.load_viewer(user_id)
    assert found is not None
    return found


async def count(
    box: Sandbox, *where: ColumnElement[bool], model: type[SQLModel] = ColourChange
) -> int:
    async with box.services.sessions() as session:
        query = select(func.count()).select_from(model).where(*where)
        return (await session.exec(query)).one()


async def test_a_director_cannot_change_a_child_of_another_village(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await viewer(box, Role.DIRECTOR, EAST, 2001)
    volunteer = await viewer(box, Role.VOLUNTEER, EAST, 2002)
    elsewhere = await child_id(box, "曹诺若")  # 河口镇
    own = await child_id(box, "熊子")  # 东村, yellow

    with pytest.raises(children.Refused) as refused:
        await children.change_colour(box.services, director, elsewhere, Colour.RED, "原因")
    assert refused.value.why == children.Refusal.CHILD
    with pytest.raises(children.Refused) as refused:
        await children.change_school(
            box.services, director, elsewhere, "某校", Schooling.DROPPED_OUT
        )
    assert refused.value.why == children.Refusal.CHILD
    with pytest.raises(children.Refused) as refused:  # in the village, but not a record keeper
        await children.change_colour(box.services, volunteer, own, Colour.RED, "原因")
    assert refused.value.why == children.Refusal.ROLE
    assert await children.editable(box.services, director, elsewhere) is None

    # nothing was written: no colour history, no audit entry, the colour as it was
    assert await count(box, col(ColourChange.reason) != "ledger") == 0
    assert await count(box, col(AuditLog.action).in_(["child_colour", "child_edit"]),
                       model=AuditLog) == 0  # fmt: skip
    async with box.services.sessions() as session:
        child = await session.get(Child, elsewhere)
    assert child is not None and child.school != "某校"
    before = child.colour

    # their own village's child: the same call is accepted
    saved = await children.change_colour(box.services, director, own, Colour.RED, "独自在家")
    assert (saved.name, saved.changed) == ("熊子", ["colour"])
    assert await count(box, col(ColourChange.reason) == "独自在家") == 1
    async with box.services.sessions() as session:
        unchanged = await session.get(Child, elsewhere)
        assert unchanged is not None and unchanged.colour == before


async def test_a_director_adds_children_to_their_own_village_only(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await viewer(box, Role.DIRECTOR, EAST, 2003)
    async with box.services.sessions() as session:
        villages = {a.path: a.id for a in await session.exec(select(Area)) if a.id is not None}
    new = children.NewChild(
        name="新来的", gender=Gender.FEMALE, birth_date=date(2016, 5, 1),
        category=Category.OTHER_DIFFICULTY, colour=Colour.BLUE,
        village_id=villages["示范县/河口镇/柳树村"],
        guardian=children.Guardian("于奶奶", "祖母"), consent=True,
    )  # fmt: skip
    with pytest.raises(children.Refused) as refused:
        await children.add_child(box.services, director, new)
    assert refused.value.why == children.Refusal.AREA
    with pytest.raises(children.Refused) as refused:  # a town is not a village
        await children.add_child(
            box.services, director, dataclasses.replace(new, village_id=villages[TOWN])
        )
    assert refused.value.why == children.Refusal.AREA
    assert await count(box, col(Child.name) == "新来的", model=Child) == 0

    added = await children.add_child(
        box.services, director, dataclasses.replace(new, village_id=villages[EAST])
    )
    found = await children.find(box.services, director, "新来的")
    assert [line.id for line in found.lines] == [added.child_id]
    assert await count(box, col(ColourChange.child_id) == added.child_id) == 1


async def test_a_volunteers_card_never_carries_the_id_number(box: Sandbox) -> None:
    await seed_ledger(box)
    volunteer = await viewer(box, Role.VOLUNTEER, EAST, 2004)
    director = await viewer(box, Role.DIRECTOR, EAST, 2005)
    supervisor = await viewer(box, Role.SUPERVISOR, TOWN, 2006)
    child = await child_id(box, "于曦皓")
    async with box.services.sessions() as session:
        record = await session.get(Child, child)
    assert record is not None and record.id_number
    id_number = record.id_number

    assert await children.card(box.services, volunteer, child) is None  # not paired with them
    await pair_directly(box, child, 2004)
    card = await children.card(box.services, volunteer, child)
    assert card is not None and card.detail == Detail.PAIRED and card.name == "于曦皓"
    assert card.id_number is None and card.category is None
    assert card.health is None and card.disability is None and card.consent is None
    assert id_number not in repr(card) and id_number[6:14] not in repr(card)

    masked = await children.card(box.services, director, child)
    assert masked is not None and masked.id_number is not None
    assert "*" in masked.id_number and id_number not in repr(masked)
    assert masked.category == Category.LEFT_BEHIND

    full = await children.card(box.services, supervisor, child)
    assert full is not None and full.id_number == id_number

    async with box.services.sessions() as session:
        views = (await session.exec(select(AuditLog).where(AuditLog.action == "child_view"))).all()
    # each card shown is audited; the refused read is not a view
    assert [(v.actor_id, v.subject) for v in views] == [
        (volunteer.person_id, f"child:{child}"),
        (director.person_id, f"child:{child}"),
        (supervisor.person_id, f"child:{child}"),
    ]


async def test_children_pages_and_filters_stay_within_the_viewers_area(box: Sandbox) -> None:
    await seed_ledger(box)
    director = await viewer(box, Role.DIRECTOR, EAST, 2007)
    everyone = await children.page(box.services, director, size=4)
    assert (everyone.total, everyone.pages, len(everyone.lines)) == (10, 3, 4)
    assert all(line.area_path == EAST for line in everyone.lines)
    yellow = await children.page(box.services, director, children.Filters(colour=Colour.YELLOW))
    assert yellow.total == 2
    assert [v.path for v in await children.villages(box.services, director)] == [EAST]
    assert (await children.find(box.services, director, "曹诺若")).total == 0  # 河口镇


async def test_a_supervisors_import_rejects_other_towns_and_the_export_reimports(
    box: Sandbox,
) -> None:
    supervisor = await viewer(box, Role.SUPERVISOR, TOWN, 2008)
    director = await viewer(box, Role.DIRECTOR, EAST, 2009)

    planned = await ledger.plan_import(box.services, supervisor, SAMPLE_XLSX)
    assert planned.area_path == TOWN and not planned.unreadable
    assert (len(planned.plan.create), planned.plan.rejected) == (21, 19)
    assert {p.code for p in planned.plan.problems} == {ProblemCode.AREA_OUTSIDE}
    assert await count(box, model=Child) == 0  # a dry run writes nothing

    with pytest.raises(ledger.Refused) as refused:  # not a supervisor
        await ledger.plan_import(box.services, director, SAMPLE_XLSX)
    assert refused.value.why == ledger.Refusal.ROLE
    with pytest.raises(ledger.Refused) as refused:  # the whole county is not their area
        await ledger.plan_import(box.services, supervisor, SAMPLE_XLSX, area_path="示范县")
    assert refused.value.why == ledger.Refusal.AREA
    widened = dataclasses.replace(planned, area_path="示范县")  # a plan made for someone else
    with pytest.raises(ledger.Refused):
        await ledger.apply_import(box.services, supervisor, widened)
    assert await count(box, model=Child) == 0

    written = await ledger.apply_import(box.services, supervisor, planned)
    assert (len(written.create), len(written.update), written.rejected) == (21, 0, 19)
    async with box.services.sessions() as session:
        paths = set(
            await session.exec(select(Area.path).join(Child, col(Child.area_id) == Area.id))
        )
        imports = (
            await session.exec(select(AuditLog).where(AuditLog.action == "ledger_import"))
        ).all()
    assert paths == {f"{TOWN}/东村", f"{TOWN}/南社区", f"{TOWN}/西村"}
    assert [(a.actor_id, a.subject) for a in imports] == [(supervisor.person_id, f"area:{TOWN}")]

    with pytest.raises(ledger.Refused):
        await ledger.export(box.services, supervisor, "示范县")
    exported = await ledger.export(box.services, supervisor, TOWN)
    again = await ledger.plan_import(box.services, supervisor, exported)
    assert not again.plan.problems
    assert (len(again.plan.create), len(again.plan.update), again.plan.unchanged) == (0, 0, 21)
    history = await count(box)
    rewritten = await ledger.apply_import(box.services, supervisor, again)
    assert rewritten.writes == 0 and await count(box) == history
    assert await count(box, col(AuditLog.action) == "export", model=AuditLog) == 1
