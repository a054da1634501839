"""`/report` and `/urgent`: the duty to report (强制报告). A report is written together with its
alerts (the outbox) in one transaction; the reporter gets a case number at once. Someone in
immediate danger is told to call 110 before anything else."""

from __future__ import annotations

import uuid
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.access import child_scope
from care.cases import FROM_RED_FLAG, Situation
from care.roles import Role
from care.visits import RedFlag
from conversations.checkin import children_of
from locales import _ as mark
from locales import labels
from service.actions import REPORT_FROM_VISIT
from service.alerts import first_round_due, number_of, plan_round
from storage import areas, cases, visits
from storage import children as store
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.form import Answers, Form, Invalid, Question
from toolkit.guard import guarded

URGENT_COMMAND = Command("urgent", Role.VOLUNTEER, mark("cmd.urgent"), menu=1)
REPORT_COMMAND = Command("report", Role.VOLUNTEER, mark("cmd.report"), menu=2)

OTHER = "other"


async def _children(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    """One's own children (directors and supervisors: their area's), or a child not listed."""
    mine = [(str(c.id), c.name) for c in await children_of(context)][:40]
    return [*mine, (OTHER, context.t("report.not_listed"))]


async def _situations(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [(s.value, context.t(labels.SITUATION[s])) for s in Situation]


async def _yes_no(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [("yes", context.t("report.danger_yes")), ("no", context.t("report.danger_no"))]


def _text(limit: int):
    async def parse(text: str, _context: BotContext, _answers: Answers) -> str:
        value = " ".join(text.split())
        if not 0 < len(value) <= limit:
            raise Invalid(mark("checkin.details_length"), limit=limit)
        return value

    return parse


def _unlisted(answers: Answers) -> bool:
    return answers.get("child") == OTHER


async def may_report(context: BotContext, answers: Answers) -> bool:
    """Anyone registered; a listed child must be one they may see."""
    viewer = context.viewer
    if viewer is None:
        return False
    child = answers.get("child")
    if child in (None, OTHER):
        return True
    async with context.services.sessions() as session:
        return await store.visible(session, child_scope(viewer), int(child))


async def _child_name(context: BotContext, answers: Answers) -> str:
    if _unlisted(answers):
        return answers["child_name"]
    names = dict(await _children(context, answers))
    return names.get(answers["child"], "?")


async def _summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    urgent = answers.get("danger") == "yes" or answers.get("urgent")
    lines = [
        t(mark("report.summary_urgent") if urgent else mark("report.summary")),
        t("report.summary_child", name=await _child_name(context, answers)),
        t(
            "report.summary_situation",
            situation=t(labels.SITUATION[Situation(answers["situation"])]),
        ),
    ]
    if _unlisted(answers):
        lines.append(t("report.summary_place", place=answers["place"]))
    seen = answers.get("seen")
    if isinstance(seen, str):
        lines.append(t("report.summary_seen", seen=seen))
    elif isinstance(seen, dict):
        lines.append(t("report.summary_media"))
    if answers.get("location"):
        lines.append(t("report.summary_location"))
    return "\n".join(lines)


async def _save(update: Update, context: BotContext, answers: Answers) -> str:
    viewer, services, t = context.viewer, context.services, context.t
    assert viewer is not None
    seen: Any = answers.get("seen")
    location = (answers.get("location") or {}).get("location")
    urgent = bool(answers.get("urgent")) or answers.get("danger") == "yes"
    async with services.sessions.begin() as session:
        if _unlisted(answers):
            child_id, area_id = None, viewer.area_id
        else:
            child = await store.get(session, int(answers["child"]))
            assert child is not None
            child_id, area_id = child.id, child.area_id
        values = {
            "draft_key": answers["key"], "child_id": child_id,
            "child_name": answers.get("child_name", ""), "place": answers.get("place", ""),
            "area_id": area_id, "reporter_id": viewer.person_id,
            "situation": answers["situation"], "urgent": urgent,
            "danger_now": answers.get("danger") == "yes",
            "description": seen if isinstance(seen, str) else "",
            "voice_file_id": seen.get("voice") if isinstance(seen, dict) else None,
            "photo_file_id": seen.get("photo") if isinstance(seen, dict) else None,
            "latitude": location[0] if location else None,
            "longitude": location[1] if location else None,
            "visit_id": answers.get("visit"), "created_at": services.now(),
        }  # fmt: skip
        case, new = await cases.create(session, values)
        if new:
            area = await areas.get(session, case.area_id)
            assert area is not None
            await cases.schedule(session, case=case, at=first_round_due(services, case))
            await plan_round(session, services, case=case, area_path=area.path, round_=0)
    context.services.outbox_planned()
    number = number_of(services, case)
    key = mark("report.saved_urgent") if case.urgent else mark("report.saved")
    return t(key, number=number)


def _questions(urgent: bool) -> list[Question]:
    child = [
        Question("child", mark("report.ask_child"), mark("report.ask_child.short"),
                 choices=_children),
        Question("child_name", mark("report.ask_child_name"), mark("report.ask_child_name.short"),
                 parse=_text(40), applies=_unlisted),
        Question("place", mark("report.ask_place"), mark("report.ask_place.short"),
                 parse=_text(200), applies=_unlisted),
    ]  # fmt: skip
    situation = Question("situation", mark("report.ask_situation"),
                         mark("report.ask_situation.short"), choices=_situations)  # fmt: skip
    if urgent:  # the shortest path: situation, child, one line, send
        return [
            situation, *child,
            Question("seen", mark("report.ask_line"), mark("report.ask_seen.short"),
                     parse=_text(500), media=frozenset({"voice", "photo"}), skippable=True),
        ]  # fmt: skip
    return [
        *child, situation,
        # Before anything else: someone in danger right now needs the police, not a form.
        Question("danger", mark("report.ask_danger"), mark("report.ask_danger.short"),
                 choices=_yes_no, notices={"yes": mark("report.call_110")}),
        Question("seen", mark("report.ask_seen"), mark("report.ask_seen.short"),
                 parse=_text(2000), media=frozenset({"voice", "photo"})),
        Question("location", mark("report.ask_location"), mark("report.ask_location.short"),
                 media=frozenset({"location"}), skippable=True),
    ]  # fmt: skip


REPORT = Form(name="report", prefix="rp", questions=_questions(urgent=False), summary=_summary,
              save=_save, allowed=may_report)  # fmt: skip
URGENT = Form(name="urgent", prefix="ur", questions=_questions(urgent=True), summary=_summary,
              save=_save, allowed=may_report)  # fmt: skip


async def report(update: Update, context: BotContext) -> int:
    return await REPORT.start(update, context, {"key": uuid.uuid4().hex})


async def urgent(update: Update, context: BotContext) -> int:
    assert update.effective_chat is not None
    await update.effective_chat.send_message(context.t("report.urgent_intro"))
    return await URGENT.start(update, context, {"key": uuid.uuid4().hex, "urgent": True})


@guarded(Role.VOLUNTEER)
async def from_visit(update: Update, context: BotContext) -> int:
    """`urg:<visit id>`: an urgent report from a check-in's red flag, pre-filled."""
    query, viewer = update.callback_query, context.viewer
    assert query is not None and query.data is not None and viewer is not None
    value = query.data.removeprefix("urg:")
    visit = None
    if value.isdigit():
        async with context.services.sessions() as session:
            visit = await visits.get(session, int(value))
    if visit is None or visit.person_id != viewer.person_id or not visit.red_flags:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    flag = RedFlag(visit.red_flags.split(",")[0])
    answers = {"key": f"visit-{visit.id}", "urgent": True, "child": str(visit.child_id),
               "situation": FROM_RED_FLAG[flag].value, "visit": visit.id}  # fmt: skip
    return await URGENT.start(update, context, answers)


def handlers() -> list[ConversationHandler]:
    return [
        REPORT.handlers([REPORT_COMMAND.handler(report)]),
        URGENT.handlers([URGENT_COMMAND.handler(urgent),
                         CallbackQueryHandler(from_visit, pattern=REPORT_FROM_VISIT.pattern)]),
    ]  # fmt: skip
