"""`/report` and `/urgent`: the duty to report (强制报告). A report is written together with its
alerts (the outbox) in one transaction; the reporter gets a case number at once. Someone in
immediate danger is told to call 110 before anything else."""

from __future__ import annotations

import uuid

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.cases import Situation
from care.roles import Role
from conversations.checkin import children_of
from locales import _ as mark
from locales import labels
from service import reports as service
from service.actions import REPORT_FROM_VISIT
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.form import Answers, Forbidden, Form, Invalid, ParseFn, Question, free_text

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


def _text(limit: int) -> ParseFn:
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
    return await service.may_report_on(context.services, viewer, int(child))


async def _child_name(context: BotContext, answers: Answers) -> str:
    if _unlisted(answers):
        name: str = answers["child_name"]
        return name
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


def report_of(answers: Answers) -> service.Report:
    """The form's answers, typed, as the use case takes them."""
    seen = answers.get("seen")
    location = (answers.get("location") or {}).get("location")
    unlisted = _unlisted(answers)
    return service.Report(
        situation=Situation(answers["situation"]), draft_key=answers["key"],
        child_id=None if unlisted else int(answers["child"]),
        child_name=answers.get("child_name", "") if unlisted else "",
        place=answers.get("place", "") if unlisted else "",
        urgent=bool(answers.get("urgent")), danger_now=answers.get("danger") == "yes",
        description=seen if isinstance(seen, str) else "",
        voice_file_id=seen.get("voice") if isinstance(seen, dict) else None,
        photo_file_id=seen.get("photo") if isinstance(seen, dict) else None,
        location=(location[0], location[1]) if location else None,
        visit_id=answers.get("visit"),
    )  # fmt: skip


async def _save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    filed = await service.file_report(context.services, context.viewer, report_of(answers))
    if filed is None:  # the child is no longer theirs to see (unpaired, moved away)
        raise Forbidden()
    key = mark("report.saved_urgent") if filed.urgent else mark("report.saved")
    return context.t(key, number=filed.number)


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
                     parse=free_text(500), media=frozenset({"voice", "photo"}), skippable=True),
        ]  # fmt: skip
    return [
        *child, situation,
        # Before anything else: someone in danger right now needs the police, not a form.
        Question("danger", mark("report.ask_danger"), mark("report.ask_danger.short"),
                 choices=_yes_no, notices={"yes": mark("report.call_110")}),
        Question("seen", mark("report.ask_seen"), mark("report.ask_seen.short"),
                 parse=free_text(2000, keep_lines=True), media=frozenset({"voice", "photo"})),
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


async def from_visit(update: Update, context: BotContext) -> int:
    """`urg:<visit id>`: an urgent report from a check-in's red flag, pre-filled."""
    query, viewer = update.callback_query, context.viewer
    assert query is not None and query.data is not None and viewer is not None
    visit_id = REPORT_FROM_VISIT.id(query.data)
    found = None
    if visit_id is not None:
        found = await service.from_visit(context.services, viewer, visit_id)
    if found is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    answers = {"key": found.draft_key, "urgent": True, "child": str(found.child_id),
               "situation": found.situation.value, "visit": found.visit_id}  # fmt: skip
    if found.description:  # the volunteer's own words, shown in the summary to confirm
        answers["seen"] = found.description[:500]
    return await URGENT.start(update, context, answers)


def handlers() -> list[ConversationHandler[BotContext]]:
    from_check_in = CallbackQueryHandler(
        URGENT_COMMAND.guard(from_visit), pattern=REPORT_FROM_VISIT.pattern
    )
    return [  # urgent first: it may interrupt a report too
        URGENT.handlers([URGENT_COMMAND.handler(urgent), from_check_in]),
        REPORT.handlers([REPORT_COMMAND.handler(report)]),
    ]
