"""The one guard: every update is identified, and every action checks role, area and chat
server-side, whatever a button's callback data claims."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ConversationHandler

from care.roles import Role
from locales import locale_for
from toolkit.context import BotContext
from toolkit.main_menu import command_of
from toolkit.persistence import DbPersistence

R = TypeVar("R")
# What PTB's handlers take: a coroutine function (an Awaitable alone is not accepted).
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, R]]
log = logging.getLogger("carebot.guard")
Callback = Handler[Any]


async def identify(update: Update, context: BotContext) -> None:
    """Group -1: loads the active person behind the update and picks their language."""
    user = update.effective_user
    services = context.services
    if user is None or user.is_bot:
        raise ApplicationHandlerStop
    if _private(update) and _persistence(context).handled_before(user.id, update.update_id):
        log.info("update %s was handled before: not again", update.update_id)
        raise ApplicationHandlerStop
    try:
        context.viewer = await services.viewers.get(user.id, services.load_viewer)
    except Exception as exc:
        # Unidentified, nobody may act: report it (the error handler apologises) and stop here,
        # or PTB would carry on with the next group as if the person were unknown.
        await context.application.process_error(update, exc)
        raise ApplicationHandlerStop from exc
    # The person's choice (stored, or made during onboarding), then Telegram's language.
    data: dict[str, Any] = context.user_data or {}
    chosen = (context.viewer and context.viewer.locale) or data.get("locale")
    locale = chosen or locale_for(user.language_code, services.settings.default_locale)
    context.t = services.translator(locale)
    command = command_of(update.message.text) if update.message and _private(update) else None
    if command is not None:  # a main-menu button: handled as the command it stands for
        await context.application.process_update(_as_command(update, command, context))
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        # An edit never answers a question: the flow has moved on since the message was sent.
        if _private(update):
            await update.edited_message.reply_text(context.t("guard.edit_ignored"))
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        # Children's data never goes to a group: commands and buttons there get one line.
        if update.callback_query:
            await update.callback_query.answer(context.t("guard.private_only"), show_alert=True)
        elif update.effective_message and (update.effective_message.text or "").startswith("/"):
            await update.effective_message.reply_text(context.t("guard.private_only"))
        raise ApplicationHandlerStop


def _as_command(update: Update, command: str, context: BotContext) -> Update:
    """The same update, its text the command itself (as if typed)."""
    data = update.to_dict()
    data["message"]["text"] = f"/{command}"
    data["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command) + 1}]
    return Update.de_json(data, context.bot)


PERSIST_GROUP = 100  # after every other handler of the update


async def persist(update: Update, context: BotContext) -> None:
    """Last: hands what the update changed in flows in progress (state and answers) to the
    persistence, which writes it within milliseconds (toolkit.persistence)."""
    application = context.application
    user = update.effective_user
    if user is not None:
        # PTB marks the user's data for the persistence only after the last group: without
        # this, the mark below would be written before the answers of this very update.
        application.mark_data_for_update_persistence(user_ids=user.id)
    await application.update_persistence()
    persistence = _persistence(context)
    if _private(update) and user is not None:
        persistence.handled(user.id, update.update_id)
    persistence.write_soon()


def _private(update: Update) -> bool:
    chat, user = update.effective_chat, update.effective_user
    return chat is not None and user is not None and chat.id == user.id


def _persistence(context: BotContext) -> DbPersistence:
    persistence = context.application.persistence
    assert isinstance(persistence, DbPersistence)
    return persistence


async def refuse(update: Update, text: str) -> None:
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)


def guarded(min_role: Role = Role.VOLUNTEER) -> Callable[[Handler[R]], Handler[R | int]]:
    """Wraps a handler callback: registered, active, and at least `min_role`, or refused (which
    also ends any conversation the callback belongs to: ConversationHandler.END)."""

    def wrap(callback: Handler[R]) -> Handler[R | int]:
        @functools.wraps(callback)
        async def checked(update: Update, context: BotContext) -> R | int:
            viewer = context.viewer
            if viewer is None:
                await refuse(update, context.t("guard.unknown"))
                return ConversationHandler.END
            if not viewer.at_least(min_role):
                await refuse(update, context.t("guard.forbidden"))
                return ConversationHandler.END
            return await callback(update, context)

        return checked

    return wrap
