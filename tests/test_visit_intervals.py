"""VISIT_INTERVALS and YEARLY_MINIMUM_VISITS (issue #14, 7): today's values by default; due
dates recomputed on start when the configured intervals differ from those the stored ones
were computed with, and counted by the configured ones from then on; bad values stop the
program with one line naming the setting."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from care.children import Colour
from care.roles import Role
from care.visits import Care, CheckIn, Health, Mode, Mood, Parents, Study
from sandbox.harness import Sandbox
from service import follow, visits
from settings import Settings, SettingsError, load_settings
from storage.models import AppliedSetting, Child
from tests.conftest import child_id, pair_directly, register, seed_ledger, watch_errors

NOW = datetime(2026, 4, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


async def due_dates(box: Sandbox, *names: str) -> list[date | None]:
    async with box.services.sessions() as session:
        return [
            (await session.exec(select(col(Child.due_on)).where(Child.name == name))).one()
            for name in names
        ]


async def test_changed_intervals_recompute_every_due_date_on_start(migrated: Settings) -> None:
    assert migrated.visit_rule.intervals[Colour.GREEN] == 60  # today's values by default
    assert migrated.visit_rule.yearly_minimum == 6
    async with Sandbox(migrated) as box:  # imported 1 March: green due 30 April, red 8 March
        await seed_ledger(box)
        assert await due_dates(box, "刘轩宇", "孔睿") == [date(2026, 4, 30), date(2026, 3, 8)]

    monthly = Settings(
        _env_file=None, database_url=migrated.database_url,
        visit_intervals={"green": 30}, yearly_minimum_visits=12,
    )  # fmt: skip  # Jiangsu's 一月一访: a green child visited every month
    assert monthly.visit_rule.intervals[Colour.RED] == 7  # colours left out keep the default
    box = Sandbox(monthly)
    errors = watch_errors(box)
    async with box:
        assert await due_dates(box, "刘轩宇", "孔睿") == [date(2026, 3, 31), date(2026, 3, 8)]
        async with box.services.sessions() as session:
            applied = await session.get(AppliedSetting, "visit_intervals")
        assert applied is not None and applied.value == "red=7,yellow=15,blue=30,green=30"
        assert await follow.apply_visit_rule(box.services) is None  # already applied

        # from now on every due date counts by them: a visit, and the figures' minimum
        box.services.now = lambda: NOW
        await register(box, Role.VOLUNTEER, "示范县/城关镇/西村", user_id=1700, name="王芳")
        await pair_directly(box, await child_id(box, "刘轩宇"), 1700)
        volunteer = await box.services.load_viewer(1700)
        assert volunteer is not None
        await visits.record_visit(box.services, volunteer, CheckIn(
            child_id=await child_id(box, "刘轩宇"), visited_on=date(2026, 4, 18),
            mode=Mode.HOME, health=Health.GOOD, mood=Mood.GOOD, study=Study.NORMAL,
            care=Care.GOOD, parents=Parents.CONTACTED, draft_key="monthly",
        ))  # fmt: skip
        assert await due_dates(box, "刘轩宇") == [date(2026, 5, 18)]
        supervisor = await register(
            box, Role.SUPERVISOR, "示范县/城关镇", user_id=1701, name="督导"
        )
        await supervisor.send("/overdue")
        assert "本年有望走访满12次：0%" in supervisor.last.text
        person = box.person(1700, "王芳")
        await person.send("/mychildren")
        assert "• 刘轩宇：上次 2026年4月18日，下次不晚于 2026年5月18日，本年 1/12 次" in (
            person.last.text
        )
    assert not errors

    # back to the defaults: recomputed again on the next start
    async with Sandbox(migrated) as box:
        assert await due_dates(box, "刘轩宇", "孔睿") == [date(2026, 6, 17), date(2026, 3, 8)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"purple": 3}', "VISIT_INTERVALS: Input should be 'red', 'yellow', 'blue' or 'green'"),
        ('{"red": 0}', "VISIT_INTERVALS: Value error, days between visits must be 1 to 366"),
        ("weekly", "VISIT_INTERVALS: not valid JSON"),
    ],
)
def test_bad_intervals_stop_the_program_with_one_line(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("VISIT_INTERVALS", value)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert str(raised.value).startswith(message)
    monkeypatch.setenv("VISIT_INTERVALS", '{"green": 30}')
    monkeypatch.setenv("YEARLY_MINIMUM_VISITS", "-1")
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert str(raised.value).startswith("YEARLY_MINIMUM_VISITS:")
