"""`/mychildren`: one's children with their last visit and when the next one is due, overdue
first; a button starts a check-in for each."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from care.roles import Role
from care.visits import YEARLY_MINIMUM, days_overdue
from locales import _ as mark
from service.actions import CHECK_IN
from service.visits import children_of, due_of, overdue_first
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.keyboards import keyboard

MESSAGE_LIMIT = 3800
BUTTONS = 20


MYCHILDREN = Command("mychildren", Role.VOLUNTEER, mark("cmd.mychildren"), menu=4)


async def my_children(update: Update, context: BotContext) -> None:
    t, chat = context.t, update.effective_chat
    assert chat is not None
    today = context.services.today()
    assert context.viewer is not None
    children = overdue_first(await children_of(context.services, context.viewer), today)
    if not children:
        await chat.send_message(t("checkin.no_children"))
        return
    lines = [t("mychildren.title", count=len(children))]
    for child in children:
        due = due_of(child)
        late = days_overdue(due, today)
        last = t.date(child.last_visit) if child.last_visit else t("mychildren.never")
        params = dict(name=child.name, last=last, due=t.date(due), days=late,
                      count=child.visits_this_year, minimum=YEARLY_MINIMUM)  # fmt: skip
        overdue_line = t.n("mychildren.line_overdue", late, **params) if late else None
        lines.append(overdue_line or t("mychildren.line", **params))
    rows = [[(t("mychildren.check_in", name=c.name), CHECK_IN(c.id))] for c in children[:BUTTONS]]
    text = "\n".join(lines)
    chunks = [text[i : i + MESSAGE_LIMIT] for i in range(0, len(text), MESSAGE_LIMIT)]
    for chunk in chunks[:-1]:
        await chat.send_message(chunk)
    await chat.send_message(chunks[-1], reply_markup=keyboard(rows))


def handlers() -> list[CommandHandler[Any, Any]]:
    return [MYCHILDREN.handler(my_children)]
