"""Adding a child (`/addchild`) and changing a child's colour, school or guardian from the
card: directors for their village, supervisors and admins for their area. Every answer is
checked as it is given; every change is audited."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.access import may_edit_children
from care.children import (
    TEXT_LENGTHS,
    Category,
    Colour,
    InvalidValue,
    Schooling,
    eligibility_problems,
)
from care.idcard import normalize_id, parse_id
from care.ledger import ProblemCode, normalize_phone
from care.roles import Gender, Role, clean_name
from locales import _ as mark
from locales import labels
from service import children as service
from service.actions import EDIT_CHILD
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.form import Answers, Forbidden, Form, Invalid, ParseFn, Question

ADDCHILD = Command("addchild", Role.DIRECTOR, mark("cmd.addchild"), menu=4)

MAX_TEXT = 200


# Why a use case refused, as the form says it (the flow ends there; nothing was written).
REFUSALS = {
    service.Refusal.ROLE: mark("guard.forbidden"),
    service.Refusal.CHILD: mark("guard.forbidden"),
    service.Refusal.AREA: mark("guard.forbidden_area"),
    service.Refusal.ID_TAKEN: mark("add.id_taken"),
    service.Refusal.CLOSED: mark("closing.read_only"),
}


async def _child(context: BotContext, answers: Answers) -> service.Editable | None:
    assert context.viewer is not None
    return await service.editable(context.services, context.viewer, answers["child_id"])


async def _child_name(context: BotContext, answers: Answers) -> str:
    child = await _child(context, answers)
    return child.name if child else ""


async def may_edit(context: BotContext, answers: Answers) -> bool:
    """The viewer keeps records and may see this child, and the record is open: checked when a
    form starts and at its summary; saving checks again, in the use case's transaction."""
    child = await _child(context, answers) if context.viewer is not None else None
    return child is not None and child.open


async def _saved(change: Awaitable[service.Saved], context: BotContext) -> str:
    try:
        saved = await change
    except service.Refused as refused:
        raise Forbidden(REFUSALS[refused.why]) from None
    return context.t("edit.saved", name=saved.name)


def _text(limit: int, problem: str) -> ParseFn:
    async def parse(text: str, _context: BotContext, _answers: Answers) -> str:
        value = " ".join(text.split())
        if not 0 < len(value) <= limit:
            raise Invalid(problem, limit=limit)
        return value

    return parse


async def _colours(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    t = context.t
    return [(c.value, f"{labels.COLOUR_DOT[c]} {t(labels.COLOUR[c])}") for c in Colour]


async def _not_same_colour(value: str, context: BotContext, answers: Answers) -> None:
    child = await _child(context, answers)
    if child is not None and child.colour == value:
        raise Invalid(mark("edit.same_colour"))


async def _phone(text: str, _context: BotContext, _answers: Answers) -> str:
    phone = normalize_phone(text)
    if phone is None:
        raise Invalid(mark("edit.bad_phone"))
    return phone


# -- colour -------------------------------------------------------------------------------


async def _colour_summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    colour = Colour(answers["colour"])
    return t(
        "edit.colour_summary", name=await _child_name(context, answers),
        colour=t(labels.COLOUR[colour]), reason=answers["reason"],
    )  # fmt: skip


async def _colour_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    return await _saved(service.change_colour(
        context.services, context.viewer, answers["child_id"], Colour(answers["colour"]),
        answers["reason"],
    ), context)  # fmt: skip


COLOUR_FORM = Form(
    name="child_colour",
    prefix="fc",
    questions=[
        Question(
            "colour",
            mark("edit.ask_colour"),
            mark("edit.ask_colour.short"),
            choices=_colours,
            check=_not_same_colour,
        ),
        Question(
            "reason",
            mark("edit.ask_reason"),
            mark("edit.ask_reason.short"),
            parse=_text(MAX_TEXT, mark("edit.text_length")),
        ),
    ],
    summary=_colour_summary,
    save=_colour_save,
    allowed=may_edit,
    save_checks=True,  # the use case checks again, in its transaction
)


# -- school -------------------------------------------------------------------------------


async def _schooling(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [(s.name.lower(), context.t(labels.SCHOOLING[s])) for s in Schooling]


async def _school_summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    status = Schooling[answers["schooling"].upper()]
    return t(
        "edit.school_summary", name=await _child_name(context, answers),
        school=answers["school"] or "—", schooling=t(labels.SCHOOLING[status]),
    )  # fmt: skip


async def _school_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    return await _saved(service.change_school(
        context.services, context.viewer, answers["child_id"], answers["school"],
        Schooling[answers["schooling"].upper()],
    ), context)  # fmt: skip


SCHOOL_FORM = Form(
    name="child_school",
    prefix="fs",
    questions=[
        Question(
            "school",
            mark("edit.ask_school"),
            mark("edit.ask_school.short"),
            parse=_text(TEXT_LENGTHS["school"], mark("edit.text_length")),
            skippable=True,
        ),
        Question(
            "schooling",
            mark("edit.ask_schooling"),
            mark("edit.ask_schooling.short"),
            choices=_schooling,
        ),
    ],
    summary=_school_summary,
    save=_school_save,
    allowed=may_edit,
    save_checks=True,  # the use case checks again, in its transaction
)


# -- guardian -----------------------------------------------------------------------------


async def _guardian_summary(context: BotContext, answers: Answers) -> str:
    return context.t(
        "edit.guardian_summary", name=await _child_name(context, answers),
        guardian=answers["guardian_name"], relation=answers["guardian_relation"],
        phone=answers["guardian_phone"] or "—",
    )  # fmt: skip


def _guardian(answers: Answers) -> service.Guardian:
    return service.Guardian(
        answers["guardian_name"], answers["guardian_relation"], answers["guardian_phone"]
    )


async def _guardian_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    return await _saved(service.change_guardian(
        context.services, context.viewer, answers["child_id"], _guardian(answers)
    ), context)  # fmt: skip


GUARDIAN_QUESTIONS = [
    Question(
        "guardian_name",
        mark("edit.ask_guardian_name"),
        mark("edit.ask_guardian_name.short"),
        parse=_text(TEXT_LENGTHS["guardian_name"], mark("edit.text_length")),
    ),
    Question(
        "guardian_relation",
        mark("edit.ask_relation"),
        mark("edit.ask_relation.short"),
        parse=_text(TEXT_LENGTHS["guardian_relation"], mark("edit.text_length")),
    ),
    Question(
        "guardian_phone",
        mark("edit.ask_phone"),
        mark("edit.ask_phone.short"),
        parse=_phone,
        skippable=True,
    ),
]
GUARDIAN_FORM = Form(
    name="child_guardian",
    prefix="fg",
    questions=GUARDIAN_QUESTIONS,
    summary=_guardian_summary,
    save=_guardian_save,
    allowed=may_edit,
    save_checks=True,  # the use case checks again, in its transaction
)

EDIT_FORMS = {"colour": COLOUR_FORM, "school": SCHOOL_FORM, "guardian": GUARDIAN_FORM}


# The record keepers, who add children, are the ones who change them.
@ADDCHILD.guard
async def begin_edit(update: Update, context: BotContext) -> int:
    """EDIT_CHILD from a card: `ce:<colour|school|guardian>:<child id>`."""
    query = update.callback_query
    assert query is not None
    parts = EDIT_CHILD.parts(query.data) or []
    if len(parts) != 2 or parts[0] not in EDIT_FORMS or not parts[1].isdigit():
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    what, child = parts
    assert context.viewer is not None
    found = await service.editable(context.services, context.viewer, int(child))
    if found is not None and not found.open:
        await query.answer(context.t("closing.read_only"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    return await EDIT_FORMS[what].start(update, context, {"child_id": int(child)})


# -- adding a child ---------------------------------------------------------------------------


async def may_add(context: BotContext, _answers: Answers) -> bool:
    return context.viewer is not None and may_edit_children(context.viewer)


async def _name(text: str, _context: BotContext, _answers: Answers) -> str:
    name = clean_name(text)
    if name is None:
        raise Invalid(mark("add.bad_name"))
    return name


async def _id_number(text: str, context: BotContext, _answers: Answers) -> str:
    try:
        info = parse_id(normalize_id(text))
    except InvalidValue as problem:
        raise Invalid(labels.PROBLEM[ProblemCode(problem.code)]) from None
    if info.birth_date > context.services.today():
        raise Invalid(mark("add.birth_in_future"))
    if await service.id_number_taken(context.services, info.number):
        raise Invalid(mark("add.id_taken"))
    return info.number


async def _birth_date(text: str, context: BotContext, _answers: Answers) -> str:
    try:
        day = date.fromisoformat(text.strip().replace("/", "-").replace(".", "-"))
    except ValueError:
        raise Invalid(mark("add.bad_date")) from None
    if day > context.services.today():
        raise Invalid(mark("add.birth_in_future"))
    return day.isoformat()


def _birth(answers: Answers) -> date:
    if answers.get("id_number"):
        return parse_id(answers["id_number"]).birth_date
    return date.fromisoformat(answers["birth_date"])


def _gender(answers: Answers) -> Gender:
    if answers.get("id_number"):
        return parse_id(answers["id_number"]).gender
    return Gender(answers["gender"])


async def _genders(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [(g.value, context.t(labels.GENDER[g])) for g in Gender]


async def _categories(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [(c.value, context.t(labels.CATEGORY[c])) for c in Category]


async def _eligible(value: str, context: BotContext, answers: Answers) -> None:
    category = Category(value)
    if eligibility_problems(_birth(answers), category, context.services.today()):
        raise Invalid(mark("add.not_eligible"), category=context.t(labels.CATEGORY[category]),
                      limit=category.age_limit)  # fmt: skip


async def _villages(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    assert context.viewer is not None
    found = await service.villages(context.services, context.viewer)
    base = context.viewer.area_path.count("/") + 1
    return [(str(v.id), "/".join(v.path.split("/")[base:]) or v.name) for v in found][:90]


async def _consents(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    t = context.t
    return [("yes", t("common.yes")), ("no", t("common.no"))]


async def _add_summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    villages = dict(await _villages(context, answers))
    return t(
        "add.summary",
        name=answers["name"], gender=t(labels.GENDER[_gender(answers)]),
        birth=t.date(_birth(answers)), id=answers.get("id_number") or "—",
        category=t(labels.CATEGORY[Category(answers["category"])]),
        colour=t(labels.COLOUR[Colour(answers["colour"])]),
        village=villages.get(answers["village"], "?"), household=answers["household"] or "—",
        guardian=answers["guardian_name"], relation=answers["guardian_relation"],
        phone=answers["guardian_phone"] or "—",
        consent=t("common.yes") if answers["consent"] == "yes" else t("common.no"),
    )  # fmt: skip


def _new_child(answers: Answers) -> service.NewChild:
    return service.NewChild(
        name=answers["name"], gender=_gender(answers), birth_date=_birth(answers),
        category=Category(answers["category"]), colour=Colour(answers["colour"]),
        village_id=int(answers["village"]), id_number=answers.get("id_number") or None,
        household=answers["household"] or None, guardian=_guardian(answers),
        consent=answers["consent"] == "yes",
    )  # fmt: skip


async def _add_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    try:
        added = await service.add_child(context.services, context.viewer, _new_child(answers))
    except service.Refused as refused:
        raise Forbidden(REFUSALS[refused.why]) from None
    return context.t("add.saved", name=added.name)


ADD_FORM = Form(
    name="child_add",
    prefix="fa",
    questions=[
        Question("name", mark("add.ask_name"), mark("add.ask_name.short"), parse=_name),
        Question(
            "id_number",
            mark("add.ask_id"),
            mark("add.ask_id.short"),
            parse=_id_number,
            skippable=True,
        ),
        Question(
            "gender",
            mark("add.ask_gender"),
            mark("add.ask_gender.short"),
            choices=_genders,
            applies=lambda a: "id_number" in a and not a["id_number"],
        ),
        Question(
            "birth_date",
            mark("add.ask_birth"),
            mark("add.ask_birth.short"),
            parse=_birth_date,
            applies=lambda a: "id_number" in a and not a["id_number"],
        ),
        Question(
            "category",
            mark("add.ask_category"),
            mark("add.ask_category.short"),
            choices=_categories,
            check=_eligible,
        ),
        Question("colour", mark("add.ask_colour"), mark("add.ask_colour.short"), choices=_colours),
        Question(
            "village", mark("add.ask_village"), mark("add.ask_village.short"), choices=_villages
        ),
        Question(
            "household",
            mark("add.ask_household"),
            mark("add.ask_household.short"),
            parse=_text(TEXT_LENGTHS["household"], mark("edit.text_length")),
            skippable=True,
        ),
        *GUARDIAN_QUESTIONS,
        Question(
            "consent", mark("add.ask_consent"), mark("add.ask_consent.short"), choices=_consents
        ),
    ],
    summary=_add_summary,
    save=_add_save,
    allowed=may_add,
    save_checks=True,  # the use case checks again, in its transaction
)


async def begin_add(update: Update, context: BotContext) -> int:
    return await ADD_FORM.start(update, context, {})


def handlers() -> list[ConversationHandler[BotContext]]:
    def edits(what: str) -> CallbackQueryHandler[Any, Any]:
        """The EDIT_CHILD buttons of one form: ce:<what>:<child>."""
        return CallbackQueryHandler(begin_edit, pattern=f"{EDIT_CHILD.pattern}{what}:")

    return [
        *(form.handlers([edits(what)]) for what, form in EDIT_FORMS.items()),
        ADD_FORM.handlers([ADDCHILD.handler(begin_add)]),
    ]
