"""`python bot.py check`: is this installation ready to run? One line per check (settings,
database, Bot API, webhook), so a county IT person sees at once what to fix; the command
exits non-zero when one fails. It changes nothing: no file is created, no webhook touched."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from settings import Settings
from storage import migrate
from storage.backup import sqlite_file
from storage.db import make_engine
from toolkit.logs import mask

TIMEOUT = 10.0  # seconds for each of the database and the Bot API to answer


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool | None  # None: not checked, as a check before it failed
    detail: str

    def line(self) -> str:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{mark}  {self.name}: {self.detail}"


def shown(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def settings_result(settings: Settings, *, webhook: bool = False) -> Result:
    """`webhook`: the bot runs with `run --webhook`, which needs its own settings."""
    if settings.bot_token is None:
        return Result("settings", False, "BOT_TOKEN is not set (get one from @BotFather)")
    if webhook and (settings.webhook_url is None or settings.webhook_secret is None):
        return Result("settings", False, "WEBHOOK_URL and WEBHOOK_SECRET: needed by --webhook")
    metrics = (
        f"metrics on {settings.metrics_host}:{settings.metrics_port}"
        if settings.metrics_port
        else "metrics off"
    )
    return Result(
        "settings", True, f"valid; time zone {settings.timezone}, log {settings.log_format}, "
        f"{metrics}",
    )  # fmt: skip


async def database_result(settings: Settings) -> Result:
    url = settings.database_url
    file = sqlite_file(url)
    if file is not None and not file.is_file():  # connecting would create an empty one
        return Result("database", False, f"no database at {file}: run `python bot.py migrate`")
    engine = make_engine(url)
    try:
        async with asyncio.timeout(TIMEOUT):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            found = await migrate.revisions(engine)
    except Exception as exc:  # whatever stops a connection: refused, unknown host, password
        return Result("database", False, f"cannot reach {shown(url)}: {reason(exc)}")
    finally:
        await engine.dispose()
    needed = migrate.heads()
    at = ", ".join(sorted(found)) or "none"
    if found != needed:
        return Result(
            "database", False, f"{shown(url)} answers but its schema is at {at}, the code needs "
            f"{', '.join(sorted(needed))}: run `python bot.py migrate`",
        )  # fmt: skip
    return Result("database", True, f"{shown(url)} answers, schema at {at} (current)")


async def bot_api_results(settings: Settings, *, webhook_url: str = "") -> list[Result]:
    """getMe (reachable, token valid), then getWebhookInfo: `webhook_url` is the webhook this
    installation sets, "" when it polls (then no webhook may be set)."""
    if settings.bot_token is None:
        return [
            Result("Bot API", None, "needs BOT_TOKEN"),
            Result("webhook", None, "needs the Bot API"),
        ]
    token = settings.bot_token.get_secret_value()
    base = settings.bot_api_base_url
    bot = Bot(
        token, base_url=base, base_file_url=settings.bot_api_file_url,
        request=HTTPXRequest(connect_timeout=TIMEOUT, read_timeout=TIMEOUT),
    )  # fmt: skip
    try:
        async with bot:  # initialize() asks getMe
            me = bot.bot
            info = await bot.get_webhook_info()
    except InvalidToken:
        return [
            Result("Bot API", False, f"{base} refused the token: check BOT_TOKEN"),
            Result("webhook", None, "needs the Bot API"),
        ]
    except (NetworkError, TelegramError) as exc:
        return [
            Result("Bot API", False, f"cannot reach {base}: {mask(str(exc), [token])}"),
            Result("webhook", None, "needs the Bot API"),
        ]
    found = Result("Bot API", True, f"{base} answers: the token is @{me.username}'s (id {me.id})")
    named = settings.bot_username
    if named and named.lower() != (me.username or "").lower():  # invite links would go astray
        found = Result("Bot API", False, f"the token is @{me.username}'s but BOT_USERNAME says "
                       f"@{named}: the invite links would open the wrong bot")  # fmt: skip
    return [found, _webhook_result(info.url, webhook_url, info.pending_update_count,
                                   info.last_error_message)]  # fmt: skip


def _webhook_result(url: str, wanted: str, waiting: int, last_error: str | None) -> Result:
    error = f"; Telegram's last delivery error: {last_error}" if last_error else ""
    if url == wanted:
        if not wanted:
            return Result("webhook", True, f"none set: the bot polls ({waiting} updates waiting)")
        return Result(
            "webhook", True, f"set to {_site(url)} as configured ({waiting} updates waiting){error}"
        )
    if not url:
        return Result("webhook", False, "none set: `run --webhook` sets it when it starts "
                      "(is it running?)")  # fmt: skip
    if not wanted:
        return Result(
            "webhook", False, f"a webhook is set ({_site(url)}) but this installation polls: "
            "another one may use the same token (`run` removes it when it starts)",
        )  # fmt: skip
    found, expected = _site(url), _site(wanted)
    if found == expected:
        return Result("webhook", False, f"set to another path on {expected} than configured")
    return Result("webhook", False, f"set to {found}, not {expected}")


def _site(url: str) -> str:
    """Scheme and host of a webhook URL: its path may hold a secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else ""


def reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT:.0f} s"
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    return mask(f"{type(cause).__name__}: {cause}".splitlines()[0])[:200]
