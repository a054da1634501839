"""`/unpaired` (supervisors, admins): the rule gaps of the area; the "pairing reviewed" button."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.access import child_scope
from care.pairing import Gap, GapItem, find_gaps
from care.roles import Role
from locales import Translator, labels
from locales import _ as mark
from service.actions import PAIRING_REVIEWED
from storage import children as store
from storage import pairings
from storage.pairings import GapInputs
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.guard import guarded

SHOWN_PER_GAP = 15
MESSAGE_LIMIT = 3800  # Telegram's limit is 4,096 characters


def _line(item: GapItem, inputs: GapInputs, t: Translator) -> str:
    children = "、".join(
        f"{inputs.child_names[c][0]}（{inputs.child_names[c][1].rsplit('/', 1)[-1]}）"
        for c in item.child_ids
    )
    if not item.volunteer_ids:
        return f"• {children}"
    volunteers = "、".join(inputs.volunteer_names[v] for v in item.volunteer_ids)
    return f"• {children} — {volunteers}"


def report(gaps: list[GapItem], inputs: GapInputs, t: Translator, area: str) -> list[str]:
    """The report as messages under Telegram's length limit."""
    if not gaps:
        return [t("unpaired.none", area=area)]
    blocks = [t("unpaired.title", area=area, count=len(gaps))]
    for gap in Gap:
        items = [g for g in gaps if g.gap == gap]
        if not items:
            continue
        lines = [t(labels.GAP[gap], count=len(items))]
        lines += [_line(item, inputs, t) for item in items[:SHOWN_PER_GAP]]
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
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_chat is not None
    today = context.services.today()
    async with context.services.sessions() as session:
        inputs = await pairings.gap_inputs(session, viewer.area_path)
    gaps = find_gaps(inputs.children, inputs.volunteers, inputs.pairings, today)
    for text in report(gaps, inputs, t, viewer.area_path):
        await update.effective_chat.send_message(text)


@guarded(Role.SUPERVISOR)
async def reviewed(update: Update, context: BotContext) -> None:
    """`pr:review:<child id>`: the child's pairings were reviewed today."""
    query, viewer = update.callback_query, context.viewer
    assert query is not None and query.data is not None and viewer is not None
    value = query.data.removeprefix("pr:review:")
    async with context.services.sessions.begin() as session:
        allowed = value.isdigit() and await store.visible(session, child_scope(viewer), int(value))
        count = 0
        if allowed:
            today = context.services.today()
            count = await pairings.review(
                session, child_id=int(value), on=today, actor_id=viewer.person_id
            )
    if not allowed:
        await query.answer(context.t("child.forbidden"), show_alert=True)
        return
    await query.answer(context.t("pair.reviewed", count=count), show_alert=True)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        UNPAIRED.handler(unpaired),
        CallbackQueryHandler(reviewed, pattern=PAIRING_REVIEWED.pattern),
    ]
