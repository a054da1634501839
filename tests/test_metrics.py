"""The Prometheus endpoint (METRICS_PORT): scraped over HTTP while the real bot works, it
counts the updates handled and failed and the reminder runs, and reads the outbox's backlog
and the urgent reports nobody has taken from the database as they are at that moment."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func
from sqlmodel import select
from telegram.error import BadRequest

from sandbox.harness import Sandbox
from sandbox.server import BotApiServer
from sandbox.telegram import ApiError, FakeTelegram
from settings import Settings
from storage import migrate
from storage.db import make_engine
from storage.models import InboxUpdate
from tests.conftest import watch_errors
from tests.test_command_line import ROOT
from tests.test_reports import ALERT_CHAT, Cast, urgent_report
from tests.test_run_over_http import eventually

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PROCESSED, FAILED = "carebot_updates_processed_total", "carebot_updates_failed_total"
UNSENT, WAIT = "carebot_outbox_unsent", "carebot_outbox_oldest_wait_seconds"
URGENT, URGENT_AGE = "carebot_urgent_unacknowledged", "carebot_urgent_oldest_unacknowledged_seconds"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        body: bytes = answer.read()
        return body.decode()


async def scrape(port: int) -> dict[str, float]:
    """Every sample without labels, by name; from a thread, as Prometheus asks from outside."""
    body = await asyncio.to_thread(_get, port)
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if not sample.labels
    }


async def stored_updates(box: Sandbox) -> int:
    async with box.services.sessions() as session:
        return (await session.exec(select(func.count()).select_from(InboxUpdate))).one()


async def test_the_endpoint_counts_updates_and_reads_the_backlog(migrated: Settings) -> None:
    port = free_port()
    box = Sandbox(migrated.model_copy(update={"alert_chat_id": ALERT_CHAT, "metrics_port": port}))
    errors = watch_errors(box)
    async with box:
        box.services.now = lambda: NOW
        first = await scrape(port)
        assert first["carebot_database_up"] == 1
        assert (first[UNSENT], first[WAIT], first[URGENT], first[URGENT_AGE]) == (0, 0, 0, 0)

        cast = Cast(box)
        await cast.setup()
        await urgent_report(cast)
        reported = await scrape(port)
        # every update that reached the bot (the inbox stores each) was counted once
        assert reported[PROCESSED] - first[PROCESSED] == await stored_updates(box)
        assert reported[FAILED] == first[FAILED]
        assert reported[URGENT] == 1 and reported[URGENT_AGE] == 0
        assert reported[UNSENT] >= 4  # the alerts of the first round, not sent yet
        assert reported[WAIT] == 0

        box.services.now = lambda: NOW + timedelta(minutes=5)  # nobody has taken it yet
        later = await scrape(port)
        assert later[URGENT] == 1 and later[URGENT_AGE] == 300
        assert later[UNSENT] == reported[UNSENT] and later[WAIT] == 300
        await box.drain()
        await cast.sup1.press("✋ 我来处理")
        await box.drain()  # the reporter is told who took it
        taken = await scrape(port)
        assert (taken[UNSENT], taken[WAIT], taken[URGENT], taken[URGENT_AGE]) == (0, 0, 0, 0)

        # An update whose reply Telegram refuses fails: counted, and apologised for.
        box.telegram.faults[cast.volunteer.chat_id].append(
            ApiError(400, "Bad Request: chat not found")
        )
        await cast.volunteer.send("/help")
        failed = await scrape(port)
        assert failed[FAILED] == taken[FAILED] + 1
        assert failed[PROCESSED] == taken[PROCESSED] + 1
        assert [type(e) for e in errors] == [BadRequest]
        errors.clear()

        # A run of the reminder job, as the job queue starts it, is timed.
        assert box.application.job_queue is not None
        [reminders] = box.application.job_queue.get_jobs_by_name("reminders")
        await reminders.run(box.application)
        timed = await scrape(port)
        runs = "carebot_reminder_run_seconds_count"
        assert timed[runs] == failed[runs] + 1
        assert timed["carebot_reminder_last_success_timestamp_seconds"] > 0
    assert errors == []


async def test_run_serves_metrics_when_a_port_is_set(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'care.db'}"
    engine = make_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    telegram = FakeTelegram()
    port = free_port()
    async with BotApiServer(telegram) as server:
        env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
        env.update(
            DATABASE_URL=url,
            BOT_TOKEN="123456:TEST-TOKEN",
            BOT_API_BASE_URL=server.base_url,
            METRICS_PORT=str(port),
        )

        async def run() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), "run", cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip

        process = await run()
        try:
            await eventually(lambda: any(c.method == "getUpdates" for c in telegram.calls))
            before = await scrape(port)
            assert before["carebot_database_up"] == 1
            assert before["process_resident_memory_bytes"] > 0  # the process's own figures
            update_id = telegram.next_update_id()
            telegram.push({"update_id": update_id, "message": {
                "message_id": 1, "date": 0, "text": "/start",
                "chat": {"id": 4242, "type": "private"},
                "from": {"id": 4242, "is_bot": False, "first_name": "Guest"},
            }})  # fmt: skip
            await eventually(lambda: bool(telegram.chats[4242]))
            # counted once the handler has returned, which is just after its reply went out
            after = await scrape(port)
            for _ in range(100):
                if after[PROCESSED] > before[PROCESSED]:
                    break
                await asyncio.sleep(0.1)
                after = await scrape(port)
            assert after[PROCESSED] == before[PROCESSED] + 1

            # A second process on the same port (and another database): one clear line.
            env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
            engine = make_engine(env["DATABASE_URL"])
            await migrate.upgrade(engine)
            await engine.dispose()
            second = await run()
            _out, err = await asyncio.wait_for(second.communicate(), 60)
            assert second.returncode == 2
            assert (
                err.decode()
                .splitlines()[-1]
                .startswith(f"METRICS_PORT: cannot listen on 127.0.0.1:{port}: ")
            )
        finally:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0
