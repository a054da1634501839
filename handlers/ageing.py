"""`/ageing` (directors for their village, supervisors and admins for their area): the children
who reach their category's age limit within 30 days, whose records close by themselves on that
day, and the records closed in the last 30 days; each with a button to the card.

A command of its own rather than a section of `/children` or `/overdue`: those are pages of
open records with filters, and what ages out is a short list a director reads once in a while
(before the day, to say goodbye and hand over; after it, to check what was closed)."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from care.closing import AHEAD_DAYS
from care.roles import Role
from handlers.children import CHILD_CARD
from locales import _ as mark
from locales import labels
from service import closing
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.keyboards import keyboard

AGEING = Command("ageing", Role.DIRECTOR, mark("cmd.ageing"), menu=5)
MAX_BUTTONS = 20


async def ageing(update: Update, context: BotContext) -> None:
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_message is not None
    found = await closing.ageing(context.services, viewer)
    if isinstance(found, closing.Refusal):  # the guard let only directors and above in
        await update.effective_message.reply_text(t("guard.forbidden"))
        return
    lines = [t.n("ageing.title", AHEAD_DAYS, area=found.area_path, days=AHEAD_DAYS)]
    buttons: list[list[tuple[str, str]]] = []
    for soon in found.ageing:
        child = soon.child
        lines.append(
            t("ageing.line", name=child.name, village=child.area_path.rsplit("/", 1)[-1],
              day=t.date(soon.on), age=child.category.age_limit,
              category=t(labels.CATEGORY[child.category]))
        )  # fmt: skip
        if len(buttons) < MAX_BUTTONS:
            buttons.append([(f"⏳ {child.name} · {t.date(soon.on)}", CHILD_CARD(child.child_id))])
    if not found.ageing:
        lines.append(t.n("ageing.none", AHEAD_DAYS, days=AHEAD_DAYS))
    if found.closed:
        count, days = found.closed_count, closing.RECENT_DAYS
        lines += ["", t.n("ageing.closed_title", count, days=days, count=count)]
        for line in found.closed:
            lines.append(
                t("ageing.closed_line", name=line.name, village=line.area_path.rsplit("/", 1)[-1],
                  day=t.date(line.closed_on), reason=t(labels.CLOSING_REASON[line.reason]))
            )  # fmt: skip
            if len(buttons) < MAX_BUTTONS:
                buttons.append([(f"🔒 {line.name}", CHILD_CARD(line.child_id))])
        if found.closed_count > len(found.closed):
            more = found.closed_count - len(found.closed)
            lines.append(t.n("ageing.closed_more", more, count=more))
    await update.effective_message.reply_text(
        "\n".join(lines), reply_markup=keyboard(buttons) if buttons else None
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [AGEING.handler(ageing)]
