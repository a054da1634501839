"""The short repeating jobs: the escalation ladder, the reminder planner, the closing of the
records of children who reached their category's age limit, and the sweep of flows left half
done. Each reads the database, so nothing is lost when the process restarts
(python-telegram-bot's jobs themselves are not persisted)."""

from __future__ import annotations

from datetime import timedelta

from service.alerts import escalate_due
from service.closing import close_aged_out
from service.reminders import plan_today
from toolkit.context import BotApplication, BotContext
from toolkit.inbox import Inbox
from toolkit.metrics import REMINDER_LAST_SUCCESS, REMINDER_RUN
from workers import drafts

LADDER_EVERY = 30  # seconds between looks at the escalation ladder
INBOX_EVERY = 60 * 60  # the inbox forgets ids done more than a day ago
REMIND_EVERY = 15 * 60  # the reminder planner: the first run of a day plans it, the rest nothing
# The records of children who reached their age limit: a daily job, run often so that the day's
# first run (soon after midnight, or on start after a stop) closes them; later runs find none.
CLOSE_EVERY = 15 * 60


# A job's context is of the application's context type too: BotContext (bot.py).
async def _ladder(context: BotContext) -> None:
    await escalate_due(context.services)


async def _reminders(context: BotContext) -> None:
    with REMINDER_RUN.time():
        await plan_today(context.services)
    REMINDER_LAST_SUCCESS.set_to_current_time()


async def _aged_out(context: BotContext) -> None:
    await close_aged_out(context.services)


async def _drafts(context: BotContext) -> None:
    await drafts.sweep(context.application)


async def _inbox(context: BotContext) -> None:
    inbox: Inbox = context.application.bot_data["inbox"]
    await inbox.forget_old()


async def run_due(application: BotApplication) -> None:
    """Every job once, now (the simulator's clock moves, and the due work is done)."""
    services = application.bot_data["services"]
    await escalate_due(services)
    await plan_today(services)
    await drafts.sweep(application)


def schedule(application: BotApplication) -> None:
    jobs = application.job_queue
    assert jobs is not None
    jobs.run_repeating(_ladder, interval=LADDER_EVERY, first=5, name="ladder")
    jobs.run_repeating(_reminders, interval=REMIND_EVERY, first=10, name="reminders")
    jobs.run_repeating(_aged_out, interval=CLOSE_EVERY, first=15, name="aged_out")
    jobs.run_repeating(
        _drafts, interval=drafts.SWEEP_EVERY, first=timedelta(minutes=1), name="drafts"
    )
    jobs.run_repeating(_inbox, interval=INBOX_EVERY, first=timedelta(minutes=2), name="inbox")
