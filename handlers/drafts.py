"""Flows left half done: one reminder after a day for a check-in, and every flow's answers
dropped after a week, with a note. Runs as a repeating job over the persisted drafts."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from conversations.common import FLOWS
from handlers.context import Services
from locales import Translator
from locales import _ as mark
from storage import people

REMIND_AFTER = timedelta(hours=24)
DROP_AFTER = timedelta(days=7)
SWEEP_EVERY = timedelta(minutes=15)


async def sweep(application: Application) -> None:
    services: Services = application.bot_data["services"]
    now = services.now()
    touched: set[int] = set()
    for user_id, data in list(application.user_data.items()):
        for flow in FLOWS:
            draft = data.get(flow)
            if not isinstance(draft, dict) or "touched" not in draft:
                continue
            age = now - datetime.fromisoformat(draft["touched"])
            if age >= DROP_AFTER:
                data.pop(flow)
                touched.add(user_id)
                await _tell(application, services, user_id, mark("drafts.dropped"))
            elif flow == "checkin" and age >= REMIND_AFTER and not draft.get("reminded"):
                draft["reminded"] = True
                touched.add(user_id)
                await _tell(application, services, user_id, mark("drafts.reminder"))
    if touched:
        application.mark_data_for_update_persistence(user_ids=touched)
        await application.update_persistence()
        assert application.persistence is not None
        await application.persistence.flush()


async def _tell(application: Application, services: Services, user_id: int, key: str) -> None:
    async with services.sessions() as session:
        viewer = await people.viewer(session, user_id)
    locale = (viewer and viewer.locale) or services.settings.default_locale
    t: Translator = services.translator(locale)
    try:
        await application.bot.send_message(user_id, t(key))
    except Forbidden:  # they blocked the bot: the draft is handled all the same
        return
    except TelegramError:
        return


async def sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await sweep(context.application)


def schedule(application: Application) -> None:
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        sweep_job, interval=SWEEP_EVERY, first=timedelta(minutes=1), name="drafts"
    )
