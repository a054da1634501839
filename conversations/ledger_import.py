"""Ledger import from chat: a supervisor or admin sends an .xlsx or .csv; the bot answers with
a dry run (what would be created, updated, rejected and why, row by row); Confirm writes all
accepted rows in one transaction, Cancel writes nothing."""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import Any

from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from care.ledger import parse_ledger
from care.roles import Role
from storage import audit
from storage.ledger import ImportPlan, apply_import, plan_import
from toolkit.context import BotContext
from toolkit.flows import anything_else, busy_elsewhere, fallbacks
from toolkit.guard import guarded
from toolkit.keyboards import keyboard
from toolkit.ledger_report import SHOWN_PROBLEMS, problems_csv, summary

NAME = "ledger_import"  # the flow: its answers in user_data, its persisted state
CONFIRM = 0
MAX_BYTES = 10 * 1024 * 1024
SUFFIXES = {".xlsx", ".csv"}


def _draft(context: BotContext) -> dict[str, Any]:
    return context.user_data.setdefault(NAME, {})  # type: ignore[union-attr]


def _forget(context: BotContext) -> None:
    context.user_data.pop(NAME, None)  # type: ignore[union-attr]


async def _plan(context: BotContext, file_id: str) -> ImportPlan:
    """Downloads, parses (in a thread: 10,000 rows take a second) and plans, writing nothing."""
    assert context.viewer is not None
    services = context.services
    data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
    today = services.today()
    parsed = await asyncio.to_thread(parse_ledger, data, today=today)
    async with services.sessions() as session:
        return await plan_import(session, parsed, area_path=context.viewer.area_path)


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
    if (document.file_size or 0) > MAX_BYTES:
        await message.reply_text(t("ledger.too_big"))
        return ConversationHandler.END
    plan = await _plan(context, document.file_id)
    text = t("ledger.dry_run") + "\n" + summary(plan, t, file_name=name, limit=SHOWN_PROBLEMS)
    if len(plan.problems) > SHOWN_PROBLEMS:
        await message.reply_document(
            InputFile(problems_csv(plan, t), filename=f"{PurePath(name).stem}-problems.csv"),
            caption=t("ledger.report_attached"),
        )
    if plan.writes == 0:
        await message.reply_text(text + "\n\n" + t("ledger.nothing_to_write"))
        return ConversationHandler.END
    _draft(context).update(file_id=document.file_id, name=name)
    buttons = [[(t("ledger.confirm"), "imp:ok"), (t("ledger.cancel"), "imp:no")]]
    await message.reply_text(
        text + "\n\n" + t("ledger.ask_confirm"), reply_markup=keyboard(buttons)
    )
    return CONFIRM


@guarded(Role.SUPERVISOR)
async def confirmed(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    draft = _draft(context)
    await query.answer()
    await query.edit_message_reply_markup(None)  # a second press finds no button
    # Planned again at confirmation: what is written is checked against the data as it is now.
    plan = await _plan(context, draft["file_id"])
    async with context.services.sessions.begin() as session:
        await apply_import(session, plan, actor_id=context.viewer.person_id)
        audit.record(
            session, actor_id=context.viewer.person_id, action="ledger_import",
            subject=f"area:{context.viewer.area_id}",
            detail=f"create={len(plan.create)} update={len(plan.update)} rejected={plan.rejected}",
        )  # fmt: skip
    _forget(context)
    await query.message.chat.send_message(  # type: ignore[union-attr]
        context.t("ledger.done", create=len(plan.create), update=len(plan.update),
                  rejected=plan.rejected)
    )  # fmt: skip
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
    buttons = [[(t("ledger.confirm"), "imp:ok"), (t("ledger.cancel"), "imp:no")]]
    text = (f"{note}\n\n" if note else "") + t("ledger.ask_confirm")
    await update.effective_chat.send_message(text, reply_markup=keyboard(buttons))
    return CONFIRM


def handlers() -> list[ConversationHandler]:
    return [ConversationHandler(
        entry_points=[MessageHandler(filters.Document.ALL, received)],
        states={
            CONFIRM: [
                CallbackQueryHandler(confirmed, pattern=r"^imp:ok$"),
                CallbackQueryHandler(declined, pattern=r"^imp:no$"),
                *anything_else(reask),
            ]
        },
        fallbacks=fallbacks(reask, _forget),
        allow_reentry=True,
        persistent=True,
        name=NAME,
    )]
