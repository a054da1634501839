"""The log: LOG_LEVEL and LOG_FORMAT, and no personal data in it at DEBUG. The real flows (a
ledger import, an invite, a registration, a check-in, an urgent report) run through the
sandbox with the log set up as `bot.py` sets it up, and none of the seeded names, ID numbers,
phone numbers, invite codes, typed words or the token shows up in what it wrote."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from telegram import Update

from care.roles import Role
from sandbox.harness import Sandbox
from sandbox.people import SimPerson
from sandbox.server import BotApiServer
from sandbox.telegram import JSON, FakeTelegram
from settings import Settings, SettingsError, load_settings
from tests.conftest import FIXTURES, child_id, make_invite, pair_directly, watch_errors
from tests.test_command_line import ROOT, bot
from tests.test_run_over_http import eventually
from toolkit import logs

TOKEN = "7412589630:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw7"  # shaped like a real one
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
EAST = "示范县/城关镇/东村"
ALERT_CHAT = -100999
# What the people of the flows below type or are called (the ledger's data is read from it)
TYPED = {"县管理员", "管理员阿强", "王芳", "芳芳", "感冒发烧两天", "想要一个书包",
         "奶奶住院了，孩子一个人在家三天"}  # fmt: skip


def ledger_secrets() -> set[str]:
    """Every name, ID number and phone number of the sample ledger."""
    text = (FIXTURES / "ledger-sample.csv").read_text(encoding="utf-8-sig")
    found: set[str] = set()
    for row in csv.DictReader(io.StringIO(text)):
        found |= {row["姓名"], row["身份证号"], row["监护人姓名"], row["监护人电话"]}
    found.discard("")
    assert len(found) > 100  # 40 children, their guardians' names and phones
    return found


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The root logger and the quieted libraries as they were before the test."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *logs.QUIET)}
    handlers, filters = list(root.handlers), {h: list(h.filters) for h in root.handlers}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    for handler, before in filters.items():
        handler.filters[:] = before
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_nothing_personal_in_the_debug_log(migrated: Settings, restore_logging: None) -> None:
    settings = migrated.model_copy(
        update={"bot_token": SecretStr(TOKEN), "log_level": "DEBUG", "alert_chat_id": ALERT_CHAT}
    )
    stream = io.StringIO()
    logs.setup(settings, stream=stream)
    box = Sandbox(settings)
    errors = watch_errors(box)
    codes: list[str] = []
    async with box:
        box.services.now = lambda: NOW

        async def through_the_queue(update: JSON) -> None:
            # As long polling delivers: PTB's update fetcher logs each update it processes.
            await box.application.update_queue.put(Update.de_json(update, box.application.bot))
            await box.application.update_queue.join()

        # An admin registers by the operator's invite...
        codes.append(await make_invite(box, Role.ADMIN, "示范县"))
        admin = box.person(900, "管理员阿强")
        await admin.send(f"/start {codes[0]}")
        await admin.press("中文")
        await admin.send("县管理员")
        await admin.press("男")
        # ...imports the ledger from the chat...
        await admin.send_document(
            "ledger-sample.xlsx", (FIXTURES / "ledger-sample.xlsx").read_bytes()
        )
        await admin.press("✅ 确认导入")
        assert "导入完成：新增 40 名" in admin.last.text
        # ...and invites a volunteer, who registers through PTB's own update queue.
        await admin.send("/invite")
        for label in ("结对志愿者", "📂 城关镇", "📂 东村", "✅ 选择：东村"):
            await admin.press(label)
        link = next(w for w in admin.last.text.split() if w.startswith("https://t.me/"))
        codes.append(link.rsplit("=", 1)[1])
        volunteer = SimPerson(box.telegram, through_the_queue, user_id=1300, first_name="芳芳")
        await volunteer.send(f"/start {codes[1]}")
        await volunteer.press("中文")
        await volunteer.send("王芳")
        await volunteer.press("女")
        assert "注册完成" in volunteer.last.text
        # A check-in with typed answers...
        await pair_directly(box, await child_id(box, "熊子"), 1300)
        await volunteer.send("/checkin")
        for step in ("今天", "入户走访", "有小病或不适", "感冒发烧两天", "情绪良好", "正常上学",
                     "照料良好", "本月与父母有联系", "☐ 防溺水", "✅ 选好了", "想要一个书包",
                     "跳过", "✅ 确认保存"):  # fmt: skip
            if any(step == label for label, _ in volunteer.last.buttons):
                await volunteer.press(step)
            else:
                await volunteer.send(step)
        assert "走访已记录" in volunteer.last.text
        # ...and an urgent report, whose alerts go out.
        await volunteer.send("/urgent")
        await volunteer.press("脱离监护单独居住")
        await volunteer.press("熊子")
        await volunteer.send("奶奶住院了，孩子一个人在家三天")
        await volunteer.press("✅ 确认保存")
        assert "紧急报告已送达" in volunteer.last.text
        await box.drain()
        assert box.telegram.chats[ALERT_CHAT]
    assert errors == []

    log = stream.getvalue()
    # The log is there, at DEBUG, with python-telegram-bot's lines in their payload-free form.
    assert re.search(r" DEBUG telegram\.ext\.Application: Processing update \d+$", log, re.M)
    assert "Calling Bot API endpoint `sendMessage` with parameters `<dict>`" in log
    assert "Call to Bot API endpoint `getFile` finished with return value `<dict>`" in log
    assert "Set Bot API URL: https://api.telegram.org/bot[token]" in log
    leaked = sorted(s for s in ledger_secrets() | TYPED | {*codes, TOKEN} if s in log)
    assert leaked == []


def test_patterns_mask_ids_phones_codes_and_tokens() -> None:
    line = (
        "id 32099920131215788X and 320999201312157880, mobiles 13566537775, +86 139-1234-5678,"
        " 8618589268179, landlines 0571-87654321, (010) 12345678, 075512345678,"
        " code aB3_-x9QrT7uVw2yZ0kLmN4p, url /bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw7/getMe"
    )
    assert logs.mask(line) == (
        "id [id number] and [id number], mobiles [phone], [phone],"
        " [phone], landlines [phone], [phone], [phone],"
        " code [invite code], url /bot[token]/getMe"
    )
    # what the log needs stays: update, chat and message ids, times, counts, snake_case words
    kept = ("update 871234567 of chat -1001234567890 message 4711 at 2026-11-23 10:00:00,123"
            " took 0.0123 s; 12345678901234567890 rows; persistence_flush_write")  # fmt: skip
    assert logs.mask(kept) == kept
    assert logs.mask("token 42:short-sandbox-token", ["42:short-sandbox-token"]) == "token [token]"


def test_json_lines_with_extra_fields_and_masked_exceptions(restore_logging: None) -> None:
    settings = Settings(_env_file=None, log_level="info", log_format="JSON")
    assert (settings.log_level, settings.log_format) == ("INFO", "json")
    stream = io.StringIO()
    logs.setup(settings, stream=stream)
    log = logging.getLogger("carebot.test")
    log.debug("below the level: not written")
    log.info("update %s: %s", 17, {"text": "王芳 13566537775"}, extra={"update_id": 17})
    try:
        raise ValueError("guardian phone 13566537775, ID 320999201312157880")
    except ValueError:
        log.exception("failed on the ledger row")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot1:x/getMe")

    class Step:
        def __str__(self) -> str:
            return "upgrade a1 -> b2, children"

    log.info("an object: %s", Step())  # only its type: its text may hold a record's fields
    logging.getLogger("alembic.runtime.migration").info("Running %s", Step())
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("INFO", "carebot.test", "update 17: <dict>"),
        ("ERROR", "carebot.test", "failed on the ledger row"),
        ("INFO", "carebot.test", "an object: <Step>"),
        ("INFO", "alembic.runtime.migration", "Running upgrade a1 -> b2, children"),
    ]
    assert lines[0]["update_id"] == 17 and lines[0]["time"].endswith("+00:00")
    assert "ValueError: guardian phone [phone], ID [id number]" in lines[1]["exception"]
    assert "13566537775" not in stream.getvalue()


def test_invalid_log_settings_are_one_clear_line() -> None:
    for name, value in (("log_level", "LOUD"), ("log_format", "xml")):
        with pytest.raises(SettingsError, match=f"^{name.upper()}: "):
            load_settings(_env_file=None, **{name: value})


async def test_run_at_debug_in_json_over_http(tmp_path: Path) -> None:
    """`bot.py run` at DEBUG in JSON, its real HTTP client and long polling: every line an
    object, and no name, invite code or token among them."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    assert bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0
    invite = bot(tmp_path, "invite", "--role", "volunteer", "--area", EAST, DATABASE_URL=url,
                 LOG_LEVEL="DEBUG")  # fmt: skip
    code = next(line[6:] for line in invite.stdout.splitlines() if line.startswith("code: "))
    assert code not in invite.stderr and "DEBUG" in invite.stderr

    telegram = FakeTelegram()

    async def queue(update: JSON) -> None:
        telegram.push(update)

    async with BotApiServer(telegram) as server:
        env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
        env.update(
            DATABASE_URL=url, BOT_TOKEN=TOKEN, LOG_LEVEL="debug", LOG_FORMAT="json",
            BOT_API_BASE_URL=server.base_url,
            BOT_API_FILE_URL=f"http://127.0.0.1:{server.port}/file/bot",
        )  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            person = SimPerson(telegram, queue, user_id=9001, first_name="芳芳")
            await person.send(f"/start {code}")
            await eventually(lambda: any(m.buttons for m in person.inbox))
            await person.press("中文")
            await eventually(lambda: "请输入您的姓名" in person.last.text)
            await person.send("王芳")
            await eventually(lambda: "性别" in person.last.text)
            await person.press("女")
            await eventually(lambda: "注册完成" in person.last.text)
        finally:
            process.send_signal(signal.SIGINT)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    entries = [json.loads(line) for line in err.decode().splitlines()]
    assert {e["level"] for e in entries} >= {"DEBUG", "INFO"}
    assert any(re.fullmatch(r"Processing update \d+", e["message"]) for e in entries)
    assert not any(e["logger"].startswith(logs.QUIET) for e in entries)  # no request lines
    text = err.decode()
    for secret in (code, TOKEN, TOKEN.split(":")[1], "王芳", "芳芳"):
        assert secret not in text
