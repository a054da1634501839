"""Cases in chat: `/cases`, a case's private view (audited) with its timeline, and "I'm handling
it" (acknowledge); resolving is a flow (conversations.resolve). The reporter is told of each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.cases import Situation, Status
from care.roles import Role
from locales import Translator, labels
from locales import _ as mark
from service import cases as service
from service.actions import CASE_ACK, CASE_OPEN, CASE_RESOLVE
from service.alerts import number_of
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.guard import guarded
from toolkit.keyboards import keyboard
from toolkit.saving import NotSaved, patiently

CASES = Command("cases", Role.DIRECTOR, mark("cmd.cases"), menu=1)
SHOWN = 20


def _age(t: Translator, since: datetime, now: datetime) -> str:
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 60:
        return t("cases.minutes", n=minutes)
    if minutes < 48 * 60:
        return t("cases.hours", n=minutes // 60)
    days = minutes // (24 * 60)
    return t.n("cases.days", days, n=days)


async def list_cases(update: Update, context: BotContext) -> None:
    viewer, t, services = context.viewer, context.t, context.services
    assert viewer is not None and update.effective_chat is not None
    found = await service.open_cases(services, viewer, limit=SHOWN + 1)  # one more: are there?
    if found is None:
        await update.effective_chat.send_message(t("guard.forbidden"))
        return
    if not found:
        await update.effective_chat.send_message(t("cases.none"))
        return
    now = services.now()
    lines, rows = [t("cases.title", area=viewer.area_path)], []
    if len(found) > SHOWN:  # the header says the list is cut
        lines.append(t.n("cases.shown_first", SHOWN, count=SHOWN))
    for case, path in found[:SHOWN]:
        assert case.id is not None  # read back from the database
        status = t(labels.STATUS[Status(case.status)])
        line = t("cases.line", mark="🚨" if case.urgent else "📋", number=number_of(services, case),
                 situation=t(labels.SITUATION[Situation(case.situation)]),
                 village=path.rsplit("/", 1)[-1], age=_age(t, case.created_at, now),
                 status=status)  # fmt: skip
        lines.append(line)
        rows.append([(t("cases.open", number=number_of(services, case)), CASE_OPEN(case.id))])
    await update.effective_chat.send_message("\n".join(lines), reply_markup=keyboard(rows))


async def open_case(update: Update, context: BotContext) -> None:
    query, viewer, t, services = update.callback_query, context.viewer, context.t, context.services
    assert query is not None and viewer is not None and update.effective_chat is not None
    case_id = CASE_OPEN.id(query.data)
    shown = await service.view(services, viewer, case_id) if case_id is not None else None
    if shown is None:
        await query.answer(t("cases.forbidden"), show_alert=True)
        return
    case, path, child, reporter, events = (
        shown.case, shown.area_path, shown.child, shown.reporter, shown.timeline
    )
    assert case.id is not None
    lines = [
        t("case.title", mark="🚨" if case.urgent else "📋", number=number_of(services, case),
          status=t(labels.STATUS[Status(case.status)])),
        t("case.child", name=child, area=path),
        t("case.situation", situation=t(labels.SITUATION[Situation(case.situation)])),
        t("case.reporter", name=reporter, time=t.datetime(case.created_at)),
    ]  # fmt: skip
    if case.place:
        lines.append(t("case.place", place=case.place))
    if case.description:
        lines.append(t("case.description", text=case.description))
    if case.voice_file_id or case.photo_file_id:
        lines.append(t("case.media"))
    if case.outcome:
        lines.append(t("case.outcome", outcome=case.outcome))
    lines.append(t("case.timeline"))
    for event, name in events:
        what = t(labels.EVENT.get(event.kind, labels.EVENT["reported"]))
        lines.append(f"· {t.datetime(event.at)} {what}" + (f" · {name}" if name else ""))
    buttons = []
    if case.status == Status.OPEN:
        buttons.append((t("alert.ack"), CASE_ACK(case.id)))
    if case.status != Status.RESOLVED:
        buttons.append((t("case.resolve"), CASE_RESOLVE(case.id)))
    await query.answer()
    await update.effective_chat.send_message(
        "\n".join(lines), reply_markup=keyboard([buttons]) if buttons else None
    )


async def acknowledge(update: Update, context: BotContext) -> None:
    query, viewer = update.callback_query, context.viewer
    assert query is not None and viewer is not None
    case_id = CASE_ACK.id(query.data)
    changed, t = None, context.t
    if case_id is not None:
        try:
            changed = await patiently(
                update, context, lambda: service.acknowledge(context.services, viewer, case_id)
            )
        except NotSaved:
            await query.answer(t("save.not_yet"), show_alert=True)
            return
    if changed is None:
        await query.answer(t("cases.forbidden"), show_alert=True)
    elif changed.done:
        await query.answer(t("case.acknowledged", number=changed.number), show_alert=True)
    else:
        await query.answer(t("case.already_taken"), show_alert=True)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CASES.handler(list_cases),
        CallbackQueryHandler(guarded(Role.VOLUNTEER)(open_case), pattern=CASE_OPEN.pattern),
        CallbackQueryHandler(guarded(Role.VOLUNTEER)(acknowledge), pattern=CASE_ACK.pattern),
    ]
