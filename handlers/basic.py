"""One-step commands every registered person has: /help, /language, /cancel, and the replies
to anything no flow is waiting for."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from care.roles import Role
from locales import LANGUAGE_NAMES, LOCALES
from locales import _ as mark
from service import people
from service.actions import Action
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.keyboards import column
from toolkit.main_menu import main_keyboard
from toolkit.menus import help_text, set_menu

HELP = Command("help", None, mark("cmd.help"), menu=5, guest=True)
LANGUAGE = Command("language", Role.VOLUNTEER, mark("cmd.language"), menu=6)
CANCEL = Command("cancel", None, mark("cmd.cancel"), menu=7)
CHOOSE = Action("lang")


async def show_help(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    role = context.viewer.role if context.viewer else None
    menu = main_keyboard(role, context.t) if role else None
    await update.effective_message.reply_text(help_text(role, context.t), reply_markup=menu)


async def ask_language(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    buttons = [(LANGUAGE_NAMES[loc], CHOOSE(loc)) for loc in LOCALES]
    await update.effective_message.reply_text(
        context.t("language.ask"), reply_markup=column(buttons)
    )


async def set_language(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    locale = CHOOSE.value(query.data)
    if locale is None or not await people.set_language(context.services, context.viewer, locale):
        await query.answer(context.t("common.stale_button"))
        return
    context.t = context.services.translator(locale)
    await query.answer()
    await query.edit_message_reply_markup(None)
    await set_menu(
        context.bot, chat_id=context.viewer.tg_user_id, role=context.viewer.role, t=context.t
    )
    assert update.effective_chat is not None  # said with the main menu in the new language
    await update.effective_chat.send_message(
        context.t("language.set"), reply_markup=main_keyboard(context.viewer.role, context.t)
    )


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(context.t("common.nothing_to_cancel"))


async def stale_button(update: Update, context: BotContext) -> None:
    """A button of a finished or forgotten flow: say so, change nothing."""
    assert update.callback_query is not None
    await update.callback_query.answer(context.t("common.stale_button"), show_alert=True)


async def not_understood(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    key = mark("common.not_understood") if context.viewer else mark("start.invite_only")
    await update.effective_message.reply_text(context.t(key))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Registered last: what no flow or command took comes here."""
    return [
        HELP.handler(show_help),
        LANGUAGE.handler(ask_language),
        CallbackQueryHandler(LANGUAGE.guard(set_language), pattern=CHOOSE.pattern),
        CANCEL.handler(nothing_to_cancel),
        CallbackQueryHandler(stale_button),
        MessageHandler(filters.UpdateType.MESSAGE, not_understood),
    ]
