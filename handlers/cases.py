"""Cases in chat: `/cases`, a case's private view (audited) with its timeline, "I'm handling
it" (acknowledge), and resolving with an outcome; the reporter is told of each."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler

from care.cases import Situation, Status
from care.roles import Role, Viewer
from conversations.form import Answers, Form, Invalid, Question
from handlers import labels
from handlers.alerts import number_of, wake_sender
from handlers.context import BotContext, Services
from handlers.guard import guarded
from handlers.keyboards import keyboard
from locales import Translator
from locales import _ as mark
from storage import audit, cases, outbox, people
from storage.models import Case
from storage.outbox import Message

SHOWN = 20


def _may_handle(viewer: Viewer, area_path: str) -> bool:
    """Directors for their village, supervisors and admins for their area."""
    return viewer.at_least(Role.DIRECTOR) and viewer.sees(area_path)


def _age(t: Translator, since: datetime, now: datetime) -> str:
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 60:
        return t("cases.minutes", n=minutes)
    if minutes < 48 * 60:
        return t("cases.hours", n=minutes // 60)
    return t("cases.days", n=minutes // (24 * 60))


@guarded(Role.DIRECTOR)
async def list_cases(update: Update, context: BotContext) -> None:
    viewer, t, services = context.viewer, context.t, context.services
    assert viewer is not None and update.effective_chat is not None
    async with services.sessions() as session:
        found = await cases.open_in_area(session, area_path=viewer.area_path, limit=SHOWN)
    if not found:
        await update.effective_chat.send_message(t("cases.none"))
        return
    now = services.now()
    lines, rows = [t("cases.title", area=viewer.area_path)], []
    for case, path in found:
        status = t(labels.STATUS[Status(case.status)])
        line = t("cases.line", mark="🚨" if case.urgent else "📋", number=number_of(services, case),
                 situation=t(labels.SITUATION[Situation(case.situation)]),
                 village=path.rsplit("/", 1)[-1], age=_age(t, case.created_at, now),
                 status=status)  # fmt: skip
        lines.append(line)
        rows.append([(t("cases.open", number=number_of(services, case)), f"case:open:{case.id}")])
    await update.effective_chat.send_message("\n".join(lines), reply_markup=keyboard(rows))


async def _case_for(update: Update, context: BotContext, prefix: str) -> tuple[Case, str] | None:
    """The case a button names, if the viewer may handle it (checked here, every time)."""
    query, viewer = update.callback_query, context.viewer
    assert query is not None and query.data is not None and viewer is not None
    value = query.data.removeprefix(prefix)
    found = None
    if value.isdigit():
        async with context.services.sessions() as session:
            found = await cases.with_area(session, int(value))
    if found is None or not _may_handle(viewer, found[1]):
        await query.answer(context.t("cases.forbidden"), show_alert=True)
        return None
    return found


@guarded(Role.VOLUNTEER)
async def open_case(update: Update, context: BotContext) -> None:
    found = await _case_for(update, context, "case:open:")
    if found is None:
        return
    case, path = found
    viewer, t, services = context.viewer, context.t, context.services
    assert viewer is not None and case.id is not None and update.effective_chat is not None
    async with services.sessions.begin() as session:
        child = await cases.child_name(session, case)
        reporter = await cases.person_name(session, case.reporter_id)
        events = await cases.timeline(session, case.id)
        cases.event(session, case_id=case.id, kind="viewed", person_id=viewer.person_id)
        audit.record(session, actor_id=viewer.person_id, action="case_view",
                     subject=f"case:{case.id}")  # fmt: skip
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
        buttons.append((t("alert.ack"), f"case:ack:{case.id}"))
    if case.status != Status.RESOLVED:
        buttons.append((t("case.resolve"), f"case:res:{case.id}"))
    await update.callback_query.answer()  # type: ignore[union-attr]
    await update.effective_chat.send_message(
        "\n".join(lines), reply_markup=keyboard([buttons]) if buttons else None
    )


async def _tell_reporter(
    session: AsyncSession, services: Services, case: Case, key: str, **params: str
) -> Message:
    """Planned into the outbox with the change, so the reporter is told even after a crash."""
    assert case.id is not None
    reporter = await people.get(session, case.reporter_id)
    assert reporter is not None
    t = services.translator(reporter.locale or services.settings.default_locale)
    text = t(key, number=number_of(services, case), **params)
    return Message(f"case:{case.id}:{key}", reporter.tg_user_id, text, person_id=reporter.id,
                   case_id=case.id)  # fmt: skip


@guarded(Role.VOLUNTEER)
async def acknowledge(update: Update, context: BotContext) -> None:
    found = await _case_for(update, context, "case:ack:")
    if found is None:
        return
    case, _path = found
    viewer, t, services = context.viewer, context.t, context.services
    query = update.callback_query
    assert viewer is not None and case.id is not None and query is not None
    now = services.now()
    async with services.sessions.begin() as session:
        notice = await _tell_reporter(session, services, case, mark("case.acknowledged_notice"),
                                      name=viewer.name, time=t.datetime(now))  # fmt: skip
        done = await cases.acknowledge(
            session, case_id=case.id, person_id=viewer.person_id, now=now
        )
        if done:
            await outbox.plan(session, [notice], now=now)
            audit.record(session, actor_id=viewer.person_id, action="case_ack",
                         subject=f"case:{case.id}")  # fmt: skip
    if done:
        wake_sender(context.application)
        await query.answer(
            t("case.acknowledged", number=number_of(services, case)), show_alert=True
        )
    else:
        await query.answer(t("case.already_taken"), show_alert=True)


async def _outcome(text: str, _context: BotContext, _answers: Answers) -> str:
    value = " ".join(text.split())
    if not 2 <= len(value) <= 1000:
        raise Invalid(mark("checkin.details_length"), limit=1000)
    return value


async def _may_resolve(context: BotContext, answers: Answers) -> bool:
    viewer = context.viewer
    if viewer is None:
        return False
    async with context.services.sessions() as session:
        found = await cases.with_area(session, answers["case"])
    return (
        found is not None and _may_handle(viewer, found[1]) and found[0].status != Status.RESOLVED
    )


async def _resolve_summary(context: BotContext, answers: Answers) -> str:
    return context.t("case.resolve_summary", outcome=answers["outcome"])


async def _resolve(update: Update, context: BotContext, answers: Answers) -> str:
    viewer, services = context.viewer, context.services
    assert viewer is not None
    now = services.now()
    async with services.sessions.begin() as session:
        found = await cases.with_area(session, answers["case"])
        assert found is not None
        case = found[0]
        notice = await _tell_reporter(session, services, case, mark("case.resolved_notice"),
                                      outcome=answers["outcome"])  # fmt: skip
        done = await cases.resolve(session, case_id=answers["case"], person_id=viewer.person_id,
                                   outcome=answers["outcome"], now=now)  # fmt: skip
        if done:
            await outbox.plan(session, [notice], now=now)
            audit.record(session, actor_id=viewer.person_id, action="case_resolve",
                         subject=f"case:{answers['case']}")  # fmt: skip
    wake_sender(context.application)
    key = mark("case.resolved") if done else mark("case.already_resolved")
    return context.t(key, number=number_of(services, case))


RESOLVE = Form(
    name="resolve",
    prefix="rs",
    questions=[
        Question(
            "outcome", mark("case.ask_outcome"), mark("case.ask_outcome.short"), parse=_outcome
        )
    ],
    summary=_resolve_summary,
    save=_resolve,
    allowed=_may_resolve,
)


@guarded(Role.DIRECTOR)
async def begin_resolve(update: Update, context: BotContext) -> int:
    found = await _case_for(update, context, "case:res:")
    if found is None or found[0].id is None:
        return ConversationHandler.END
    await update.callback_query.answer()  # type: ignore[union-attr]
    return await RESOLVE.start(update, context, {"case": found[0].id})


def handlers() -> list[object]:
    return [
        RESOLVE.handlers([CallbackQueryHandler(begin_resolve, pattern=r"^case:res:")]),
        CommandHandler("cases", list_cases),
        CallbackQueryHandler(open_case, pattern=r"^case:open:"),
        CallbackQueryHandler(acknowledge, pattern=r"^case:ack:"),
    ]
