"""`/people` (supervisors, admins): who is registered in one's area; deactivating someone. A
volunteer still paired with children is shown with those children first, each with a
Reassign button; deactivated anyway, the children are listed as gaps ("volunteer left")
until reassigned.
Reads and the deactivation are use cases (service.people), which check role and area."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.roles import Role
from locales import _ as mark
from locales import labels
from service import people
from service.actions import REASSIGN, Action
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.keyboards import keyboard, pager
from toolkit.menus import set_menu

PEOPLE = Command("people", Role.SUPERVISOR, mark("cmd.people"), menu=2)
PAGE = Action("ppl:page")  # ppl:page:<page>
ASK = Action("ppl:ask")  # ppl:ask:<person>: are you sure?
OFF = Action("ppl:off")  # ppl:off:<person>: deactivate
MOVES_SHOWN = 10  # children offered to reassign before deactivating (the rest: /unpaired)


async def list_people(update: Update, context: BotContext) -> None:
    await _show_page(update, context, 0)


async def turn_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await _show_page(update, context, PAGE.id(query.data) or 0)


async def _show_page(update: Update, context: BotContext, page: int, note: str = "") -> None:
    """The page as a new message (the command) or in place of the pressed one (answered)."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_chat is not None
    found = await people.page(context.services, viewer, page)
    if isinstance(found, people.Refusal):
        await _refuse(update, context)
        return
    lines = [note, ""] if note else []
    lines.append(t("people.title", area=found.area_path, count=found.total))
    buttons: list[list[tuple[str, str]]] = []
    for person in found.lines:
        status = "" if person.active else " " + t("people.inactive")
        if person.unreachable:
            status += " " + t("people.unreachable")
        role = t(labels.ROLE[person.role])
        lines.append(f"• {person.name} · {role} · {person.area_path}{status}")
        if person.manageable:
            buttons.append([(t("people.deactivate", name=person.name), ASK(person.person_id))])
    nav = pager(PAGE, found.page, found.pages, t("common.previous"), t("common.next"))
    if nav:
        buttons.append(nav)
    text = "\n".join(lines)
    if update.callback_query:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(buttons))
    else:
        await update.effective_chat.send_message(text, reply_markup=keyboard(buttons))


async def _refuse(update: Update, context: BotContext) -> None:
    if update.callback_query:
        await update.callback_query.answer(context.t("guard.forbidden"), show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(context.t("guard.forbidden"))


async def confirm_deactivate(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    person_id = ASK.id(query.data)
    found = (
        await people.target(context.services, context.viewer, person_id)
        if person_id is not None
        else people.Refusal.UNKNOWN
    )
    if isinstance(found, people.Refusal):
        await _refuse(update, context)
        return
    t = context.t
    text = t("people.confirm_deactivate", name=found.name, area=found.area_path)
    rows: list[list[tuple[str, str]]] = []
    if found.children:
        names = "\n".join(
            f"• {c.name}（{c.area_path.rsplit('/', 1)[-1]}）" for c in found.children[:MOVES_SHOWN]
        )
        count = len(found.children)
        text = t.n("people.paired_children", count, name=found.name, count=count,
                   children=names) + "\n\n" + text  # fmt: skip
        rows += [[(t("people.reassign", name=c.name), REASSIGN(c.child_id))]
                 for c in found.children[:MOVES_SHOWN]]  # fmt: skip
    yes = t("people.yes_deactivate_anyway") if found.children else t("people.yes_deactivate")
    rows.append([(yes, OFF(found.person_id)), (t("common.back"), PAGE(0))])
    await query.answer()
    await query.edit_message_text(text, reply_markup=keyboard(rows))


async def deactivate(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    person_id = OFF.id(query.data)
    done = (
        await people.deactivate(context.services, context.viewer, person_id)
        if person_id is not None
        else people.Refusal.UNKNOWN
    )
    if isinstance(done, people.Refusal):
        await _refuse(update, context)
        return
    await set_menu(context.bot, chat_id=done.tg_user_id, role=None, t=context.t)
    note = context.t("people.deactivated", name=done.name)
    if done.invites_revoked:
        note += "\n" + context.t("people.invites_revoked", count=done.invites_revoked)
    if done.children_left:
        note += "\n" + context.t.n(
            "people.children_left", done.children_left, count=done.children_left
        )
    await _show_page(update, context, 0, note)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        PEOPLE.handler(list_people),
        CallbackQueryHandler(PEOPLE.guard(turn_page), pattern=PAGE.pattern),
        CallbackQueryHandler(PEOPLE.guard(confirm_deactivate), pattern=ASK.pattern),
        CallbackQueryHandler(PEOPLE.guard(deactivate), pattern=OFF.pattern),
    ]
