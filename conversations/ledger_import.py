"""Ledger import from chat: a supervisor or admin sends an .xlsx or .csv; the bot answers with
a dry run (what would be created, updated, rejected and why, row by row); Confirm writes all
accepted rows in one transaction, Cancel writes nothing."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from care.ledger import file_too_big
from care.roles import Role
from service import ledger
from service.actions import Action
from toolkit.context import BotContext
from toolkit.flows import anything_else, busy_elsewhere, fallbacks
from toolkit.guard import guarded
from toolkit.keyboards import keyboard
from toolkit.ledger_report import SHOWN_PROBLEMS, describe, problems_csv, refusal, summary

NAME = "ledger_import"  # the flow: its answers in user_data, its persisted state
CONFIRM = 0
SUFFIXES = {".xlsx", ".csv"}
ANSWER = Action("imp")  # imp:<ok|no>: write the import, or not
OK, NO = "ok", "no"


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None  # the guard lets through only updates of a person
    draft: dict[str, Any] = context.user_data.setdefault(NAME, {})
    return draft


def _forget(context: BotContext) -> None:
    assert context.user_data is not None
    context.user_data.pop(NAME, None)


def _buttons(context: BotContext) -> list[list[tuple[str, str]]]:
    t = context.t
    return [[(t("ledger.confirm"), ANSWER(OK)), (t("ledger.cancel"), ANSWER(NO))]]


async def _plan(context: BotContext, file_id: str) -> ledger.PlannedImport:
    """Downloads the file and plans its import (the use case parses and plans; nothing is
    written). The file is kept by Telegram, not by us: Confirm downloads it again."""
    data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
    return await ledger.plan_import(context.services, context.viewer, data)


@guarded(Role.SUPERVISOR)
async def received(update: Update, context: BotContext) -> int:
    message = update.effective_message
    assert message is not None and message.document is not None
    if await busy_elsewhere(update, context, NAME):
        return ConversationHandler.END
    document, t = message.document, context.t
    name = document.file_name or "ledger"
    if PurePath(name).suffix.lower() not in SUFFIXES:
        await message.reply_text(t("ledger.wrong_type"))
        return ConversationHandler.END
    limits = context.services.settings.sheet_limits
    if (document.file_size or 0) > limits.max_file_bytes:  # refused before it is downloaded
        await message.reply_text(describe(file_too_big(limits), t))
        return ConversationHandler.END
    try:
        planned = await _plan(context, document.file_id)
    except ledger.Refused:
        await message.reply_text(t("guard.forbidden"))
        return ConversationHandler.END
    plan = planned.plan
    if planned.unreadable:  # too large, not a ledger: one line says why
        await message.reply_text(refusal(plan, t))
        return ConversationHandler.END
    text = t("ledger.dry_run") + "\n" + summary(plan, t, file_name=name, limit=SHOWN_PROBLEMS)
    if len(plan.problems) + len(plan.warnings) > SHOWN_PROBLEMS or len(plan.close) > SHOWN_PROBLEMS:
        await message.reply_document(
            InputFile(problems_csv(plan, t), filename=f"{PurePath(name).stem}-problems.csv"),
            caption=t("ledger.report_attached"),
        )
    if plan.writes == 0:
        await message.reply_text(text + "\n\n" + t("ledger.nothing_to_write"))
        return ConversationHandler.END
    _draft(context).update(file_id=document.file_id, name=name)
    await message.reply_text(
        text + "\n\n" + t("ledger.ask_confirm"), reply_markup=keyboard(_buttons(context))
    )
    return CONFIRM


async def answered(update: Update, context: BotContext) -> int:
    """ANSWER: Confirm writes, Cancel does not; anything else asks again."""
    query = update.callback_query
    assert query is not None
    choice = ANSWER.value(query.data)
    if choice == OK:
        return await confirmed(update, context)
    if choice == NO:
        return await declined(update, context)
    await query.answer(context.t("common.stale_button"))
    return await reask(update, context, "")


@guarded(Role.SUPERVISOR)
async def confirmed(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    draft = _draft(context)
    await query.answer()
    await query.edit_message_reply_markup(None)  # a second press finds no button
    try:
        planned = await _plan(context, draft["file_id"])
        # planned again in the transaction that writes: checked against the data as it is now
        plan = await ledger.apply_import(context.services, context.viewer, planned)
    except ledger.Refused:
        _forget(context)
        await query.edit_message_text(context.t("guard.forbidden"))
        return ConversationHandler.END
    _forget(context)
    done = context.t.n("ledger.done", plan.rejected, create=len(plan.create),
                       update=len(plan.update), rejected=plan.rejected)  # fmt: skip
    if plan.close:
        done += "\n" + context.t.n("ledger.closed", len(plan.close), count=len(plan.close))
    await query.message.chat.send_message(done)  # type: ignore[union-attr]
    return ConversationHandler.END


async def declined(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    _forget(context)
    await query.answer()
    await query.edit_message_text(context.t("ledger.cancelled"))
    return ConversationHandler.END


async def reask(update: Update, context: BotContext, note: str) -> int:
    t = context.t
    assert update.effective_chat is not None
    text = (f"{note}\n\n" if note else "") + t("ledger.ask_confirm")
    await update.effective_chat.send_message(text, reply_markup=keyboard(_buttons(context)))
    return CONFIRM


def handlers() -> list[ConversationHandler[BotContext]]:
    return [ConversationHandler(
        entry_points=[MessageHandler(filters.Document.ALL, received)],
        states={
            CONFIRM: [
                CallbackQueryHandler(answered, pattern=ANSWER.pattern),
                *anything_else(reask),
            ]
        },
        fallbacks=fallbacks(reask, _forget),
        allow_reentry=True,
        persistent=True,
        name=NAME,
    )]
