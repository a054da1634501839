"""`bot.py backup` copies the SQLite database while the bot runs and writes go on, each copy
whole and consistent; `bot.py restore` puts one back only with the bot stopped, and only a
database of this bot; on PostgreSQL both point to pg_dump and point-in-time recovery."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

import bot
from sandbox.server import BotApiServer
from sandbox.telegram import FakeTelegram
from storage import instance, migrate
from storage.db import make_engine
from tests.test_command_line import ROOT
from tests.test_logs import restore_logging  # noqa: F401  (a fixture: bot.main sets up logging)
from tests.test_run_over_http import eventually
from tests.test_single_instance import start

BATCH = 50  # the writer's rows per transaction: a consistent copy holds a multiple of it
HEAD = ", ".join(sorted(migrate.heads()))


async def cli(tmp_path: Path, *args: str, url: str) -> tuple[int, str, str]:
    """`bot.py ARGS` as a process of its own, the test's event loop going on meanwhile."""
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("PATH", "HOME")}
    env["DATABASE_URL"] = url
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), *args, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


class Writer(threading.Thread):
    """Writes audit rows in transactions of BATCH, as fast as SQLite lets it, until stopped."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database, self.commits, self.errors = database, 0, list[BaseException]()
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            with closing(sqlite3.connect(self.database, timeout=5, isolation_level=None)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                while not self.stopping.is_set():
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(
                        "INSERT INTO audit_log (at, action, subject, detail) "
                        "VALUES ('2026-11-23 02:00:00.000000', 'load', 'test', ?)",
                        [("x" * 100,)] * BATCH,
                    )
                    db.execute("COMMIT")
                    self.commits += 1
                    time.sleep(0.01)  # leave the machine's two cores to the bot and the backup
        except BaseException as exc:  # the test asserts there were none
            self.errors.append(exc)


def loads(file: Path) -> int:
    with closing(sqlite3.connect(file)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
        (found,) = db.execute("SELECT count(*) FROM audit_log WHERE action = 'load'").fetchone()
        return int(found)


async def test_backup_while_the_bot_runs_and_writes_go_on_then_restore(tmp_path: Path) -> None:
    database = tmp_path / "care.db"
    url = f"sqlite+aiosqlite:///{database}"
    engine = make_engine(url)
    await migrate.upgrade(engine)
    with closing(sqlite3.connect(database)) as db, db:  # 10 MB and more: a copy takes a while
        db.executemany(
            "INSERT INTO audit_log (at, action, subject, detail) "
            "VALUES ('2026-11-23 02:00:00.000000', 'load', 'test', ?)",
            [("y" * 400,)] * (400 * BATCH),
        )
    telegram = FakeTelegram()
    async with BotApiServer(telegram) as server:
        running = await start(tmp_path, url, server)
        writer = Writer(database)
        try:
            await eventually(lambda: any(c.method == "getUpdates" for c in telegram.calls))
            writer.start()
            await eventually(lambda: writer.commits > 0)
            counts = []
            for n in range(2):
                before = writer.commits
                status, out, err = await cli(tmp_path, "backup", f"b{n}.db", url=url)
                assert status == 0, err
                assert out.startswith(f"backup written: b{n}.db (")
                assert writer.commits > before  # the writer was not held up by the copy
                counts.append(loads(tmp_path / f"b{n}.db"))
                assert (tmp_path / f"b{n}.db").stat().st_mode & 0o777 == 0o600  # children's data
            assert all(c % BATCH == 0 for c in counts), counts  # never half a transaction
            assert counts == sorted(counts) and counts[0] < counts[-1]
            assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]

            # The bot runs: a restore is refused, the database left as it is.
            writer.stopping.set()
            writer.join()
            final = loads(database)
            status, _out, err = await cli(tmp_path, "restore", "b0.db", url=url)
            assert status == 2
            assert err.strip() == "the bot is running on this database: stop it first; " \
                "nothing restored"  # fmt: skip
            assert loads(database) == final
        finally:
            writer.stopping.set()
            running.send_signal(signal.SIGINT)
            await asyncio.wait_for(running.communicate(), 30)
        assert writer.errors == []

    status, out, err = await cli(tmp_path, "restore", "b0.db", url=url)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == f"restored b0.db (schema {HEAD}) into {database}"
    kept = Path(lines[1].removeprefix("the database as it was is kept at "))
    assert kept.parent == tmp_path and kept.name.startswith("care.db.before-restore-")
    assert os.stat(kept).st_mode & 0o777 == 0o600
    assert loads(database) == counts[0]
    assert loads(kept) == final
    assert await migrate.is_current(engine)  # the bot's own engine takes it
    await engine.dispose()


@pytest.mark.usefixtures("restore_logging")
def test_restore_takes_only_a_database_of_this_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "care.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert bot.main(["migrate"]) == 0
    assert bot.main(["backup", "good.db"]) == 0
    assert bot.main(["backup", "good.db"]) == 2  # a backup is never overwritten
    assert "good.db exists already; choose a new name" in capsys.readouterr().err
    before = database.read_bytes()

    (tmp_path / "text.db").write_text("名单\n")
    with closing(sqlite3.connect(tmp_path / "other.db")) as db:
        db.execute("CREATE TABLE person (id INTEGER)")
    (tmp_path / "stranger.db").write_bytes((tmp_path / "good.db").read_bytes())
    with closing(sqlite3.connect(tmp_path / "stranger.db")) as db, db:
        db.execute("UPDATE alembic_version SET version_num = 'f00d'")
    capsys.readouterr()
    for file, reason in (
        ("text.db", "not an SQLite database"),
        ("other.db", "not a database of this bot (its tables are missing)"),
        ("stranger.db", "schema revision 'f00d' is not one of this bot's migrations"),
        ("missing.db", None),
    ):
        assert bot.main(["restore", file]) == 2
        err = capsys.readouterr().err
        if reason is None:
            assert err == "no such file: missing.db\n"
        else:
            assert err.startswith(f"{file}: {reason}") and err.endswith("; nothing restored\n")
    assert database.read_bytes() == before

    # Another process holding the instance lock (a bot starting up): refused as well.
    async def hold() -> instance.Claim | None:
        engine = make_engine(f"sqlite+aiosqlite:///{database}")
        try:
            return await instance.claim(engine)
        finally:
            await engine.dispose()

    claim = asyncio.run(hold())
    assert claim is not None
    try:
        assert bot.main(["restore", "good.db"]) == 2
        assert "stop it first" in capsys.readouterr().err
    finally:
        asyncio.run(claim.release())
    assert bot.main(["restore", "good.db"]) == 0


@pytest.mark.usefixtures("restore_logging")
def test_postgresql_backups_point_to_its_own_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://care@127.0.0.1:1/care")
    for command in (["backup", "x.dump"], ["restore", "x.dump"]):
        (tmp_path / "x.dump").touch()
        assert bot.main(command) == 2
        err = capsys.readouterr().err
        assert "pg_dump" in err and "point-in-time recovery" in err and "Operations" in err
