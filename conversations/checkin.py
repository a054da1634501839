"""`/checkin`: after a visit, a volunteer (or director) records it in about a minute, mostly by
tapping. The answers are kept as they come (toolkit.persistence), so a check-in half done
continues after a restart; saving is idempotent; afterwards the questions and answers leave
the chat and only a short receipt stays."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.children import Colour, given_name
from care.roles import Role
from care.visits import (
    Care,
    Health,
    Mode,
    Mood,
    Parents,
    Safety,
    Study,
    date_problem,
    days_overdue,
    needs_details,
    next_due,
    red_flags,
)
from locales import _ as mark
from locales import labels
from service import visits as service
from service.actions import CHECK_IN, REPORT_FROM_VISIT
from service.visits import CheckIn, VisitedChild, due_of, overdue_first
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.form import (
    Answers,
    ChoicesFn,
    Forbidden,
    Form,
    Invalid,
    Question,
    Rows,
    free_text,
)

CHECKIN = Command("checkin", Role.VOLUNTEER, mark("cmd.checkin"), menu=3)

DETAILS_LIMIT = 300
NOTES = ("health", "mood", "study", "care", "parents")


async def children_of(context: BotContext, child_id: int | None = None) -> list[VisitedChild]:
    assert context.viewer is not None
    return await service.children_of(context.services, context.viewer, child_id)


async def may_check_in(context: BotContext, answers: Answers) -> bool:
    """Only a child this person may visit: paired (volunteers) or of their area."""
    if context.viewer is None:
        return False
    if "child" not in answers:
        return True
    return await service.may_visit(context.services, context.viewer, int(answers["child"]))


async def _children(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    t, today = context.t, context.services.today()
    options = []
    for child in overdue_first(await children_of(context), today):
        late = days_overdue(due_of(child), today)
        text = (t.n("checkin.child_overdue", late, name=child.name, days=late) if late
                else child.name)  # fmt: skip
        options.append((str(child.id), text))
    return options


E = TypeVar("E", bound=StrEnum)

def _options(context: BotContext, enum: type[E], names: Mapping[E, str]) -> list[tuple[str, str]]:
    return [(member.value, context.t(names[member])) for member in enum]


async def _days(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    t = context.t
    return [("today", t("checkin.today")), ("yesterday", t("checkin.yesterday")),
            ("other", t("checkin.other_day"))]  # fmt: skip


def facts(child: VisitedChild) -> dict[str, str | None]:
    """What the steps need of the child, kept with the answers (read once, not every step)."""
    last = child.last_visit.isoformat() if child.last_visit else None
    return {"name": child.name, "since": child.since.isoformat(), "colour": child.colour,
            "last": last}  # fmt: skip


async def _chose_child(value: str, context: BotContext, answers: Answers) -> None:
    found = await children_of(context, int(value))
    if not found:
        raise Invalid(mark("child.forbidden"))
    answers["facts"] = facts(found[0])


async def _check_day(day: date, context: BotContext, answers: Answers) -> str:
    since = date.fromisoformat(answers["facts"]["since"])
    problem = date_problem(day, today=context.services.today(), since=since)
    if problem is not None:
        raise Invalid(labels.DATE_PROBLEM[problem], since=context.t.date(since))
    return day.isoformat()


async def _check_quick_day(value: str, context: BotContext, answers: Answers) -> None:
    if value != "other":
        offset = 0 if value == "today" else 1
        await _check_day(context.services.today() - timedelta(days=offset), context, answers)


_DAY = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


async def _other_day(text: str, context: BotContext, answers: Answers) -> str:
    match = _DAY.fullmatch(text.strip())
    today = context.services.today()
    try:
        assert match is not None
        day = date(int(match[1] or today.year), int(match[2]), int(match[3]))
    except (AssertionError, ValueError):
        raise Invalid(mark("checkin.bad_date")) from None
    if day > today and not match[1]:  # "12-30" typed in January means last December
        day = day.replace(year=day.year - 1)
    return await _check_day(day, context, answers)


def _choices(enum: type[E], names: Mapping[E, str]) -> ChoicesFn:
    async def choices(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
        return _options(context, enum, names)

    return choices


def _follow_up(key: str, ask: str, label: str) -> Question:
    return Question(
        f"{key}_note", ask, label, parse=free_text(DETAILS_LIMIT), skippable=True,
        applies=lambda a: needs_details(key, a.get(key)),
    )  # fmt: skip


QUESTIONS = [
    Question("child", mark("checkin.ask_child"), mark("checkin.ask_child.short"),
             choices=_children, check=_chose_child),
    Question("day", mark("checkin.ask_day"), mark("checkin.ask_day.short"), choices=_days,
             check=_check_quick_day),
    Question("day_other", mark("checkin.ask_other_day"), mark("checkin.ask_day.short"),
             parse=_other_day, applies=lambda a: a.get("day") == "other"),
    Question("mode", mark("checkin.ask_mode"), mark("checkin.ask_mode.short"),
             choices=_choices(Mode, labels.MODE)),
    Question("health", mark("checkin.ask_health"), mark("checkin.ask_health.short"),
             choices=_choices(Health, labels.HEALTH)),
    _follow_up("health", mark("checkin.ask_health_note"), mark("checkin.ask_health_note.short")),
    Question("mood", mark("checkin.ask_mood"), mark("checkin.ask_mood.short"),
             choices=_choices(Mood, labels.MOOD)),
    _follow_up("mood", mark("checkin.ask_mood_note"), mark("checkin.ask_mood_note.short")),
    Question("study", mark("checkin.ask_study"), mark("checkin.ask_study.short"),
             choices=_choices(Study, labels.STUDY)),
    _follow_up("study", mark("checkin.ask_study_note"), mark("checkin.ask_study_note.short")),
    Question("care", mark("checkin.ask_care"), mark("checkin.ask_care.short"),
             choices=_choices(Care, labels.CARE)),
    _follow_up("care", mark("checkin.ask_care_note"), mark("checkin.ask_care_note.short")),
    Question("parents", mark("checkin.ask_parents"), mark("checkin.ask_parents.short"),
             choices=_choices(Parents, labels.PARENTS)),
    _follow_up("parents", mark("checkin.ask_parents_note"),
               mark("checkin.ask_parents_note.short")),
    Question("safety", mark("checkin.ask_safety"), mark("checkin.ask_safety.short"),
             choices=_choices(Safety, labels.SAFETY), multi=True),
    Question("wishes", mark("checkin.ask_wishes"), mark("checkin.ask_wishes.short"),
             parse=free_text(1000, keep_lines=True), skippable=True),
    Question("problems", mark("checkin.ask_problems"), mark("checkin.ask_problems.short"),
             parse=free_text(1000, keep_lines=True), media=frozenset({"voice"}), skippable=True),
]  # fmt: skip


def visit_day(answers: Answers, today: date) -> date:
    if answers["day"] == "other":
        return date.fromisoformat(answers["day_other"])
    return today - timedelta(days=0 if answers["day"] == "today" else 1)


async def _summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    lines = [t("checkin.summary_title", name=answers["facts"]["name"],
               day=t.date(visit_day(answers, context.services.today())),
               mode=t(labels.MODE[Mode(answers["mode"])]))]  # fmt: skip
    answer_labels: tuple[tuple[str, type[StrEnum], Mapping[Any, str]], ...] = (
        ("health", Health, labels.HEALTH), ("mood", Mood, labels.MOOD),
        ("study", Study, labels.STUDY), ("care", Care, labels.CARE),
        ("parents", Parents, labels.PARENTS),
    )  # fmt: skip
    for key, enum, names in answer_labels:
        line = f"• {t(names[enum(answers[key])])}"
        if answers.get(f"{key}_note"):
            line += f"：{answers[f'{key}_note']}"
        lines.append(line)
    topics = "、".join(t(labels.SAFETY[Safety(s)]) for s in answers["safety"]) or t("form.none")
    lines.append(t("checkin.summary_safety", topics=topics))
    if answers.get("wishes"):
        lines.append(t("checkin.summary_wishes", wishes=answers["wishes"]))
    problems = answers.get("problems")
    if isinstance(problems, dict):
        lines.append(t("checkin.summary_voice"))
    elif problems:
        lines.append(t("checkin.summary_problems", problems=problems))
    flags = red_flags(answers["study"], answers["care"])
    if flags:
        flag_names = "、".join(t(labels.RED_FLAG[f]) for f in flags)
        lines.append("\n" + t("checkin.summary_red_flags", flags=flag_names))
    return "\n".join(lines)


def check_in(answers: Answers, today: date) -> CheckIn:
    """The form's answers, typed, as the use case takes them."""
    problems = answers.get("problems")
    return CheckIn(
        child_id=int(answers["child"]), visited_on=visit_day(answers, today),
        mode=Mode(answers["mode"]), health=Health(answers["health"]),
        mood=Mood(answers["mood"]), study=Study(answers["study"]), care=Care(answers["care"]),
        parents=Parents(answers["parents"]), draft_key=answers["key"],
        notes={k: answers[f"{k}_note"] for k in NOTES if answers.get(f"{k}_note")},
        safety=tuple(Safety(s) for s in answers["safety"]),
        wishes=answers.get("wishes") or "",
        problems=problems if isinstance(problems, str) else "",
        problems_voice=problems["voice"] if isinstance(problems, dict) else None,
    )  # fmt: skip


async def _save(update: Update, context: BotContext, answers: Answers) -> str | tuple[str, Rows]:
    viewer, t = context.viewer, context.t
    assert viewer is not None
    visit = check_in(answers, context.services.today())
    recorded = await service.record_visit(context.services, viewer, visit)
    if recorded is None:  # unpaired (or moved away) since the check-in began
        raise Forbidden(mark("checkin.not_yours"))
    child, day = answers["facts"], visit.visited_on
    last = max(day, date.fromisoformat(child["last"])) if child["last"] else day
    since = date.fromisoformat(child["since"])
    due = next_due(Colour(child["colour"]), last_visit=last, since=since)
    lines = [t("checkin.saved", name=child["name"], due=t.date(due))]
    if not recorded.red_flags:
        return "\n\n".join(lines)
    names = "、".join(t(labels.RED_FLAG[f]) for f in recorded.red_flags)
    lines.append(t("checkin.red_flags_kept", flags=names))
    return "\n\n".join(lines), [[(t("checkin.report_now"), REPORT_FROM_VISIT(recorded.visit_id))]]


async def _receipt(context: BotContext, answers: Answers) -> str:
    day = visit_day(answers, context.services.today())
    name = given_name(answers["facts"]["name"])
    return context.t("checkin.receipt", name=name, day=context.t.date(day))


FORM = Form(
    name="checkin",
    prefix="ci",
    questions=QUESTIONS,
    summary=_summary,
    save=_save,
    allowed=may_check_in,
    receipt=_receipt,
    save_checks=True,
)


async def begin(update: Update, context: BotContext, child_id: int | None = None) -> int:
    """Starts a check-in (for one child when given, or when the person has only one)."""
    children = await children_of(context, child_id)
    if not children:
        assert update.effective_chat is not None
        key = mark("checkin.no_children") if child_id is None else mark("child.forbidden")
        await update.effective_chat.send_message(context.t(key))
        return ConversationHandler.END
    answers: Answers = {"key": uuid.uuid4().hex}
    if len(children) == 1:
        answers.update(child=str(children[0].id), facts=facts(children[0]))
    return await FORM.start(update, context, answers, checked=True)


async def command(update: Update, context: BotContext) -> int:
    return await begin(update, context)


async def for_child(update: Update, context: BotContext) -> int:
    """`cin:<child id>`: "check in now" from /mychildren, a card or a reminder."""
    query = update.callback_query
    assert query is not None and query.data is not None
    child_id = CHECK_IN.id(query.data)
    await query.answer()
    if child_id is None:
        return ConversationHandler.END
    return await begin(update, context, child_id)


def handlers() -> list[ConversationHandler[BotContext]]:
    return [FORM.handlers([CHECKIN.handler(command),
                           CallbackQueryHandler(CHECKIN.guard(for_child),
                                                pattern=CHECK_IN.pattern)])]  # fmt: skip
