"""`python bot.py check` against a Bot API on 127.0.0.1 (the fake, over HTTP): one line per
check, exit status 0 only when all pass; each failure names what to fix."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sandbox.server import BotApiServer
from sandbox.telegram import FakeTelegram
from settings import Settings
from storage import migrate
from tests.test_command_line import ROOT, bot
from toolkit import checks

TOKEN = "123456:TEST-TOKEN-FOR-THE-CHECK"
HEAD = ", ".join(sorted(migrate.heads()))


async def check(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[str], str]:
    """`bot.py check ARGS` as a process of its own, the fake Bot API answering meanwhile."""
    clean = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    clean.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "check", *args, cwd=tmp_path, env=clean,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines(), err.decode()


async def test_a_ready_installation_passes_every_check(tmp_path: Path, database_url: str) -> None:
    assert bot(tmp_path, "migrate", DATABASE_URL=database_url).returncode == 0
    telegram = FakeTelegram()
    async with BotApiServer(telegram, token=TOKEN) as server:
        settings = {
            "DATABASE_URL": database_url,
            "BOT_TOKEN": TOKEN,
            "BOT_API_BASE_URL": server.base_url,
        }
        status, lines, err = await check(tmp_path, **settings)
        assert status == 0, (lines, err)
        assert [line.split(":")[0] for line in lines] == [
            "ok    settings",
            "ok    database",
            "ok    Bot API",
            "ok    webhook",
        ]
        assert lines[1].endswith(f"answers, schema at {HEAD} (current)")
        assert lines[2].endswith("the token is @CarePairingBot's (id 7000000001)")
        assert lines[3] == "ok    webhook: none set: the bot polls (0 updates waiting)"
        assert [c.method for c in telegram.calls] == ["getMe", "getWebhookInfo"]  # no change
        assert TOKEN not in "".join(lines) + err

        # A webhook left set (another deployment on the same token, say) fails the check,
        # and so does a BOT_USERNAME that is not the token's bot (invites would go astray).
        telegram.webhook = {"url": "https://other.example.org/hook/secret-path"}
        status, lines, _err = await check(tmp_path, **settings, BOT_USERNAME="@OtherBot")
        assert status == 1
        assert lines[2] == (
            "FAIL  Bot API: the token is @CarePairingBot's but BOT_USERNAME says @OtherBot: "
            "the invite links would open the wrong bot"
        )
        assert lines[3].startswith("FAIL  webhook: a webhook is set (https://other.example.org/…)")
        assert "secret-path" not in lines[3]

        # A token the Bot API refuses.
        status, lines, _err = await check(tmp_path, **{**settings, "BOT_TOKEN": "123456:WRONG"})
        assert status == 1
        assert lines[2] == f"FAIL  Bot API: {server.base_url} refused the token: check BOT_TOKEN"
        assert lines[3] == "skip  webhook: needs the Bot API"


async def test_each_failure_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'care.db'}"
    # No database yet, no token: nothing is created by looking.
    status, lines, err = await check(tmp_path, DATABASE_URL=url)
    assert status == 1 and "Traceback" not in err
    assert lines == [
        "FAIL  settings: BOT_TOKEN is not set (get one from @BotFather)",
        f"FAIL  database: no database at {tmp_path / 'care.db'}: run `python bot.py migrate`",
        "skip  Bot API: needs BOT_TOKEN",
        "skip  webhook: needs the Bot API",
    ]
    assert not (tmp_path / "care.db").exists()

    # An invalid setting; then a database nobody answers for and a Bot API nobody serves.
    status, lines, _err = await check(tmp_path, TIMEZONE="Mars/Olympus")
    assert status == 1
    assert lines == ["FAIL  settings: TIMEZONE: Value error, unknown time zone 'Mars/Olympus' "
                     "(e.g. Asia/Shanghai)"]  # fmt: skip
    status, lines, _err = await check(tmp_path, "--webhook", DATABASE_URL=url, BOT_TOKEN=TOKEN)
    assert status == 1
    assert lines[0] == "FAIL  settings: WEBHOOK_URL and WEBHOOK_SECRET: needed by --webhook"
    status, lines, _err = await check(
        tmp_path,
        DATABASE_URL="postgresql+asyncpg://care:hunter2@127.0.0.1:1/care",
        BOT_TOKEN=TOKEN,
        BOT_API_BASE_URL="http://127.0.0.1:1/bot",
    )
    assert status == 1
    assert lines[1].startswith("FAIL  database: cannot reach postgresql+asyncpg://care:***@")
    assert "hunter2" not in "".join(lines)
    assert lines[2].startswith("FAIL  Bot API: cannot reach http://127.0.0.1:1/bot: ")


async def test_an_unmigrated_database_fails_the_check(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'care.db'}"
    (tmp_path / "care.db").touch()  # an empty file: SQLite answers, no schema
    status, lines, _err = await check(tmp_path, DATABASE_URL=url, BOT_TOKEN=TOKEN,
                                      BOT_API_BASE_URL="http://127.0.0.1:1/bot")  # fmt: skip
    assert status == 1
    assert lines[1].endswith(
        f"answers but its schema is at none, the code needs {HEAD}: run `python bot.py migrate`"
    )


async def test_a_webhook_deployment_expects_its_own_url() -> None:
    """The webhook line for an installation that sets a webhook (`bot_api_results` is what
    `check` calls; polling passes "")."""
    telegram = FakeTelegram()
    wanted = "https://care.example.org/telegram/hook"
    async with BotApiServer(telegram, token=TOKEN) as server:
        settings = Settings(_env_file=None, bot_token=TOKEN, bot_api_base_url=server.base_url)

        async def webhook_line() -> str:
            results = await checks.bot_api_results(settings, webhook_url=wanted)
            assert results[0].ok
            return results[1].line()

        assert await webhook_line() == (
            "FAIL  webhook: none set: `run --webhook` sets it when it starts (is it running?)"
        )
        telegram.webhook = {"url": wanted}
        assert await webhook_line() == (
            "ok    webhook: set to https://care.example.org/… as configured (0 updates waiting)"
        )
        telegram.webhook = {"url": "https://care.example.org/old/hook"}
        assert await webhook_line() == (
            "FAIL  webhook: set to another path on https://care.example.org/… than configured"
        )
