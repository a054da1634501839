"""`/export` (supervisors, admins): the area's ledger as XLSX in an encrypted zip, its password
shown once in a message of its own; audited."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import InputFile, Update
from telegram.ext import CommandHandler

from care.roles import Role
from locales import _ as mark
from service import ledger
from toolkit.archive import encrypted_zip, new_password
from toolkit.commands import Command
from toolkit.context import BotContext


def export_file_name(area_path: str, day: str) -> str:
    return f"台账_{area_path.replace('/', '_')}_{day}.xlsx"


EXPORT = Command("export", Role.SUPERVISOR, mark("cmd.export"), menu=3)


async def export(update: Update, context: BotContext) -> None:
    viewer = context.viewer
    assert viewer is not None and update.effective_message is not None
    try:
        data = await ledger.export(context.services, viewer, viewer.area_path)
    except ledger.Refused:
        await update.effective_message.reply_text(context.t("guard.forbidden"))
        return
    today = context.services.today()
    name = export_file_name(viewer.area_path, today.isoformat())
    password = new_password()
    packed = await asyncio.to_thread(encrypted_zip, name, data, password)
    await update.effective_message.reply_document(
        InputFile(packed, filename=name.removesuffix(".xlsx") + ".zip"),
        caption=context.t("export.caption", area=viewer.area_path),
    )
    await update.effective_message.reply_text(context.t("export.password", password=password))


def handlers() -> list[CommandHandler[Any, Any]]:
    return [EXPORT.handler(export)]
