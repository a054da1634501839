"""From a reminder: "Plan a date" (the day the volunteer will go; reminded on it) and "Snooze"
(with a reason, for a few days). Only for a child paired with the person."""

from __future__ import annotations

from datetime import date, timedelta

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.roles import Role
from conversations.checkin import children_of
from locales import _ as mark
from service import visits as service
from service.actions import PLAN_VISIT
from service.actions import SNOOZE as SNOOZE_ACTION
from toolkit.context import BotContext
from toolkit.form import Answers, Forbidden, Form, Question
from toolkit.guard import guarded

PLAN_DAYS = (0, 1, 2, 3, 7)
SNOOZE_DAYS = (3, 7, 14)
REASONS = ("away", "ill", "phoned", "other")
REASON_LABELS = {
    "away": mark("snooze.away"),
    "ill": mark("snooze.ill"),
    "phoned": mark("snooze.phoned"),
    "other": mark("snooze.other"),
}


async def _own_child(context: BotContext, answers: Answers) -> bool:
    """A child paired with this volunteer (directors: of their village)."""
    return bool(await children_of(context, answers["child"]))


async def _name(context: BotContext, answers: Answers) -> str:
    found = await children_of(context, answers["child"])
    return found[0].name if found else "?"


async def _days(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    today = context.services.today()
    return [(str(n), context.t.date(today + timedelta(days=n))) for n in PLAN_DAYS]


async def _plan_summary(context: BotContext, answers: Answers) -> str:
    day = context.services.today() + timedelta(days=int(answers["day"]))
    return context.t("plan.summary", name=await _name(context, answers), day=context.t.date(day))


async def _plan_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    day: date = context.services.today() + timedelta(days=int(answers["day"]))
    if not await service.plan_visit(context.services, context.viewer, answers["child"], day):
        raise Forbidden()
    return context.t("plan.saved", day=context.t.date(day))


async def _reasons(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [(r, context.t(REASON_LABELS[r])) for r in REASONS]


async def _lengths(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [(str(n), context.t.n("snooze.days", n, n=n)) for n in SNOOZE_DAYS]


async def _snooze_summary(context: BotContext, answers: Answers) -> str:
    key = REASON_LABELS[answers["reason"]]
    reason = context.t(key)
    name = await _name(context, answers)
    days = int(answers["length"])
    return context.t.n("snooze.summary", days, name=name, n=days, reason=reason)


async def _snooze_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    until = context.services.today() + timedelta(days=int(answers["length"]))
    if not await service.snooze(
        context.services, context.viewer, answers["child"], until, answers["reason"]
    ):
        raise Forbidden()
    return context.t("snooze.saved", day=context.t.date(until))


PLAN = Form(
    name="plan", prefix="pl", summary=_plan_summary, save=_plan_save, allowed=_own_child,
    questions=[Question("day", mark("plan.ask_day"), mark("plan.ask_day.short"), choices=_days)],
)  # fmt: skip
SNOOZE = Form(
    name="snooze", prefix="sz", summary=_snooze_summary, save=_snooze_save, allowed=_own_child,
    questions=[
        Question("reason", mark("snooze.ask_reason"), mark("snooze.ask_reason.short"),
                 choices=_reasons),
        Question("length", mark("snooze.ask_length"), mark("snooze.ask_length.short"),
                 choices=_lengths),
    ],
)  # fmt: skip


@guarded(Role.VOLUNTEER)
async def begin(update: Update, context: BotContext) -> int:
    """`vp:plan:<child>` or `vp:snz:<child>` from a reminder."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, what, child = ([*query.data.split(":"), "", ""])[:3]
    await query.answer()
    if what not in ("plan", "snz") or not child.isdigit():
        return ConversationHandler.END
    form = PLAN if what == "plan" else SNOOZE
    return await form.start(update, context, {"child": int(child)})


def handlers() -> list[ConversationHandler[BotContext]]:
    return [
        PLAN.handlers([CallbackQueryHandler(begin, pattern=PLAN_VISIT.pattern)]),
        SNOOZE.handlers([CallbackQueryHandler(begin, pattern=SNOOZE_ACTION.pattern)]),
    ]
