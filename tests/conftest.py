"""Every test talks to the real Application (real handlers, real database) through the fake
Bot API. The database is fresh per test: SQLite always, PostgreSQL too when TEST_DATABASE_URL
is set. A handler that raises fails the test (PTB would only log it)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Result, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from service import invites
from settings import Settings
from storage import migrate
from storage.db import make_engine
from toolkit.context import BotContext


@pytest.fixture(autouse=True)
def fast_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram's limits at a hundredth of their length: the same rules, without tests waiting
    a second at each step (tests/test_limiter.py checks them at their own pace)."""
    monkeypatch.setattr(Sandbox, "limits_unit", 0.01)


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


async def _fresh_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    await _fresh_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        bot_token=None,
        default_locale="zh_CN",
        timezone="Asia/Shanghai",
    )


@pytest.fixture
async def migrated(settings: Settings) -> Settings:
    engine = make_engine(settings.database_url)
    await migrate.upgrade(engine)
    await engine.dispose()
    return settings


def watch_errors(sandbox: Sandbox) -> list[BaseException | None]:
    """The errors the bot's handlers raise (PTB only logs them), for the test to assert on."""
    errors: list[BaseException | None] = []

    async def record(_update: object, context: BotContext) -> None:
        errors.append(context.error)

    sandbox.application.add_error_handler(record)
    return errors


@pytest.fixture
async def box(migrated: Settings) -> AsyncIterator[Sandbox]:
    sandbox = Sandbox(migrated)
    errors = watch_errors(sandbox)
    async with sandbox:
        yield sandbox
    assert not errors, f"a handler raised: {errors!r}"
    assert not sandbox.telegram.unknown, (
        f"Bot API methods missing from the fake: {sandbox.telegram.unknown}"
    )


async def sql(session: AsyncSession, statement: str, **params: object) -> Result[Any]:
    """Raw SQL in the session's transaction (sqlmodel's `exec` takes its own statements)."""
    connection = await session.connection()
    return await connection.execute(text(statement), params)


async def make_invite(box: Sandbox, role: Role, path: str) -> str:
    """An invite as the server's operator makes one (the same use case as every other)."""
    issued = await invites.issue(box.services, role=role, issuer=None, area_path=path)
    return issued.code


async def register(
    box: Sandbox,
    role: Role,
    path: str,
    *,
    user_id: int,
    name: str,
    language: str = "中文",
    gender: str = "ob:gender:female",
    language_code: str = "zh-hans",
) -> SimPerson:
    """Registers someone the way a person does: invite link, language, name, gender."""
    person = box.person(user_id, name, language_code)
    code = await make_invite(box, role, path)
    await person.send(f"/start {code}")
    await person.press(language)
    await person.send(name)
    await person.press(gender)
    return person


FIXTURES = Path(__file__).resolve().parent / "fixtures"


async def seed_ledger(box: Sandbox, data: bytes | None = None) -> None:
    """The sample ledger's 40 children, written the way an import writes them."""
    from datetime import date

    from care.ledger import parse_ledger
    from storage.ledger import apply_import, plan_import

    raw = data if data is not None else (FIXTURES / "ledger-sample.csv").read_bytes()
    parsed = parse_ledger(raw, today=date(2026, 11, 23))
    async with box.services.sessions.begin() as session:
        plan = await plan_import(session, parsed, area_path=None)
        await apply_import(session, plan, actor_id=None)


async def child_id(box: Sandbox, name: str) -> int:
    from sqlmodel import select

    from storage.models import Child

    async with box.services.sessions() as session:
        found = (await session.exec(select(Child.id).where(Child.name == name))).one()
    assert found is not None
    return found


async def pair_directly(box: Sandbox, child: int, volunteer_tg: int) -> None:
    """Setup for tests that are not about pairing: a pairing row as /pair would write it."""
    from datetime import date

    from sqlmodel import select

    from storage import due
    from storage.models import Pairing, Person

    async with box.services.sessions.begin() as session:
        person = (await session.exec(select(Person).where(Person.tg_user_id == volunteer_tg))).one()
        assert person.id is not None
        session.add(Pairing(child_id=child, volunteer_id=person.id, started_on=date(2026, 3, 1)))
        await session.flush()
        await due.refresh(session, [child])


def exported_ledger(person: SimPerson) -> bytes:
    """The XLSX inside the newest `/export` the person got, opened with the password shown."""
    from toolkit.archive import read_encrypted_zip

    document = next(m for m in reversed(person.inbox) if m.document)
    password = person.last.text.split("：")[1].split()[0]  # 压缩包密码：<password>
    assert document.document is not None and document.protected and person.last.protected
    [content] = read_encrypted_zip(document.document["content"], password).values()
    return content
