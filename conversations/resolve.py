"""Resolving a case (from its private view): what was done, confirmed, then the case is closed
and the reporter told (service.cases.resolve)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.roles import Role
from locales import _ as mark
from service import cases as service
from service.actions import CASE_RESOLVE
from toolkit.context import BotContext
from toolkit.form import Answers, Forbidden, Form, Question, free_text
from toolkit.guard import guarded


async def _may_resolve(context: BotContext, answers: Answers) -> bool:
    viewer = context.viewer
    if viewer is None:
        return False
    return await service.may_resolve(context.services, viewer, answers["case"])


async def _summary(context: BotContext, answers: Answers) -> str:
    return context.t("case.resolve_summary", outcome=answers["outcome"])


async def _save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    changed = await service.resolve(
        context.services, context.viewer, answers["case"], answers["outcome"]
    )
    if changed is None:
        raise Forbidden(mark("cases.forbidden"))
    key = mark("case.resolved") if changed.done else mark("case.already_resolved")
    return context.t(key, number=changed.number)


RESOLVE = Form(
    name="resolve",
    prefix="rs",
    questions=[
        Question(
            "outcome", mark("case.ask_outcome"), mark("case.ask_outcome.short"),
            parse=free_text(1000, shortest=2),
        )
    ],
    summary=_summary,
    save=_save,
    allowed=_may_resolve,
)


@guarded(Role.DIRECTOR)
async def begin(update: Update, context: BotContext) -> int:
    query, viewer = update.callback_query, context.viewer
    assert query is not None and viewer is not None
    case_id = CASE_RESOLVE.id(query.data)
    found = await service.handled_by(context.services, viewer, case_id) if case_id else None
    if found is None:
        await query.answer(context.t("cases.forbidden"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    return await RESOLVE.start(update, context, {"case": case_id})


def handlers() -> list[ConversationHandler[BotContext]]:
    return [RESOLVE.handlers([CallbackQueryHandler(begin, pattern=CASE_RESOLVE.pattern)])]
