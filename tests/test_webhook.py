"""`python bot.py run --webhook`: the real process takes updates by webhook, the secret token
checked on every request, each update stored in the inbox before the 200 answer."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import httpx

from sandbox.people import SimPerson
from sandbox.server import BotApiServer
from sandbox.telegram import JSON, FakeTelegram
from tests.test_command_line import ROOT, bot
from tests.test_run_over_http import eventually

SECRET = "s3cret-token_1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_updates_come_by_webhook_with_the_secret(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    assert bot(tmp_path, "migrate", DATABASE_URL=url).returncode == 0
    invite = bot(
        tmp_path, "invite", "--role", "volunteer", "--area", "示范县/城关镇/东村", DATABASE_URL=url
    )
    code = next(line[6:] for line in invite.stdout.splitlines() if line.startswith("code: "))
    telegram, port = FakeTelegram(), free_port()
    hook = f"http://127.0.0.1:{port}/telegram"
    answers: list[int] = []

    async with BotApiServer(telegram) as server, httpx.AsyncClient() as client:

        async def post(update: JSON, secret: str = SECRET) -> None:
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            answers.append((await client.post(hook, json=update, headers=headers)).status_code)

        env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
        env.update(
            DATABASE_URL=url, BOT_TOKEN="123456:TEST-TOKEN", BOT_API_BASE_URL=server.base_url,
            BOT_API_FILE_URL=f"http://127.0.0.1:{server.port}/file/bot",
            WEBHOOK_URL="https://bot.example.org/telegram", WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET=SECRET,
        )  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), "run", "--webhook", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await eventually(lambda: telegram.webhook.get("secret_token") == SECRET)
            assert telegram.webhook["url"] == "https://bot.example.org/telegram"
            stranger = SimPerson(telegram, lambda u: post(u, "wrong"), user_id=9002,
                                 first_name="X")  # fmt: skip
            for _ in range(50):  # the server may still be starting
                try:
                    await stranger.send("/help")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            assert answers[-1] == 403
            person = SimPerson(telegram, post, user_id=9001, first_name="Fang")
            await person.send(f"/start {code}")
            assert answers[-1] == 200
            await eventually(lambda: any(m.buttons for m in person.inbox))
            assert telegram.chats[9002] == []  # the forged request reached nobody
        finally:
            process.send_signal(signal.SIGINT)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
    with sqlite3.connect(tmp_path / "run.db") as db:
        stored = db.execute("SELECT update_id, done_at IS NOT NULL FROM inbox").fetchall()
    assert stored == [(person.last_update["update_id"], 1)]
