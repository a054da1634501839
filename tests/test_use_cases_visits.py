"""The use cases of visits and reports, called directly on a real database (no chat): access
is checked inside them and a refusal writes nothing; a draft key stores once; an urgent report
plans its first round of alerts in the outbox in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import SQLModel, col, select

from care.cases import Situation
from care.roles import Role, Viewer
from care.visits import Care, Health, Mode, Mood, Parents, RedFlag, Safety, Study
from sandbox.harness import Sandbox
from service.reports import Report, file_report, from_visit
from service.visits import CheckIn, plan_visit, record_visit, snooze
from storage.models import AuditLog, Case, CaseEvent, Child, Outbox, Visit, VisitPlan
from tests.conftest import child_id, pair_directly, register, seed_ledger

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
EAST = "示范县/城关镇/东村"
WEST = "示范县/城关镇/西村"


async def viewer_of(box: Sandbox, tg_user_id: int) -> Viewer:
    viewer = await box.services.load_viewer(tg_user_id)
    assert viewer is not None
    return viewer


async def volunteer(box: Sandbox, *paired: str) -> Viewer:
    """A volunteer of 东村 (tg 1500), paired with these children."""
    box.services.now = lambda: NOW
    await seed_ledger(box)
    await register(box, Role.VOLUNTEER, EAST, user_id=1500, name="王芳")
    for name in paired:
        await pair_directly(box, await child_id(box, name), 1500)
    return await viewer_of(box, 1500)


def check_in(child: int, key: str = "k1", *, care: Care = Care.GOOD) -> CheckIn:
    return CheckIn(
        child_id=child, visited_on=date(2026, 11, 22), mode=Mode.HOME, health=Health.UNWELL,
        mood=Mood.GOOD, study=Study.NORMAL, care=care, parents=Parents.CONTACTED,
        draft_key=key, notes={"health": "感冒了"}, safety=(Safety.DROWNING, Safety.TRAFFIC),
        wishes="想要一个书包", problems_voice="voice-file-1",
    )  # fmt: skip


async def rows(box: Sandbox, table: type[SQLModel]) -> list[Any]:
    async with box.services.sessions() as session:
        return list((await session.exec(select(table))).all())


async def test_a_visit_to_a_child_not_paired_with_the_viewer_is_refused_and_writes_nothing(
    box: Sandbox,
) -> None:
    viewer = await volunteer(box, "熊子")
    audit_before = len(await rows(box, AuditLog))
    other = await child_id(box, "薛子")  # of the same village, but not paired with them
    assert await record_visit(box.services, viewer, check_in(other)) is None
    assert await rows(box, Visit) == []
    assert len(await rows(box, AuditLog)) == audit_before
    async with box.services.sessions() as session:
        child = await session.get(Child, other)
    assert child is not None and child.last_visit_on is None


async def test_the_same_draft_key_twice_stores_one_visit_with_its_answers(box: Sandbox) -> None:
    viewer = await volunteer(box, "熊子")
    child = await child_id(box, "熊子")
    first = await record_visit(box.services, viewer, check_in(child, care=Care.ALONE))
    again = await record_visit(box.services, viewer, check_in(child, care=Care.ALONE))
    assert first is not None and again is not None
    assert first.new and not again.new and again.visit_id == first.visit_id
    assert first.red_flags == (RedFlag.LIVING_ALONE,)
    [visit] = await rows(box, Visit)
    assert visit.person_id == viewer.person_id and visit.visited_on == date(2026, 11, 22)
    # the answers as the row keeps them: serialised in one place, storage.visits
    assert (visit.health, visit.care, visit.notes) == ("unwell", "alone", '{"health": "感冒了"}')
    assert (visit.safety, visit.red_flags) == ("drowning,traffic", "living_alone")
    assert (visit.problems, visit.problems_voice) == ("", "voice-file-1")
    async with box.services.sessions() as session:
        kept = await session.get(Child, child)
    assert kept is not None and kept.last_visit_on == date(2026, 11, 22)
    # the red flag leads to a report of the visit's child, for its own volunteer only
    found = await from_visit(box.services, viewer, first.visit_id)
    assert found is not None and found.child_id == child
    assert found.situation == Situation.LIVING_ALONE
    await register(box, Role.VOLUNTEER, EAST, user_id=1501, name="李强")
    assert await from_visit(box.services, await viewer_of(box, 1501), first.visit_id) is None


async def test_a_report_on_a_child_outside_the_scope_is_refused_and_writes_nothing(
    box: Sandbox,
) -> None:
    viewer = await volunteer(box, "熊子")
    await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1502, name="督导")
    outbox_before = len(await rows(box, Outbox))
    report = Report(Situation.ABUSE, "r1", child_id=await child_id(box, "薛子"), urgent=True,
                    description="身上有伤")  # fmt: skip
    assert await file_report(box.services, viewer, report) is None
    # a director of another village may not report on 东村's children by id either
    await register(box, Role.DIRECTOR, WEST, user_id=1503, name="西村主任")
    outbox_before += 1  # the director's welcome
    west = await viewer_of(box, 1503)
    mine = Report(Situation.ABUSE, "r2", child_id=await child_id(box, "熊子"), urgent=True)
    assert await file_report(box.services, west, mine) is None
    assert await rows(box, Case) == [] and await rows(box, CaseEvent) == []
    assert len(await rows(box, Outbox)) == outbox_before


async def test_an_urgent_report_plans_its_alert_round_in_the_outbox_once(box: Sandbox) -> None:
    viewer = await volunteer(box, "熊子")
    await register(box, Role.SUPERVISOR, "示范县/城关镇", user_id=1502, name="督导")
    await register(box, Role.DIRECTOR, EAST, user_id=1503, name="东村主任")
    report = Report(Situation.LIVING_ALONE, "r1", child_id=await child_id(box, "熊子"),
                    urgent=True, description="一个人在家", location=(30.5, 114.3))  # fmt: skip
    filed = await file_report(box.services, viewer, report)
    again = await file_report(box.services, viewer, report)
    assert filed is not None and again is not None
    assert filed.urgent and filed.new and filed.number == "2026-0001"
    assert not again.new and again.case_id == filed.case_id
    [case] = await rows(box, Case)
    assert (case.latitude, case.longitude, case.reporter_id) == (30.5, 114.3, viewer.person_id)
    assert case.next_round_at is not None  # the ladder is scheduled
    async with box.services.sessions() as session:
        alerts = (
            await session.exec(select(Outbox).where(col(Outbox.case_id) == filed.case_id))
        ).all()
    assert sorted(a.chat_id for a in alerts) == [1502, 1503]
    assert all(a.key.startswith(f"case:{filed.case_id}:r0:") for a in alerts)


async def test_a_report_on_an_unlisted_child_is_filed_in_the_reporters_area(box: Sandbox) -> None:
    viewer = await volunteer(box)
    report = Report(Situation.BEGGING, "r1", child_name="小男孩", place="桥头",
                    danger_now=True)  # fmt: skip
    filed = await file_report(box.services, viewer, report)
    assert filed is not None and filed.urgent  # someone in danger now makes it urgent
    [case] = await rows(box, Case)
    assert (case.child_id, case.child_name, case.place) == (None, "小男孩", "桥头")
    assert case.area_id == viewer.area_id and case.danger_now


async def test_plan_and_snooze_only_for_ones_own_children(box: Sandbox) -> None:
    viewer = await volunteer(box, "熊子")
    mine, other = await child_id(box, "熊子"), await child_id(box, "薛子")
    assert not await plan_visit(box.services, viewer, other, date(2026, 11, 25))
    assert not await snooze(box.services, viewer, other, date(2026, 11, 30), "ill")
    assert await rows(box, VisitPlan) == []
    assert await plan_visit(box.services, viewer, mine, date(2026, 11, 25))
    assert await snooze(box.services, viewer, mine, date(2026, 11, 30), "ill")
    [plan] = await rows(box, VisitPlan)
    assert (plan.planned_on, plan.snoozed_until, plan.reason) == (None, date(2026, 11, 30), "ill")
