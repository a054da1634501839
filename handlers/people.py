"""`/people` (supervisors, admins): who is registered in one's area; deactivating someone."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.roles import Role, can_manage
from locales import _ as mark
from locales import labels
from service.actions import Action
from storage import audit, people
from storage.models import Person
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.guard import guarded
from toolkit.keyboards import keyboard, pager
from toolkit.menus import set_menu

PAGE_SIZE = 15


def _int(data: str, prefix: str) -> int | None:
    try:
        return int(data.removeprefix(prefix))
    except ValueError:
        return None


PEOPLE = Command("people", Role.SUPERVISOR, mark("cmd.people"), menu=2)
PAGE = Action("ppl:page")  # ppl:page:<page>
ASK = Action("ppl:ask")  # ppl:ask:<person>: are you sure?
OFF = Action("ppl:off")  # ppl:off:<person>: deactivate


async def list_people(update: Update, context: BotContext) -> None:
    await _show_page(update, context, 0)


@guarded(Role.SUPERVISOR)
async def turn_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    page = _int(query.data, "ppl:page:")
    await query.answer()
    await _show_page(update, context, max(0, page or 0))


async def _show_page(update: Update, context: BotContext, page: int, note: str = "") -> None:
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_chat is not None
    async with context.services.sessions() as session:
        rows, total = await people.in_area_page(
            session, area_path=viewer.area_path, offset=page * PAGE_SIZE, limit=PAGE_SIZE
        )
    lines = [note, ""] if note else []
    lines.append(t("people.title", area=viewer.area_path, count=total))
    buttons: list[list[tuple[str, str]]] = []
    for person, path in rows:
        status = "" if person.active else " " + t("people.inactive")
        if person.unreachable_at is not None:
            status += " " + t("people.unreachable")
        lines.append(f"• {person.name} · {t(labels.ROLE[Role(person.role)])} · {path}{status}")
        if person.active and _may_deactivate(context, person):
            buttons.append([(t("people.deactivate", name=person.name), ASK(person.id))])
    pages = max(1, -(-total // PAGE_SIZE))
    nav = pager("ppl:page", page, pages, t("common.previous"), t("common.next"))
    if nav:
        buttons.append(nav)
    text = "\n".join(lines)
    if update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(buttons))
    else:
        await update.effective_chat.send_message(text, reply_markup=keyboard(buttons))


def _may_deactivate(context: BotContext, person: Person) -> bool:
    viewer = context.viewer
    assert viewer is not None
    return person.id != viewer.person_id and can_manage(viewer.role, Role(person.role))


async def _target(update: Update, context: BotContext, prefix: str) -> tuple[Person, str] | None:
    """The person a button names, if the viewer may manage them: area and role re-checked."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.viewer is not None
    person_id = _int(query.data, prefix)
    found = None
    if person_id is not None:
        async with context.services.sessions() as session:
            found = await people.with_area(session, person_id)
    if found is None or not context.viewer.sees(found[1]) or not _may_deactivate(context, found[0]):
        await query.answer(context.t("guard.forbidden"), show_alert=True)
        return None
    return found


@guarded(Role.SUPERVISOR)
async def confirm_deactivate(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    found = await _target(update, context, "ppl:ask:")
    if found is None:
        return
    person, path = found
    t = context.t
    await query.answer()
    await query.edit_message_text(
        t("people.confirm_deactivate", name=person.name, area=path),
        reply_markup=keyboard(
            [
                [
                    (t("people.yes_deactivate"), OFF(person.id)),
                    (t("common.back"), "ppl:page:0"),
                ]
            ]
        ),
    )


@guarded(Role.SUPERVISOR)
async def deactivate(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    found = await _target(update, context, "ppl:off:")
    if found is None:
        return
    person, _path = found
    async with context.services.sessions.begin() as session:
        assert person.id is not None
        await people.deactivate(session, person.id)
        audit.record(
            session,
            actor_id=context.viewer.person_id,
            action="deactivate",
            subject=f"person:{person.id}",
        )
    context.services.viewers.forget(person.tg_user_id)
    await set_menu(context.bot, chat_id=person.tg_user_id, role=None, t=context.t)
    await query.answer()
    await _show_page(update, context, 0, context.t("people.deactivated", name=person.name))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        PEOPLE.handler(list_people),
        CallbackQueryHandler(turn_page, pattern=PAGE.pattern),
        CallbackQueryHandler(confirm_deactivate, pattern=ASK.pattern),
        CallbackQueryHandler(deactivate, pattern=OFF.pattern),
    ]
