"""`/invites` (supervisors, admins): the invites one issued that nobody has used yet, each
with a Revoke button (an admin also sees everyone's for their area). Listing and revoking are
use cases (service.invites), which check who may revoke what, whatever a button claims."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.roles import Role
from locales import Translator, labels
from locales import _ as mark
from service import invites
from service.actions import Action
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.keyboards import keyboard, pager
from toolkit.saving import NotSaved, patiently, quietly

INVITES = Command("invites", Role.SUPERVISOR, mark("cmd.invites"), menu=7)
PAGE = Action("ivs:page")  # ivs:page:<page>
ASK = Action("ivs:ask")  # ivs:ask:<invite>: are you sure?
REVOKE = Action("ivs:off")  # ivs:off:<invite>: revoke it


def _describe(t: Translator, line: invites.InviteLine) -> str:
    text = t("invites.line", code=line.code, role=t(labels.ROLE[line.role]),
             area=line.area_path, until=t.datetime(line.expires_at))  # fmt: skip
    if line.issuer == "":
        text += " · " + t("invites.by_server")
    elif line.issuer is not None:
        text += " · " + t("invites.by", name=line.issuer)
    return text


async def list_invites(update: Update, context: BotContext) -> None:
    await _show_page(update, context, 0)


async def turn_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    await _show_page(update, context, PAGE.id(query.data) or 0)


async def _show_page(
    update: Update, context: BotContext, page: int, note: str = "", *, saved: bool = False
) -> None:
    """The page as a new message (the command) or in place of the pressed one (answered).
    `saved`: after a revocation, when Telegram failing is logged, not apologised for."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_chat is not None
    found = await invites.outstanding(context.services, viewer, page)
    if isinstance(found, invites.Denied):
        await _refuse(update, context, found)
        return
    lines = [note, ""] if note else []
    if not found.total:
        lines.append(t("invites.none"))
    else:
        title = mark("invites.title_area") if viewer.role == Role.ADMIN else mark("invites.title")
        lines.append(t(title, count=found.total, area=viewer.area_path))
    buttons: list[list[tuple[str, str]]] = []
    for line in found.lines:
        lines.append("• " + _describe(t, line))
        buttons.append([(t("invites.revoke", code=line.code), ASK(line.invite_id))])
    nav = pager(PAGE, found.page, found.pages, t("common.previous"), t("common.next"))
    if nav:
        buttons.append(nav)
    text = "\n".join(lines)
    if update.callback_query and saved:
        await quietly(update.callback_query.answer())
        await quietly(update.callback_query.edit_message_text(text, reply_markup=keyboard(buttons)))
    elif update.callback_query:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(buttons))
    else:
        await update.effective_chat.send_message(text, reply_markup=keyboard(buttons))


async def _refuse(update: Update, context: BotContext, why: invites.Denied) -> None:
    key = mark("invites.used") if why == invites.Denied.USED else mark("guard.forbidden")
    if update.callback_query:
        await update.callback_query.answer(context.t(key), show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(context.t(key))


async def confirm_revoke(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    invite_id = ASK.id(query.data)
    found = (
        await invites.target(context.services, context.viewer, invite_id)
        if invite_id is not None
        else invites.Denied.UNKNOWN
    )
    if isinstance(found, invites.Denied):
        await _refuse(update, context, found)
        return
    t = context.t
    await query.answer()
    await query.edit_message_text(
        t("invites.confirm", invite=_describe(t, found)),
        reply_markup=keyboard(
            [[(t("invites.yes_revoke"), REVOKE(found.invite_id)), (t("common.back"), PAGE(0))]]
        ),
    )


async def revoke(update: Update, context: BotContext) -> None:
    """Revokes (committed first, patiently while the database is briefly away), then answers
    the button with the list and a note."""
    query, viewer = update.callback_query, context.viewer
    assert query is not None and viewer is not None
    invite_id = REVOKE.id(query.data)
    if invite_id is None:
        await _refuse(update, context, invites.Denied.UNKNOWN)
        return
    try:
        done = await patiently(
            update, context, lambda: invites.revoke(context.services, viewer, invite_id)
        )
    except NotSaved:
        await query.answer(context.t("save.not_yet"), show_alert=True)
        return
    if isinstance(done, invites.Denied):
        await _refuse(update, context, done)
        return
    key = mark("invites.revoked") if done.changed else mark("invites.already_dead")
    await _show_page(update, context, 0, context.t(key, code=done.code), saved=True)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        INVITES.handler(list_invites),
        CallbackQueryHandler(INVITES.guard(turn_page), pattern=PAGE.pattern),
        CallbackQueryHandler(INVITES.guard(confirm_revoke), pattern=ASK.pattern),
        CallbackQueryHandler(INVITES.guard(revoke), pattern=REVOKE.pattern),
    ]
