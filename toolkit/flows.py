"""What every conversation does with input it did not ask for: it says what it expects and
asks its current question again; `/cancel` leaves; another command is told to wait."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from locales import _ as mark
from toolkit.context import BotApplication, BotContext

# Asks the conversation's current question again, after a note saying what went wrong.
Reask = Callable[[Update, BotContext, str], Awaitable[int]]


def anything_else(reask: Reask, *, expects_text: bool = False) -> list[BaseHandler[Any, Any, Any]]:
    """The last handlers of every state: stale or foreign buttons, stickers, photos, text."""

    async def stale_button(update: Update, context: BotContext) -> int:
        assert update.callback_query is not None
        await update.callback_query.answer(context.t("common.stale_button"))
        return await reask(update, context, "")

    async def unexpected(update: Update, context: BotContext) -> int:
        note = mark("common.text_please") if expects_text else mark("common.use_buttons")
        return await reask(update, context, context.t(note))

    return [
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.ALL & ~filters.COMMAND, unexpected),
    ]


def fallbacks(
    reask: Reask, on_cancel: Callable[[BotContext], None]
) -> list[BaseHandler[Any, Any, Any]]:
    async def cancel(update: Update, context: BotContext) -> int:
        on_cancel(context)
        assert update.effective_message is not None
        await update.effective_message.reply_text(context.t("common.cancelled"))
        return ConversationHandler.END

    async def other_command(update: Update, context: BotContext) -> int:
        return await reask(update, context, context.t("common.finish_first"))

    return [
        CommandHandler("cancel", cancel),
        MessageHandler(filters.COMMAND, other_command),
    ]


def flow_names(application: BotApplication) -> set[str]:
    """The registered flows. Each keeps its answers in user_data under its own name (the
    ConversationHandler's), while it runs."""
    return {
        handler.name
        for group in application.handlers.values()
        for handler in group
        if isinstance(handler, ConversationHandler) and handler.name
    }


async def busy_elsewhere(update: Update, context: BotContext, own: str) -> bool:
    """Starting a flow while another one waits for an answer would leave that one dangling:
    say so, and let the person finish it or /cancel."""
    data: dict[str, Any] = context.user_data or {}
    if any(flow in data for flow in flow_names(context.application) if flow != own):
        assert update.effective_message is not None
        await update.effective_message.reply_text(context.t("common.finish_first"))
        return True
    return False
