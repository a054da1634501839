"""The error handler: log without personal data, apologise in the person's language."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from telegram import Update
from telegram.error import TelegramError

from locales import Translator, locale_for
from storage import people
from toolkit.context import BotContext
from toolkit.metrics import BACKGROUND_ERRORS, UPDATES_FAILED

log = logging.getLogger("carebot.errors")
PROJECT = str(Path(__file__).resolve().parent.parent) + "/"


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    # Only the type, the update id and where it was raised: never texts, names or chat ids.
    where = ""
    for frame, line in traceback.walk_tb(error.__traceback__ if error else None):
        file = frame.f_code.co_filename
        if file.startswith(PROJECT):  # the deepest place in our own code
            where = f" at {file[len(PROJECT) :]}:{line}"
    update_id = update.update_id if isinstance(update, Update) else None
    (UPDATES_FAILED if isinstance(update, Update) else BACKGROUND_ERRORS).inc()
    log.error("update %s failed: %s%s", update_id, type(error).__name__, where)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            t = await _translator(update, context)
            await update.effective_chat.send_message(t("error.sorry"))
        except TelegramError:
            log.warning("could not send the apology for update %s", update_id)


async def _translator(update: Update, context: BotContext) -> Translator:
    """The person's language; the error context has not been through the guard."""
    services, user = context.services, update.effective_user
    locale = services.settings.default_locale
    if user is not None:
        locale = locale_for(user.language_code, locale)
        try:
            async with services.sessions() as session:
                viewer = await people.viewer(session, user.id)
            locale = (viewer and viewer.locale) or locale
        except Exception:  # the database may be what failed; the apology still goes out
            log.warning("no language for the apology of update %s", update.update_id)
    return services.translator(locale)
