"""Care-pairing bot (结对帮扶): entry point and command line.

python bot.py run            poll Telegram (or BOT_API_BASE_URL) for updates
python bot.py migrate        create or upgrade the database schema
python bot.py invite --role admin --area 示范县
python bot.py simulate       chat with the bot in the terminal, on demo data
python bot.py check          settings, database, Bot API and webhook, one line each
python bot.py backup FILE    a consistent copy of the SQLite database, while the bot runs
python bot.py restore FILE   put a backup back (the bot stopped)
python bot.py copy-db --to postgresql+asyncpg://user@host/db   move to PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import logging
import pkgutil
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import ApplicationBuilder, BaseHandler, ContextTypes, Defaults, TypeHandler
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

import conversations
import handlers
from care.ledger import file_too_big
from care.roles import AreaPathError, Role
from locales import Translator, locale_for, preload
from service import follow, invites, ledger
from service.services import Services
from settings import Settings, SettingsError, load_settings
from storage import backup, copydb, instance, migrate, outbox
from storage.db import make_engine, make_sessions
from toolkit import checks, logs, metrics
from toolkit.context import BotApplication, BotContext
from toolkit.errors import on_error
from toolkit.groupcommit import GroupCommit
from toolkit.guard import PERSIST_GROUP, identify, persist
from toolkit.inbox import Inbox, InboxQueue
from toolkit.ledger_report import describe, refusal, summary
from toolkit.limiter import Limiter
from toolkit.menus import set_default_menu
from toolkit.persistence import DbPersistence, UserData
from toolkit.processor import PerChatProcessor
from workers import jobs
from workers.sender import Sender

log = logging.getLogger("carebot")
# Each update is offered to the handlers in this order until one takes it: the reports first
# (they may interrupt any other flow, and while they run they take the person's input), the
# check-in next (the flow people use most), then every other flow, then the one-step commands,
# and the catch-alls last.
FIRST = ("conversations.report", "conversations.checkin")
LAST = ("handlers.basic",)
# `import` exits with this when it rejected rows (the accepted ones are written, unless a dry
# run); 1 is a file refused whole, 2 a usage or configuration error.
IMPORT_REJECTED_ROWS = 3

# Our conversations mix buttons and typed answers, so they key on (chat, user), not on the
# message; PTB warns about that combination, which is intended here.
warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)


STANDBY_POLL = 3.0  # seconds between a standby's looks at the lock: takes over within 10 s
CLAIM_CHECK = 2.0  # seconds between the active instance's checks that it still holds it


class NotMigrated(RuntimeError):
    """The database schema is older than the code (run `python bot.py migrate`)."""


class AnotherInstance(RuntimeError):
    """Another instance of the bot is running on the same database."""


def build_update_processor(inbox: Inbox | None = None) -> PerChatProcessor:
    return PerChatProcessor(max_concurrent_updates=64, inbox=inbox)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    services: Services | None = None,
    exclusive: bool = False,
    limiter: Limiter | None = None,
) -> BotApplication:
    """The whole bot: handlers, conversations and services. `request` swaps the transport
    (the sandbox's fake Bot API in tests, simulate and benchmarks). `exclusive`: this is the
    one active instance on its database (`run`); it refuses to start beside another."""
    if services is None:
        engine = make_engine(settings.database_url)
        services = Services(settings=settings, engine=engine, sessions=make_sessions(engine))
    writer = GroupCommit(services.engine)  # the inbox's and the flows' frequent small writes
    inbox = Inbox(services.engine, writer)
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value() if settings.bot_token else "0:sandbox")
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_api_file_url)
        .context_types(ContextTypes(context=BotContext, user_data=UserData))
        .concurrent_updates(build_update_processor(inbox))
        .update_queue(InboxQueue(inbox))
        .rate_limiter(limiter or Limiter())
        # Children's data must not be forwarded or saved from a phone: every message is
        # protected, except the invite link, which is made to be forwarded.
        .defaults(Defaults(protect_content=True))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    builder = builder.persistence(DbPersistence(services.engine, writer))
    application = builder.build()
    application.bot_data["services"] = services
    application.bot_data["inbox"] = inbox
    application.bot_data["exclusive"] = exclusive
    add_handlers(application)
    return application


def chat_modules() -> list[ModuleType]:
    """Every module of conversations/ and handlers/: each declares its commands and returns
    its handlers from `handlers()`, so a new one needs no line here."""
    names = [
        f"{package.__name__}.{found.name}"
        for package in (conversations, handlers)
        for found in pkgutil.iter_modules(package.__path__)
    ]
    ordered = [*FIRST, *(n for n in names if n not in FIRST and n not in LAST), *LAST]
    return [importlib.import_module(name) for name in ordered]


def add_handlers(application: BotApplication) -> None:
    application.add_handler(TypeHandler(Update, identify), group=-1)
    every: list[BaseHandler[Any, Any, Any]] = []
    for module in chat_modules():
        every += module.handlers()
    application.add_handlers(every)
    application.add_handler(TypeHandler(Update, persist), group=PERSIST_GROUP)
    application.add_error_handler(on_error)


async def _post_init(application: BotApplication) -> None:
    services: Services = application.bot_data["services"]
    if not await migrate.is_current(services.engine):
        raise NotMigrated
    claim: instance.Claim | None = None
    if application.bot_data["exclusive"]:
        claim = await instance.claim(services.engine)
        if claim is None:
            raise AnotherInstance
        application.bot_data["claim"] = claim
    # Once the claim is ours (an instance that is not active never takes the port), and
    # before anything that a port already taken would leave running.
    settings = services.settings
    if settings.metrics_port:
        application.bot_data["metrics"] = metrics.start(
            services, settings.metrics_host, settings.metrics_port
        )
    if claim is not None:
        # Not application.create_task: stopping the application would wait for this loop.
        keeper = asyncio.get_running_loop().create_task(_keep_claim(application, claim))
        application.bot_data["claim_keeper"] = keeper
        # The only instance now: messages leased by one that died are ours to send at once.
        async with services.sessions.begin() as session:
            await outbox.release_leases(session)
    await follow.apply_visit_rule(services)  # intervals changed: due dates follow
    await set_default_menu(application.bot, services.translator())
    sender = application.bot_data["sender"] = Sender(application)
    if services.background:
        sender.start()
    await _take_up_inbox(application, services)
    jobs.schedule(application)
    preload(services.settings.tz)
    # What starting made (libraries, catalogs, handlers: some 150,000 objects) lives as long as
    # the process: out of the collector's sight, a full collection no longer walks it all,
    # which stopped the event loop for over 100 ms each time.
    gc.collect()
    gc.freeze()


async def _keep_claim(application: BotApplication, claim: instance.Claim) -> None:
    """An instance that loses its claim (PostgreSQL: its lock's connection) stops at once: a
    standby may be taking over already. It exits with status 3, for its supervisor to start
    it again (as a standby)."""
    while True:  # polled: nothing tells of a connection gone but using it
        if not await claim.holds():
            break
        await asyncio.sleep(CLAIM_CHECK)
    log.error("lost the claim of being the active instance: stopping")
    application.bot_data["lost_claim"] = True
    application.stop_running()


async def _take_up_inbox(application: BotApplication, services: Services) -> None:
    """Updates a crash interrupted go first, before anything new is fetched; and from now on,
    people whose message waits for the database are told."""
    queue = application.update_queue
    assert isinstance(queue, InboxQueue)
    queue.bot = application.bot

    def waiting(update: Update) -> str:
        user = update.effective_user
        locale = locale_for(user.language_code if user else None, services.settings.default_locale)
        t = services.translator(locale)
        return t("inbox.waiting")

    queue.waiting_text = waiting
    interrupted = await queue.inbox.load(application.bot)
    for update in interrupted:
        await queue.put_stored(update)
    if interrupted:
        log.info("%d updates interrupted by a stop are handled again", len(interrupted))


async def _post_stop(application: BotApplication) -> None:
    """Every update is handled by now; the bot's HTTP client is still open."""
    keeper = application.bot_data.pop("claim_keeper", None)
    if keeper is not None:
        keeper.cancel()
    sender = application.bot_data.get("sender")
    if sender is not None:
        await sender.stop()
    await application.bot_data["inbox"].writer.now()


async def _post_shutdown(application: BotApplication) -> None:
    services: Services = application.bot_data["services"]
    endpoint: metrics.Endpoint | None = application.bot_data.pop("metrics", None)
    if endpoint is not None:
        await endpoint.stop()
    claim = application.bot_data.pop("claim", None)
    if claim is not None:  # last: the persistence and the sender have written what they had
        await claim.release()
    await services.engine.dispose()


# -- command line ----------------------------------------------------------------------------


async def create_invite(settings: Settings, role: Role, area_path: str) -> invites.Issued:
    """Creates the area path if missing and an invite for it (the server's operator)."""
    await ensure_migrated(settings)
    engine = make_engine(settings.database_url)
    try:
        services = Services(settings=settings, engine=engine, sessions=make_sessions(engine))
        return await invites.issue(services, role=role, issuer=None, area_path=area_path)
    finally:
        await engine.dispose()


async def import_ledger(settings: Settings, file: Path, dry_run: bool, area: str | None) -> int:
    """`import FILE`: the same use cases as an import from chat (a dry run, then one
    transaction), as the server's operator: no area restriction unless `area` is given.
    Exits 1 for a file refused whole, IMPORT_REJECTED_ROWS when rows were rejected."""
    await ensure_migrated(settings)
    t = Translator(settings.default_locale, settings.tz)
    limits = settings.sheet_limits
    if (await asyncio.to_thread(file.stat)).st_size > limits.max_file_bytes:  # not read at all
        print(describe(file_too_big(limits), t))
        return 1
    data = await asyncio.to_thread(file.read_bytes)
    engine = make_engine(settings.database_url)
    try:
        services = Services(settings=settings, engine=engine, sessions=make_sessions(engine))
        planned = await ledger.plan_import(services, None, data, area_path=area)
        if planned.unreadable:  # too large, not a ledger: one line says why
            print(refusal(planned.plan, t))
            return 1
        print(summary(planned.plan, t, file_name=file.name, limit=None))
        rejected = planned.plan.rejected
        if dry_run or planned.plan.writes == 0:
            print(t("ledger.nothing_written"))
        else:
            written = await ledger.apply_import(services, None, planned)
            rejected = written.rejected
            print(t.n("ledger.done", written.rejected, create=len(written.create),
                      update=len(written.update), rejected=written.rejected))  # fmt: skip
            if written.close:
                print(t.n("ledger.closed", len(written.close), count=len(written.close)))
    finally:
        await engine.dispose()
    # Rows rejected: the accepted ones are written all the same, and a script is told.
    return IMPORT_REJECTED_ROWS if rejected else 0


async def export_ledger(settings: Settings, file: Path, area: str) -> int:
    """`export FILE --area PATH`: the same use case as `/export` in chat."""
    await ensure_migrated(settings)
    engine = make_engine(settings.database_url)
    try:
        services = Services(settings=settings, engine=engine, sessions=make_sessions(engine))
        data = await ledger.export(services, None, area.strip("/"))
    finally:
        await engine.dispose()
    await asyncio.to_thread(file.write_bytes, data)
    print(f"{file}: {len(data)} bytes")
    return 0


async def ensure_migrated(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        if not await migrate.is_current(engine):
            raise NotMigrated
    finally:
        await engine.dispose()


async def run_migrations(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="take updates by webhook (WEBHOOK_*)")
    run.add_argument(
        "--standby", action="store_true",
        help="PostgreSQL: wait while another instance is active, then take over",
    )  # fmt: skip
    commands.add_parser("migrate", help="create or upgrade the database schema")
    inv = commands.add_parser("invite", help="create a single-use invite link")
    inv.add_argument("--role", required=True, choices=[r.value for r in Role])
    inv.add_argument("--area", required=True, help="area path, e.g. 示范县/城关镇/东村")
    imp = commands.add_parser(
        "import", help="import a ledger (台账), .xlsx or .csv",
        epilog=f"exit status: 0 every row accepted, 1 the file refused, {IMPORT_REJECTED_ROWS} "
        "rows rejected (the accepted ones are written all the same, unless --dry-run)",
    )  # fmt: skip
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    imp.add_argument("--area", help="reject rows outside this area path")
    exp = commands.add_parser("export", help="export an area's ledger as .xlsx")
    exp.add_argument("file")
    exp.add_argument("--area", required=True, help="area path, e.g. 示范县/城关镇")
    sim = commands.add_parser("simulate", help="chat with the bot in the terminal (demo data)")
    sim.add_argument("--database", default="data/simulate.db", help="demo SQLite file")
    chk = commands.add_parser("check", help="check settings, database, Bot API and webhook")
    chk.add_argument("--webhook", action="store_true", help="as `run --webhook`: its webhook set")
    bak = commands.add_parser("backup", help="copy the SQLite database while the bot runs")
    bak.add_argument("file", help="the backup to write (a new file)")
    res = commands.add_parser("restore", help="put an SQLite backup back (bot stopped)")
    res.add_argument("file", help="a backup written by `backup`")
    cop = commands.add_parser("copy-db", help="copy every row into an empty database")
    cop.add_argument("--to", required=True, metavar="URL", help="postgresql+asyncpg://user@host/db")
    args = parser.parse_args(argv)
    if args.command == "check":  # reports invalid settings as one of its lines
        return asyncio.run(check(webhook=args.webhook))
    try:
        settings = load_settings()
        # The terminal is the simulator's chat: keep the log out of it but for warnings.
        logs.setup(settings, level="WARNING" if args.command == "simulate" else None)
        if args.command == "migrate":
            asyncio.run(run_migrations(settings))
            print("database is up to date")
        elif args.command == "invite":
            return _invite(settings, Role(args.role), args.area)
        elif args.command == "import":
            if not Path(args.file).is_file():
                print(f"no such file: {args.file}", file=sys.stderr)
                return 2
            return asyncio.run(import_ledger(settings, Path(args.file), args.dry_run, args.area))
        elif args.command == "export":
            return asyncio.run(export_ledger(settings, Path(args.file), args.area))
        elif args.command == "run":
            return _run(settings, webhook=args.webhook, standby=args.standby)
        elif args.command == "simulate":
            # The simulator sits above this module (it drives the Application built here), so
            # it is found by name when asked for, not imported: the layers only point down.
            simulator = importlib.import_module("sandbox.simulate")
            asyncio.run(simulator.simulate(settings, simulator.fresh_database(args.database)))
        elif args.command == "backup":
            return _backup(settings, Path(args.file))
        elif args.command == "restore":
            return _restore(settings, Path(args.file))
        elif args.command == "copy-db":
            return asyncio.run(copy_database(settings, args.to))
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except NotMigrated:
        print("the database is not migrated: run `python bot.py migrate` first", file=sys.stderr)
        return 2
    except AnotherInstance:
        print("another instance of the bot is running on this database; not starting",
              file=sys.stderr)  # fmt: skip
        return 2
    except metrics.MetricsUnavailable as exc:
        print(f"METRICS_PORT: {exc}", file=sys.stderr)
        return 2
    return 0


def _invite(settings: Settings, role: Role, area_path: str) -> int:
    try:
        issued = asyncio.run(create_invite(settings, role, area_path))
    except (AreaPathError, invites.Refused):
        print(
            f"invalid area {area_path!r}: up to three levels, county/town/village "
            "(a director needs a village)",
            file=sys.stderr,
        )
        return 2
    code = issued.code
    until = Translator(settings.default_locale, settings.tz).datetime(issued.expires_at)
    if settings.bot_username:
        print(f"invite link: https://t.me/{settings.bot_username}?start={code}")
    else:
        print("set BOT_USERNAME to print the t.me link; meanwhile send the bot:")
    print(f"/start {code}")
    print(f"code: {code}")
    print(f"role: {role.value}, area: {area_path}, single use, valid until {until}")
    return 0


# -- operations ------------------------------------------------------------------------------

PG_BACKUP = (
    "PostgreSQL is backed up with its own tools: pg_dump -Fc (a copy) and pg_restore, or "
    "continuous archiving for point-in-time recovery; see README.md, 'Operations'"
)


async def check(*, webhook: bool = False) -> int:
    """`check`: one line per check; exit status 1 when one fails. `webhook`: the bot runs
    with `run --webhook`, so its webhook must be set; else it polls and none may be."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(checks.Result("settings", False, str(exc)).line())
        return 1
    logs.setup(settings, level="WARNING")  # the lines below are the report
    wanted = (settings.webhook_url or "") if webhook else ""
    results = [
        checks.settings_result(settings, webhook=webhook),
        await checks.database_result(settings),
        *await checks.bot_api_results(settings, webhook_url=wanted),
    ]
    for result in results:
        print(result.line())
    return 1 if any(r.ok is False for r in results) else 0


def _backup(settings: Settings, file: Path) -> int:
    database = backup.sqlite_file(settings.database_url)
    if database is None:
        print(PG_BACKUP, file=sys.stderr)
        return 2
    try:
        copy = backup.backup(database, file)
    except (FileNotFoundError, FileExistsError, backup.NotOurs) as exc:
        print(f"no backup written: {exc}", file=sys.stderr)
        return 2
    print(f"backup written: {copy.path} ({copy.size:,} bytes, schema {copy.revision})")
    return 0


def _restore(settings: Settings, file: Path) -> int:
    database = backup.sqlite_file(settings.database_url)
    if database is None:
        print(PG_BACKUP, file=sys.stderr)
        return 2
    if not file.is_file():
        print(f"no such file: {file}", file=sys.stderr)
        return 2
    claim = asyncio.run(_claim(settings.database_url))  # held while the pages are replaced
    if claim is None:
        print("the bot is running on this database: stop it first; nothing restored",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        restored = backup.restore(file, database)
    except backup.NotOurs as exc:
        print(f"{file}: {exc}; nothing restored", file=sys.stderr)
        return 2
    finally:
        asyncio.run(claim.release())
    print(f"restored {file} (schema {restored.copy.revision}) into {database}")
    if restored.kept is not None:
        print(f"the database as it was is kept at {restored.kept}")
    if not restored.copy.current:
        print("the backup's schema is older than the code: run `python bot.py migrate`")
    return 0


async def _claim(url: str) -> instance.Claim | None:
    engine = make_engine(url)
    try:
        return await instance.claim(engine)
    finally:
        await engine.dispose()  # a PostgreSQL claim holds a connection of its own


async def copy_database(settings: Settings, to: str) -> int:
    """`copy-db --to URL`: every row of DATABASE_URL into the empty database at URL."""
    if not to.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        print("--to: must start with postgresql+asyncpg:// (or sqlite+aiosqlite://)",
              file=sys.stderr)  # fmt: skip
        return 2
    if checks.shown(to) == checks.shown(settings.database_url):
        print("--to is DATABASE_URL itself: name the new, empty database", file=sys.stderr)
        return 2
    source, target = make_engine(settings.database_url), make_engine(to)
    claim = await instance.claim(source)  # the bot stays stopped while its rows are copied
    try:
        if claim is None:
            print("the bot is running on this database: stop it first; nothing copied",
                  file=sys.stderr)  # fmt: skip
            return 2
        started = time.monotonic()
        counts = await copydb.copy_all(
            source, target, copied=lambda table, rows: print(f"copied {table}: {rows:,} rows")
        )
    except copydb.SourceNotMigrated:
        print("DATABASE_URL is not migrated: run `python bot.py migrate` first", file=sys.stderr)
        return 2
    except copydb.TargetNotEmpty as exc:
        print(f"the target is not empty ({exc}): copy-db fills only an empty database",
              file=sys.stderr)  # fmt: skip
        return 2
    except Exception as exc:  # the target unreachable, a row it refused: nothing was copied
        print(f"nothing copied: {checks.reason(exc)}", file=sys.stderr)
        return 1
    finally:
        if claim is not None:
            await claim.release()
        await source.dispose()
        await target.dispose()
    width = max(len(c.table) for c in counts)
    print(f"{'table':<{width}}  {'source':>10}  {'target':>10}")
    for c in counts:
        print(f"{c.table:<{width}}  {c.source:>10,}  {c.target:>10,}"
              f"{'' if c.source == c.target else '  MISMATCH'}")  # fmt: skip
    if any(c.source != c.target for c in counts):
        print("the counts differ: do not switch to the target", file=sys.stderr)
        return 1
    print(f"all {len(counts)} tables copied and counted in {time.monotonic() - started:.1f} s; "
          f"set DATABASE_URL={checks.shown(to)} and start the bot")  # fmt: skip
    return 0


def _run(settings: Settings, *, webhook: bool = False, standby: bool = False) -> int:
    if settings.bot_token is None:
        raise SettingsError("BOT_TOKEN: required to run the bot (get one from @BotFather)")
    if webhook and (settings.webhook_url is None or settings.webhook_secret is None):
        raise SettingsError("WEBHOOK_URL and WEBHOOK_SECRET: required to run with --webhook")
    if standby and settings.database_url.startswith("sqlite"):
        raise SettingsError("--standby: PostgreSQL only (SQLite is one machine's file)")
    asyncio.run(ensure_migrated(settings))  # before any network, so the message is clear
    while True:
        if standby:  # nothing is loaded until this instance is the one to run
            asyncio.run(wait_until_free(settings))
        try:
            return _serve(settings, webhook=webhook)
        except AnotherInstance:
            if not standby:
                raise
            log.info("another standby took over first; waiting again")


async def wait_until_free(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        log.info("standing by: another instance is active")
        while True:  # polled: PostgreSQL has no wait with a timeout for a session lock
            if await instance.is_free(engine):
                break
            await asyncio.sleep(STANDBY_POLL)
        log.info("the active instance is gone: taking over")
    finally:
        await engine.dispose()


def _serve(settings: Settings, *, webhook: bool) -> int:
    application = build_application(settings, exclusive=True)
    try:
        if webhook:
            assert settings.webhook_url is not None and settings.webhook_secret is not None
            # python-telegram-bot checks the secret-token header of every request (403 when
            # wrong) and hands the update to the queue, whose inbox stores it before the 200.
            application.run_webhook(
                listen=settings.webhook_listen, port=settings.webhook_port,
                url_path=settings.webhook_path, webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES,
            )  # fmt: skip
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except (InvalidToken, NetworkError) as exc:
        print(f"cannot use the Bot API at {settings.bot_api_base_url}: {exc}", file=sys.stderr)
        return 1
    return 3 if application.bot_data.get("lost_claim") else 0


if __name__ == "__main__":
    sys.exit(main())
