"""What every conversation does with input it did not ask for: it says what it expects and
asks its current question again; `/cancel` leaves; another command is told to wait, except
the always-open ones: an emergency never waits for a form (`/urgent` and `/report` pause the
flow in progress, which is offered again afterwards), and help, the language or one's
children interrupt nothing."""

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
from toolkit.keyboards import keyboard

# Asks the conversation's current question again, after a note saying what went wrong.
Reask = Callable[[Update, BotContext, str], Awaitable[int]]

ALWAYS_OPEN = frozenset({"urgent", "report", "help", "language", "mychildren"})
# The flows that may start while another waits for an answer (registered ahead of every other
# flow in bot.py, so while they run they take the person's input); the one they paused stays
# as it was, and is offered again when they end.
INTERRUPTING = frozenset({"urgent", "report"})
_ALWAYS_OPEN = filters.Regex(rf"^/({'|'.join(sorted(ALWAYS_OPEN))})(@\w+)?(\s|$)")
# Flows that can be taken up again after an interruption: flow name -> the callback data of
# its "continue" button (toolkit.form registers every form).
RESUMABLE: dict[str, str] = {}


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
    reask: Reask, on_cancel: Callable[[BotContext], None], *, always_open: bool = True
) -> list[BaseHandler[Any, Any, Any]]:
    """`/cancel`, and other commands told to wait; `always_open`: except the always-open ones
    (not for someone not registered yet, who has none)."""
    async def cancel(update: Update, context: BotContext) -> int:
        on_cancel(context)
        assert update.effective_message is not None
        rows = resume_rows(context)
        await update.effective_message.reply_text(
            context.t("common.cancelled"), reply_markup=keyboard(rows) if rows else None
        )
        return ConversationHandler.END

    async def other_command(update: Update, context: BotContext) -> int:
        return await reask(update, context, context.t("common.finish_first"))

    # The always-open commands pass on to their own handlers, the flow staying as it is.
    waits = filters.COMMAND & ~_ALWAYS_OPEN if always_open else filters.COMMAND
    return [CommandHandler("cancel", cancel), MessageHandler(waits, other_command)]


def in_progress(context: BotContext) -> list[str]:
    """The flows that wait for this person's answer (each keeps its answers under its name)."""
    data: dict[str, Any] = context.user_data or {}
    return [flow for flow in flow_names(context.application) if flow in data]


def resume_rows(context: BotContext, *, but: str = "") -> list[list[tuple[str, str]]]:
    """A "continue where you were" button for each paused flow that has one."""
    return [
        [(context.t("flow.resume"), RESUMABLE[flow])]
        for flow in sorted(in_progress(context))
        if flow != but and flow in RESUMABLE
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
    say so, and let the person finish it or /cancel. An interrupting flow (a report) starts
    over any other but a report in progress, and says that the other is kept."""
    others = [flow for flow in in_progress(context) if flow != own]
    if own in INTERRUPTING and not any(flow in INTERRUPTING for flow in others):
        if others:
            assert update.effective_chat is not None
            await update.effective_chat.send_message(context.t("flow.paused"))
        return False
    if others:
        assert update.effective_message is not None
        await update.effective_message.reply_text(context.t("common.finish_first"))
        return True
    return False
