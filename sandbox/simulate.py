"""`python bot.py simulate`: a chat with the bot in the terminal, on a demo database, through the
fake Bot API. No token, no network."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from care.invites import expiry
from care.roles import Gender, Role
from locales import Translator, locale_for
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from sandbox.telegram import Sent
from settings import Settings
from storage import areas, invites, migrate, people
from storage.db import make_engine, make_sessions
from storage.types import utcnow

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
            county = await areas.ensure_path(session, "示范县")
            assert county.id is not None
            return await invites.issue(
                session,
                role=Role.ADMIN,
                area_id=county.id,
                created_by=None,
                expires_at=expiry(utcnow(), settings.invite_ttl_days),
            )
    finally:
        await engine.dispose()


def show(messages: list[Sent]) -> None:
    for sent in messages:
        tag = " (edited)" if sent.edits else ""
        print(f"\n🤖{tag} {sent.text}")
        for number, (label, _data) in enumerate(sent.buttons, start=1):
            print(f"   [{number}] {label}")


def fresh_database(path: str) -> str:
    """Removes the previous demo run's database; returns the URL for a new one."""
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"


async def simulate(settings: Settings, database_url: str) -> None:
    settings = settings.model_copy(update={"database_url": database_url})
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
        print(t("sim.intro", code=code))
        print(t("sim.commands"))
        while True:
            try:
                line = (await asyncio.to_thread(input, f"\n[{me.first_name}] > ")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not line:
                continue
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
                continue
            if line == ":who":
                for key, p in cast.items():
                    print(f"  {key}: {p.first_name}")
                continue
            if line.startswith(":new"):
                parts = line.split()
                name = parts[1] if len(parts) > 1 else f"Guest{len(cast)}"
                lang = parts[2] if len(parts) > 2 else "zh-hans"
                me = cast[name] = box.person(300 + len(cast), name, lang)
                print(t("sim.new_person", name=name, locale=locale_for(lang, "zh_CN")))
                continue
            if line.isdigit() and me.inbox:
                with_buttons = [m for m in me.inbox if m.buttons]
                if not with_buttons or not 0 < int(line) <= len(with_buttons[-1].buttons):
                    print(t("sim.no_such_button"))
                    continue
                target = with_buttons[-1]
                show(await me.press_data(target.buttons[int(line) - 1][1], target))
            else:
                link = LINK.search(line)
                show(await me.send(f"/start {link.group(1)}" if link else line))
