"""`/unpaired` (supervisors, admins): the rule gaps of the area; the "pairing reviewed" button."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.pairing import Gap, GapItem
from care.roles import Role
from locales import Translator, labels
from locales import _ as mark
from service import pairing
from service.actions import PAIRING_REVIEWED
from toolkit.commands import Command
from toolkit.context import BotContext

SHOWN_PER_GAP = 15
MESSAGE_LIMIT = 3800  # Telegram's limit is 4,096 characters


def _line(item: GapItem, found: pairing.Gaps) -> str:
    children = "、".join(
        f"{found.child_names[c][0]}（{found.child_names[c][1].rsplit('/', 1)[-1]}）"
        for c in item.child_ids
    )
    if not item.volunteer_ids:
        return f"• {children}"
    volunteers = "、".join(found.volunteer_names[v] for v in item.volunteer_ids)
    return f"• {children} — {volunteers}"


def report(found: pairing.Gaps, t: Translator) -> list[str]:
    """The report as messages under Telegram's length limit."""
    gaps, area = found.items, found.area_path
    if not gaps:
        return [t("unpaired.none", area=area)]
    blocks = [t("unpaired.title", area=area, count=len(gaps))]
    for gap in Gap:
        items = [g for g in gaps if g.gap == gap]
        if not items:
            continue
        lines = [t(labels.GAP[gap], count=len(items))]
        lines += [_line(item, found) for item in items[:SHOWN_PER_GAP]]
        if len(items) > SHOWN_PER_GAP:
            lines.append(t("unpaired.more", count=len(items) - SHOWN_PER_GAP))
        blocks.append("\n".join(lines))
    messages, current = [], ""
    for block in blocks:
        if current and len(current) + len(block) + 2 > MESSAGE_LIMIT:
            messages.append(current)
            current = ""
        current = f"{current}\n\n{block}" if current else block
    messages.append(current)
    return messages


UNPAIRED = Command("unpaired", Role.SUPERVISOR, mark("cmd.unpaired"), menu=6)


async def unpaired(update: Update, context: BotContext) -> None:
    assert context.viewer is not None and update.effective_chat is not None
    found = await pairing.gaps(context.services, context.viewer)
    if isinstance(found, pairing.Refusal):
        await update.effective_chat.send_message(context.t("guard.forbidden"))
        return
    for text in report(found, context.t):
        await update.effective_chat.send_message(text)


async def reviewed(update: Update, context: BotContext) -> None:
    """`pr:review:<child id>` (a child's card): the child's pairings were reviewed today."""
    query, viewer = update.callback_query, context.viewer
    assert query is not None and viewer is not None
    child_id = PAIRING_REVIEWED.id(query.data)
    done = (
        await pairing.mark_reviewed(context.services, viewer, child_id)
        if child_id is not None
        else pairing.Refusal.FORBIDDEN
    )
    if isinstance(done, pairing.Refusal):
        await query.answer(context.t("child.forbidden"), show_alert=True)
        return
    await query.answer(context.t.n("pair.reviewed", done.count, count=done.count), show_alert=True)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        UNPAIRED.handler(unpaired),
        CallbackQueryHandler(UNPAIRED.guard(reviewed), pattern=PAIRING_REVIEWED.pattern),
    ]
