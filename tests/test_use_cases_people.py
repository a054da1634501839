"""The use cases of people, pairing and /overdue called directly, as any front end would call
them, on a real database: role and area are checked inside each, and a refusal writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from care.children import Colour
from care.pairing import Rule
from care.roles import Role, Viewer
from sandbox.harness import Sandbox
from service import overdue, pairing, people
from storage.models import AuditLog, Outbox, Pairing, Person
from tests.conftest import child_id, pair_directly, register, seed_ledger

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TOWN, OTHER_TOWN = "示范县/城关镇", "示范县/河口镇"
EAST, WEST = f"{TOWN}/东村", f"{TOWN}/西村"


async def viewer(box: Sandbox, tg_user_id: int) -> Viewer:
    found = await box.services.load_viewer(tg_user_id)
    assert found is not None
    return found


async def person_id(box: Sandbox, tg_user_id: int) -> int:
    async with box.services.sessions() as session:
        found = (
            await session.exec(select(Person.id).where(Person.tg_user_id == tg_user_id))
        ).one()
    assert found is not None
    return found


async def audited(box: Sandbox, action: str) -> list[AuditLog]:
    async with box.services.sessions() as session:
        return list(await session.exec(select(AuditLog).where(AuditLog.action == action)))


# -- people -----------------------------------------------------------------------------------


async def test_a_supervisor_deactivates_only_lower_roles_of_their_own_area(box: Sandbox) -> None:
    await register(box, Role.ADMIN, "示范县", user_id=900, name="县管理员")
    await register(box, Role.SUPERVISOR, TOWN, user_id=901, name="甲督导")
    await register(box, Role.SUPERVISOR, TOWN, user_id=902, name="同级督导")
    await register(box, Role.VOLUNTEER, f"{OTHER_TOWN}/柳树村", user_id=903, name="河口志愿者")
    await register(box, Role.VOLUNTEER, EAST, user_id=904, name="东村志愿者")
    await register(box, Role.DIRECTOR, EAST, user_id=905, name="东村主任")
    supervisor = await viewer(box, 901)

    for tg in (900, 901, 902, 903):  # an admin, oneself, the same role, another town
        refused = await people.deactivate(box.services, supervisor, await person_id(box, tg))
        assert refused == people.Refusal.FORBIDDEN, tg
        assert await people.target(box.services, supervisor, await person_id(box, tg)) == (
            people.Refusal.FORBIDDEN
        )
    assert await people.deactivate(box.services, supervisor, 10**6) == people.Refusal.UNKNOWN
    director = await viewer(box, 905)  # below the role that manages people at all
    volunteer_id = await person_id(box, 904)
    assert await people.deactivate(box.services, director, volunteer_id) == (
        people.Refusal.FORBIDDEN
    )
    assert await people.page(box.services, director, 0) == people.Refusal.FORBIDDEN
    async with box.services.sessions() as session:
        assert all(p.active for p in await session.exec(select(Person)))
    assert await audited(box, "deactivate") == []  # nothing written

    listed = await people.page(box.services, supervisor, 0)
    assert not isinstance(listed, people.Refusal)
    assert listed.total == 4 and "河口志愿者" not in [line.name for line in listed.lines]
    manageable = sorted(line.name for line in listed.lines if line.manageable)
    assert manageable == ["东村主任", "东村志愿者"]

    done = await people.deactivate(box.services, supervisor, volunteer_id)
    assert isinstance(done, people.Deactivated) and done.changed and done.tg_user_id == 904
    assert await box.services.load_viewer(904) is None  # unknown from now on
    again = await people.deactivate(box.services, supervisor, volunteer_id)
    assert isinstance(again, people.Deactivated) and not again.changed
    assert [a.subject for a in await audited(box, "deactivate")] == [f"person:{volunteer_id}"]
    admin = await viewer(box, 900)  # an admin manages every role of their area
    assert isinstance(
        await people.deactivate(box.services, admin, await person_id(box, 902)), people.Deactivated
    )


async def test_set_language_takes_only_a_known_locale(box: Sandbox) -> None:
    await register(box, Role.VOLUNTEER, EAST, user_id=910, name="双语")
    me = await viewer(box, 910)
    assert await people.set_language(box.services, me, "fr") is False
    assert await audited(box, "set_language") == []
    assert await people.set_language(box.services, me, "en") is True
    assert (await viewer(box, 910)).locale == "en"  # the cache forgot them at once


# -- pairing ----------------------------------------------------------------------------------


async def pairing_cast(box: Sandbox) -> tuple[Viewer, dict[str, int]]:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    volunteers = {
        "王芳": (1000, WEST, "ob:gender:female"),
        "李军": (1001, EAST, "ob:gender:male"),
        "周丽": (1002, f"{OTHER_TOWN}/柳树村", "ob:gender:female"),
    }
    ids = {}
    for name, (tg, path, gender) in volunteers.items():
        await register(box, Role.VOLUNTEER, path, user_id=tg, name=name, gender=gender)
        ids[name] = await person_id(box, tg)
    await register(box, Role.SUPERVISOR, TOWN, user_id=1009, name="督导")
    return await viewer(box, 1009), ids


async def pairings_now(box: Sandbox) -> list[Pairing]:
    async with box.services.sessions() as session:
        return list(await session.exec(select(Pairing)))


async def test_pairing_outside_the_actors_town_is_refused(box: Sandbox) -> None:
    supervisor, ids = await pairing_cast(box)
    other = await child_id(box, "曹诺若")  # 河口镇
    refused = await pairing.pair(
        box.services, supervisor,
        pairing.PairRequest(other, ids["周丽"], overridden=tuple(Rule), reason="同镇志愿者"),
    )  # fmt: skip
    assert refused == pairing.Refusal.FORBIDDEN
    assert await pairing.candidates(box.services, supervisor, other, limit=20) == []
    assert await pairing.mark_reviewed(box.services, supervisor, other) == (
        pairing.Refusal.FORBIDDEN
    )
    lines, total = await pairing.find_children(box.services, supervisor, "曹诺若")
    assert (lines, total) == ([], 0)
    # nor may a volunteer pair, even a child of their own village
    girl = await child_id(box, "刘轩宇")  # 11, in 西村
    volunteer = await viewer(box, 1000)
    assert await pairing.pair(box.services, volunteer, pairing.PairRequest(girl, ids["王芳"])) == (
        pairing.Refusal.FORBIDDEN
    )
    assert await pairing.gaps(box.services, volunteer) == pairing.Refusal.FORBIDDEN
    assert await pairings_now(box) == []
    assert await audited(box, "pair") == []


async def test_rules_are_checked_when_pairing_and_overrides_need_a_reason(box: Sandbox) -> None:
    supervisor, ids = await pairing_cast(box)
    girl = await child_id(box, "刘轩宇")
    offered = await pairing.candidates(box.services, supervisor, girl, limit=20)
    assert [(o.name, o.breaks) for o in offered] == [
        ("王芳", ()), ("李军", (Rule.GIRL_FEMALE_VOLUNTEER,)),
    ]  # fmt: skip
    man = pairing.PairRequest(girl, ids["李军"])
    assert await pairing.pair(box.services, supervisor, man) == pairing.Refusal.RULES_CHANGED
    far = pairing.PairRequest(girl, ids["周丽"])  # of another town: the rule, with an override
    assert await pairing.pair(box.services, supervisor, far) == pairing.Refusal.RULES_CHANGED
    short = pairing.PairRequest(girl, ids["李军"], (Rule.GIRL_FEMALE_VOLUNTEER,), reason="好")
    assert await pairing.pair(box.services, supervisor, short) == pairing.Refusal.REASON
    assert await pairings_now(box) == []

    paired = await pairing.pair(
        box.services, supervisor,
        pairing.PairRequest(girl, ids["李军"], (Rule.GIRL_FEMALE_VOLUNTEER,), "暂无女性志愿者"),
    )  # fmt: skip
    assert isinstance(paired, pairing.Paired)
    assert (paired.child_name, paired.volunteer_name) == ("刘轩宇", "李军")
    again = await pairing.pair(
        box.services, supervisor,
        pairing.PairRequest(girl, ids["李军"], tuple(Rule), "再结对一次试试"),
    )  # fmt: skip
    assert again == pairing.Refusal.ALREADY_PAIRED
    (row,) = await pairings_now(box)
    assert row.broken_rules == "girl_female_volunteer" and row.override_reason == "暂无女性志愿者"

    reviewed = await pairing.mark_reviewed(box.services, supervisor, girl)
    assert reviewed == pairing.Reviewed(1)
    (active,) = await pairing.active_pairings(box.services, supervisor, girl)
    end = pairing.UnpairRequest(girl, active.pairing_id, "改由女性志愿者结对")
    assert await pairing.unpair(box.services, await viewer(box, 1000), end) == (
        pairing.Refusal.FORBIDDEN
    )
    assert await pairing.unpair(box.services, supervisor, end) == pairing.Unpaired(row.id or 0)
    assert await pairing.unpair(box.services, supervisor, end) == pairing.Refusal.ENDED
    assert [a.action for a in await audited(box, "unpair")] == ["unpair"]


# -- /overdue and nudges ----------------------------------------------------------------------


async def overdue_cast(box: Sandbox) -> dict[str, int]:
    box.services.now = lambda: NOW
    await seed_ledger(box)
    await register(box, Role.VOLUNTEER, EAST, user_id=1400, name="王芳")
    await register(box, Role.VOLUNTEER, WEST, user_id=1401, name="李军", gender="ob:gender:male")
    await register(box, Role.SUPERVISOR, TOWN, user_id=1402, name="督导")
    await register(box, Role.DIRECTOR, WEST, user_id=1403, name="西村主任")
    children = {name: await child_id(box, name) for name in ("熊子", "薛子", "刘轩宇")}
    await pair_directly(box, children["熊子"], 1400)  # 东村, yellow: two volunteers
    await pair_directly(box, children["熊子"], 1401)
    await pair_directly(box, children["薛子"], 1400)  # 东村, blue
    await pair_directly(box, children["刘轩宇"], 1401)  # 西村, green
    return children


async def planned(box: Sandbox) -> list[Outbox]:
    """The nudges planned (not the welcomes of the cast's registration)."""
    nudges = select(Outbox).where(~col(Outbox.key).startswith("reply:onboarding:"))
    async with box.services.sessions() as session:
        return list(await session.exec(nudges.order_by(col(Outbox.id))))


async def test_a_nudge_plans_one_message_per_volunteer_and_day(box: Sandbox) -> None:
    children = await overdue_cast(box)
    woken: list[int] = []
    box.services.outbox_planned = lambda: woken.append(1)
    supervisor = await viewer(box, 1402)

    first = await overdue.nudge_one(box.services, supervisor, children["熊子"])
    assert first == overdue.Nudged(2)  # one to each of the child's two volunteers
    assert await overdue.nudge_one(box.services, supervisor, children["熊子"]) == overdue.Nudged(0)
    rows = await planned(box)
    assert sorted(r.chat_id for r in rows) == [1400, 1401]
    assert rows[0].text == "📣 督导员提醒：请尽快走访 熊子（已逾期 252 天）。"
    assert len(woken) == 1  # the sender is woken only when something was planned

    # the children nobody is to visit fill the first page: nobody to nudge there
    assert await overdue.nudge_page(box.services, supervisor, overdue.Filter()) == (
        overdue.Nudged(0)
    )
    # the page with the overdue: only what was not planned today is new
    page = await overdue.nudge_page(box.services, supervisor, overdue.Filter(page=1))
    assert page == overdue.Nudged(2)  # 薛子 to 王芳, 刘轩宇 to 李军
    assert len(await planned(box)) == 4

    box.services.now = lambda: NOW + timedelta(days=1)  # a new day, a new reminder
    assert await overdue.nudge_one(box.services, supervisor, children["熊子"]) == overdue.Nudged(2)
    keys = [r.key for r in await planned(box)]
    assert len(keys) == len(set(keys)) == 6
    assert len(await audited(box, "nudge")) == 6  # every child of every press is recorded


async def test_nudges_and_pages_keep_to_the_actors_area(box: Sandbox) -> None:
    children = await overdue_cast(box)
    director = await viewer(box, 1403)  # 西村
    assert await overdue.nudge_one(box.services, director, children["熊子"]) == (
        overdue.Refusal.NOT_OVERDUE
    )
    volunteer = await viewer(box, 1400)
    assert await overdue.nudge_one(box.services, volunteer, children["薛子"]) == (
        overdue.Refusal.FORBIDDEN
    )
    assert await overdue.page(box.services, volunteer, overdue.Filter()) == (
        overdue.Refusal.FORBIDDEN
    )
    assert await planned(box) == [] and await audited(box, "nudge") == []

    own = await overdue.page(box.services, director, overdue.Filter())
    assert not isinstance(own, overdue.Refusal)
    # 西村's four children nobody is paired with first, then the overdue 刘轩宇
    assert [c.covered for c in own.children] == [False] * 4 + [True]
    assert own.children[-1].name == "刘轩宇" and own.total == 5
    villages = await overdue.villages(box.services, director)
    assert not isinstance(villages, overdue.Refusal) and [v.path for v in villages] == [WEST]
    supervisor = await viewer(box, 1402)
    town = await overdue.villages(box.services, supervisor)
    assert not isinstance(town, overdue.Refusal)
    east = next(v.area_id for v in town if v.path == EAST)
    forged = await overdue.page(box.services, director, overdue.Filter(village=east))
    assert not isinstance(forged, overdue.Refusal) and forged.total == 0
    blue = await overdue.page(box.services, supervisor, overdue.Filter(colour=Colour.BLUE))
    assert not isinstance(blue, overdue.Refusal)
    assert [c.name for c in blue.children if c.covered] == ["薛子"]
    assert all(c.colour == "blue" for c in blue.children)
    assert await overdue.nudge_page(box.services, director, overdue.Filter(village=east)) == (
        overdue.Nudged(0)
    )
    assert await planned(box) == []
