"""`python bot.py simulate`: a chat with the bot in the terminal, on a demo database, through the
fake Bot API. No token, no network."""

from __future__ import annotations

import asyncio
import functools
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from care.children import Category, Colour
from care.idcard import make_id
from care.roles import Gender, Role
from care.visits import VisitRule
from locales import Translator, labels, locale_for
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from sandbox.telegram import Sent
from service import invites
from service.services import Services
from settings import Settings
from storage import areas, children, migrate, pairings, people
from storage.db import make_engine, make_sessions
from storage.models import Child
from storage.types import utcnow
from workers.jobs import run_due

DEMO_AREAS = [
    "示范县/城关镇/东村",
    "示范县/城关镇/西村",
    "示范县/城关镇/南社区",
    "示范县/河口镇/柳树村",
]
# (telegram id, name, role, area, gender)
DEMO_PEOPLE = [
    (201, "王芳", Role.VOLUNTEER, "示范县/城关镇/东村", Gender.FEMALE),
    (202, "李强", Role.DIRECTOR, "示范县/城关镇/东村", Gender.MALE),
    (203, "张敏", Role.SUPERVISOR, "示范县/城关镇", Gender.FEMALE),
    (204, "赵刚", Role.ADMIN, "示范县", Gender.MALE),
]
# (name, gender, birth date, category, colour); the demo volunteer 王芳 is paired with all
DEMO_CHILDREN = [
    ("李小红", Gender.FEMALE, date(2015, 4, 12), Category.LEFT_BEHIND, Colour.YELLOW),
    ("张明", Gender.MALE, date(2013, 9, 3), Category.UNSUPPORTED, Colour.RED),
    ("王乐乐", Gender.MALE, date(2018, 1, 20), Category.OTHER_DIFFICULTY, Colour.GREEN),
]
NEWCOMER_ID = 100
LINK = re.compile(r"https://t\.me/\w+\?start=([\w-]+)")


async def seed(settings: Settings) -> str:
    """A fresh demo database; returns an admin invite code for the newcomer."""
    engine = make_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with make_sessions(engine).begin() as session:
            for path in DEMO_AREAS:
                await areas.ensure_path(session, path)
            for tg_id, name, role, path, gender in DEMO_PEOPLE:
                area = await areas.ensure_path(session, path)
                assert area.id is not None
                await people.upsert(
                    session,
                    tg_user_id=tg_id,
                    name=name,
                    role=role,
                    area_id=area.id,
                    gender=gender,
                    locale=None,
                )
            await _demo_children(session, settings.visit_rule)
        services = Services(settings=settings, engine=engine, sessions=make_sessions(engine))
        issued = await invites.issue(services, role=Role.ADMIN, issuer=None, area_path="示范县")
        return issued.code
    finally:
        await engine.dispose()


async def _demo_children(session: AsyncSession, rule: VisitRule) -> None:
    """A few children of 东村, paired with the demo volunteer, so /checkin and /urgent work."""
    village = await areas.ensure_path(session, "示范县/城关镇/东村")
    volunteer = await people.by_tg_user(session, 201)
    assert village.id is not None and volunteer is not None and volunteer.id is not None
    for n, (name, gender, birth, category, colour) in enumerate(DEMO_CHILDREN):
        sequence = 2 * n + (1 if gender == Gender.MALE else 2)
        child = Child(
            name=name, gender=gender.value, birth_date=birth, category=category.value,
            colour=colour.value, area_id=village.id,
            id_number=make_id("320999", birth, sequence), guardian_name="祖母",
            guardian_relation="祖母", consent=True, followed_since=date(2026, 3, 1),
        )  # fmt: skip
        await children.add(session, child, actor_id=volunteer.id, rule=rule)
        assert child.id is not None
        await pairings.create(
            session, child_id=child.id, volunteer_id=volunteer.id,
            started_on=date(2026, 3, 1), broken_rules=[], reason="", actor_id=volunteer.id,
        )  # fmt: skip


SETTLE = 0.3  # seconds to wait after each action for what the outbox's sender delivers
SMALL = 8  # a bare number up to this presses a button of the newest message (if it has them)


def _button(line: str, person: SimPerson) -> tuple[Sent, int] | None:
    """The button a line presses: `:N` presses button N of the newest message with buttons; a
    bare small number does so only when the newest message itself has buttons (otherwise it is
    text, e.g. an ID or phone number being typed)."""
    if line.startswith(":") and line[1:].isdigit():
        with_buttons = [m for m in person.inbox if m.buttons]
        return (with_buttons[-1], int(line[1:])) if with_buttons else None
    newest = person.inbox[-1] if person.inbox else None
    if line.isdigit() and int(line) <= SMALL and newest is not None and newest.buttons:
        return newest, int(line)
    return None


def _moved(offset: timedelta) -> datetime:
    return utcnow() + offset


def _duration(text: str) -> timedelta | None:
    """`+3d`, `+2h`, `+30m`: how far the clock moves."""
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if len(text) < 3 or text[0] != "+" or text[-1] not in units or not text[1:-1].isdigit():
        return None
    return timedelta(**{units[text[-1]]: int(text[1:-1])})


class Screen:
    """What the terminal has shown of each chat, so that messages delivered later (alerts,
    reminders, replies sent by the outbox's sender) are shown too, once, marked as new."""

    def __init__(self, t: Translator) -> None:
        self.t = t
        self._shown: dict[tuple[int, int], tuple[str, int]] = {}

    def show(self, messages: list[Sent], *, later: bool = False) -> None:
        for sent in messages:
            self._shown[sent.chat_id, sent.message_id] = (sent.text, sent.edits)
            tag = self.t("sim.arrived") if later else self.t("sim.edited") if sent.edits else ""
            print(f"\n🤖{tag} {sent.text}")
            for number, (label, _data) in enumerate(sent.buttons, start=1):
                print(f"   [{number}] {label}")

    def catch_up(self, person: SimPerson) -> None:
        """Shows what reached the person's chat since it was last shown."""
        self.show(
            [m for m in person.inbox if not m.deleted
             and self._shown.get((m.chat_id, m.message_id)) != (m.text, m.edits)],
            later=True,
        )  # fmt: skip


def fresh_database(path: str) -> str:
    """Removes the previous demo run's database; returns the URL for a new one."""
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"


async def simulate(settings: Settings, database_url: str) -> None:
    # No metrics endpoint for the demo: the bot itself may be serving one on that port.
    settings = settings.model_copy(update={"database_url": database_url, "metrics_port": None})
    code = await seed(settings)
    t = Translator(settings.default_locale, settings.tz)
    box = Sandbox(settings)
    box.services.background = True  # alerts go out as they would on Telegram
    async with box:
        cast: dict[str, SimPerson] = {
            "new": box.person(NEWCOMER_ID, "Newcomer", "zh-hans"),
            **{str(tg): box.person(tg, name, "zh-hans") for tg, name, *_ in DEMO_PEOPLE},
        }
        me = cast["new"]
        screen, offset = Screen(t), timedelta()
        await run_due(box.application)  # today's reminders, as the bot's first jobs would
        print(t("sim.intro", code=code))
        print(t("sim.commands"))
        while True:
            try:
                line = (await asyncio.to_thread(input, f"\n[{me.first_name}] > ")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not line:
                continue
            # The simulator's own lines in the language of whoever you are now.
            t = screen.t = Translator(locale_for(me.language_code, t.locale), settings.tz)
            if line in (":q", ":quit"):
                break
            if line.startswith(":as"):
                who = line[3:].strip()
                found = cast.get(who) or next(
                    (p for p in cast.values() if p.first_name == who), None
                )
                if found is None:
                    print(t("sim.unknown_person", who=who))
                else:
                    me = found
                    screen.catch_up(me)  # e.g. the alert of a report made meanwhile
                continue
            if line == ":who":
                roles = {str(tg): (role, path) for tg, _n, role, path, _g in DEMO_PEOPLE}
                for key, p in cast.items():
                    role, path = roles.get(key, (None, ""))
                    what = f"{t(labels.ROLE[role])} · {path}" if role else t("sim.newcomer")
                    print(f"  {key}: {p.first_name} — {what}")
                continue
            if line.startswith(":new"):
                parts = line.split()
                name = parts[1] if len(parts) > 1 else f"Guest{len(cast)}"
                lang = parts[2] if len(parts) > 2 else "zh-hans"
                me = cast[name] = box.person(300 + len(cast), name, lang)
                print(t("sim.new_person", name=name, locale=locale_for(lang, "zh_CN")))
                continue
            if line.startswith(":clock"):
                moved = _duration(line[6:].strip())
                if moved is None:
                    print(t("sim.clock_usage"))
                    continue
                offset += moved
                box.services.now = functools.partial(_moved, offset)
                print(t("sim.clock", now=t.datetime(box.services.now())))
                await run_due(box.application)
                await box.drain()  # what that planned, sent now (held for quiet hours: later)
            elif line.startswith((":file", ":photo", ":voice")):
                kind, _, path = line.partition(" ")
                if kind == ":file":
                    try:
                        content = await asyncio.to_thread(Path(path).read_bytes)
                    except OSError:
                        print(t("sim.no_file", path=path))
                        continue
                    screen.show(await me.send_document(Path(path).name, content))
                else:
                    screen.show(await (me.send_photo() if kind == ":photo" else me.send_voice()))
            elif (button := _button(line, me)) is not None:
                target, number = button
                if not 0 < number <= len(target.buttons):
                    print(t("sim.no_such_button"))
                    continue
                screen.show(await me.press_data(target.buttons[number - 1][1], target))
            else:
                link = LINK.search(line)
                screen.show(await me.send(f"/start {link.group(1)}" if link else line))
            await asyncio.sleep(SETTLE)
            screen.catch_up(me)
