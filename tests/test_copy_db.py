"""`bot.py copy-db --to URL` moves a SQLite deployment into an empty database: every row of
every table, equal on both sides; the bot then runs on the target and adds rows after the
copied ones (PostgreSQL's sequences moved on); a non-empty target and a running bot are
refused. On PostgreSQL (TEST_DATABASE_URL) the target is a database of the test's own."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from care.roles import Role
from sandbox.harness import Sandbox
from settings import Settings
from storage import copydb, instance, migrate
from storage.db import make_engine
from storage.models import Person
from tests.conftest import register, watch_errors
from tests.test_command_line import ROOT
from tests.test_reports import ALERT_CHAT, Cast, urgent_report

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TARGETS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=TARGETS)
async def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database to copy into. On PostgreSQL one of this test's own, created and
    dropped here: other tests may be using the `test` database meanwhile."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
        return
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"copydb_test_{secrets.token_hex(4)}"
    admin = create_async_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def copy_db(tmp_path: Path, source: str, target: str) -> tuple[int, list[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    env["DATABASE_URL"] = source
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "copy-db", "--to", target, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines(), err.decode()


async def every_row(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    async with engine.connect() as connection:
        return {
            table.name: [
                dict(row._mapping)
                for row in await connection.execute(
                    select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in copydb.tables()
        }


async def a_county_at_work(settings: Settings) -> None:
    """Areas, people, the ledger's children, a pairing, an urgent report with its alerts
    (some sent, one answered), flows and the inbox: written by the bot itself."""
    box = Sandbox(settings.model_copy(update={"alert_chat_id": ALERT_CHAT}))
    errors = watch_errors(box)
    async with box:
        box.services.now = lambda: NOW
        cast = Cast(box)
        await cast.setup()
        await urgent_report(cast)
        await box.drain()
        await cast.sup1.press("✋ 我来处理")
        await cast.volunteer.send("/checkin")  # left half done: a flow in progress
    assert errors == []


async def test_copy_db_moves_every_row_and_the_bot_goes_on_there(
    tmp_path: Path, target_url: str
) -> None:
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'care.db'}"
    settings = Settings(_env_file=None, database_url=source_url, bot_token=None)
    source = make_engine(source_url)
    await migrate.upgrade(source)
    await a_county_at_work(settings)

    status, lines, err = await copy_db(tmp_path, source_url, target_url)
    assert status == 0, err
    tables = [t.name for t in copydb.tables()]
    assert [line.split(":")[0] for line in lines[: len(tables)]] == [f"copied {t}" for t in tables]
    header, *counted, last = lines[len(tables) :]
    assert header.split() == ["table", "source", "target"]
    assert len(counted) == len(tables)
    for line in counted:
        _name, source_count, target_count = line.split()
        assert source_count == target_count
    assert last.startswith(f"all {len(tables)} tables copied and counted in ")
    assert "MISMATCH" not in "\n".join(lines)

    target = make_engine(target_url)
    try:
        before, after = await every_row(source), await every_row(target)
        assert before == after
        assert sum(map(len, before.values())) > 100
        assert not [t for t in ("area", "person", "child", "pairing", "hazard_case", "outbox",
                                "user_state", "inbox", "audit_log") if not before[t]]  # fmt: skip
        assert await migrate.is_current(target)

        # The bot runs on the target: a new person and a second report get new ids.
        moved = settings.model_copy(update={"database_url": target_url})
        box = Sandbox(moved)
        errors = watch_errors(box)
        async with box:
            box.services.now = lambda: NOW
            newcomer = await register(
                box, Role.VOLUNTEER, "示范县/城关镇/东村", user_id=1399, name="新来的"
            )
            assert "注册完成" in newcomer.last.text
        assert errors == []
        async with target.connect() as connection:
            newest = await connection.scalar(select(func.max(Person.id)))
        assert newest == max(row["id"] for row in before["person"]) + 1

        # A target with rows is refused, and so is a copy while the bot runs.
        status, _lines, err = await copy_db(tmp_path, source_url, target_url)
        assert status == 2
        # (the first table with rows, in the order of the tables: applied_setting, then area…)
        assert err.splitlines()[-1].startswith("the target is not empty (table applied_setting")
        claim = await instance.claim(source)
        assert claim is not None
        try:
            status, _lines, err = await copy_db(
                tmp_path, source_url, f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
            )
        finally:
            await claim.release()
        assert status == 2
        assert err.splitlines()[-1] == (
            "the bot is running on this database: stop it first; nothing copied"
        )
    finally:
        await target.dispose()
        await source.dispose()
