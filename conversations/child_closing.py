"""Closing a child's record and moving a child to another village, from the card's buttons.
Closing: a director (their village), a supervisor or an admin (their area) picks a reason and
writes a line; moving: a supervisor or an admin picks a village of their area and writes why.
The use cases (service.closing) check role, area and the record again when saving."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.closing import NOTE_LENGTH, ClosingReason, clean_note
from care.roles import Role
from locales import _ as mark
from locales import labels
from service import closing
from service.actions import CLOSE_CHILD, MOVE_CHILD
from toolkit.context import BotContext
from toolkit.form import Answers, Forbidden, Form, Invalid, Question, Shortened
from toolkit.guard import guarded

# Why a use case refused, as the form says it (the flow ends there; nothing was written).
REFUSALS = {
    closing.Refusal.ROLE: mark("guard.forbidden"),
    closing.Refusal.CHILD: mark("guard.forbidden"),
    closing.Refusal.CLOSED: mark("closing.read_only"),
    closing.Refusal.REASON: mark("closing.bad_note"),
    closing.Refusal.NOT_AGED_OUT: mark("closing.not_aged_out_now"),
    closing.Refusal.AREA: mark("guard.forbidden_area"),
    closing.Refusal.SAME_VILLAGE: mark("move.same_village"),
}


def _refusal(context: BotContext, why: closing.Refusal) -> str:
    return context.t(REFUSALS[why], min=NOTE_LENGTH[0], max=NOTE_LENGTH[1])


async def _note(text: str, _context: BotContext, _answers: Answers) -> str:
    """A line of explanation: too short is refused; too long keeps its first part, and the
    person is told what was cut (as every description, toolkit.form.free_text)."""
    shortest, longest = NOTE_LENGTH
    note = " ".join(text.split())
    if len(note) > longest:
        raise Shortened(note[:longest], longest, len(note) - longest)
    if clean_note(note) is None:
        raise Invalid(mark("closing.bad_note"), min=shortest, max=longest)
    return note


# -- closing a record -----------------------------------------------------------------------


async def _closable(context: BotContext, answers: Answers) -> closing.Closable | None:
    assert context.viewer is not None
    found = await closing.closable(context.services, context.viewer, answers["child_id"])
    return None if isinstance(found, closing.Refusal) else found


async def may_close(context: BotContext, answers: Answers) -> bool:
    """Checked when the form starts and at its summary; saving checks again."""
    return context.viewer is not None and await _closable(context, answers) is not None


async def _reasons(context: BotContext, _answers: Answers) -> list[tuple[str, str]]:
    return [(r.value, context.t(labels.CLOSING_REASON[r])) for r in ClosingReason]


async def _reached_the_limit(value: str, context: BotContext, answers: Answers) -> None:
    """The reason "reached the age limit" only on or after the day: before it, the record
    closes by itself on that day."""
    child = await _closable(context, answers)
    if value == ClosingReason.AGED_OUT and child is not None and not child.aged_out:
        day, age = context.t.date(child.age_out_on), child.category.age_limit
        raise Invalid(mark("closing.not_aged_out"), name=child.name, day=day, age=age)


async def _close_summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    child = await _closable(context, answers)
    return t(
        "closing.summary", name=answers["name"], village=child.village if child else "—",
        reason=t(labels.CLOSING_REASON[ClosingReason(answers["reason"])]), note=answers["note"],
    )  # fmt: skip


async def _close_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    try:
        closed = await closing.close_child(
            context.services, context.viewer, answers["child_id"],
            ClosingReason(answers["reason"]), answers["note"],
        )  # fmt: skip
    except closing.Refused as refused:
        raise Forbidden(REFUSALS[refused.why]) from None
    return context.t("closing.saved", name=closed.name)


CLOSE_FORM = Form(
    name="child_close",
    prefix="fcl",
    questions=[
        Question(
            "reason",
            mark("closing.ask_reason"),
            mark("closing.ask_reason.short"),
            choices=_reasons,
            check=_reached_the_limit,
        ),
        Question("note", mark("closing.ask_note"), mark("closing.ask_note.short"), parse=_note),
    ],
    summary=_close_summary,
    save=_close_save,
    allowed=may_close,
    save_checks=True,  # the use case checks again, in its transaction
)


@guarded(Role.DIRECTOR)
async def begin_close(update: Update, context: BotContext) -> int:
    """CLOSE_CHILD from a card: `close:child:<child id>`."""
    query = update.callback_query
    assert query is not None and context.viewer is not None
    child_id = CLOSE_CHILD.id(query.data)
    if child_id is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    found = await closing.closable(context.services, context.viewer, child_id)
    if isinstance(found, closing.Refusal):
        await query.answer(_refusal(context, found), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    return await CLOSE_FORM.start(
        update, context, {"child_id": child_id, "name": found.name}, checked=True
    )


# -- moving a child -------------------------------------------------------------------------


async def _movable(context: BotContext, answers: Answers) -> closing.Movable | None:
    assert context.viewer is not None
    found = await closing.movable(context.services, context.viewer, answers["child_id"])
    return None if isinstance(found, closing.Refusal) else found


async def may_move(context: BotContext, answers: Answers) -> bool:
    return context.viewer is not None and await _movable(context, answers) is not None


def _village_label(context: BotContext, path: str) -> str:
    """A village as its path below the viewer's own area (城关镇/东村 for a county's admin)."""
    assert context.viewer is not None
    base = context.viewer.area_path.count("/") + 1
    return "/".join(path.split("/")[base:]) or path.rsplit("/", 1)[-1]


async def _villages(context: BotContext, answers: Answers) -> list[tuple[str, str]]:
    child = await _movable(context, answers)
    if child is None:
        return []
    return [(str(v.id), _village_label(context, v.path)) for v in child.villages][:90]


async def _move_summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    child = await _movable(context, answers)
    if child is None:
        return t("guard.forbidden")
    to = next((v.path for v in child.villages if str(v.id) == answers["village"]), "?")
    text = t(
        "move.summary", name=child.name, from_village=_village_label(context, child.village.path),
        to_village=_village_label(context, to), reason=answers["reason"],
    )  # fmt: skip
    if child.siblings:
        text += "\n" + t("move.siblings", names="、".join(child.siblings))
    return text


async def _move_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    try:
        moved = await closing.move_child(
            context.services, context.viewer, answers["child_id"], int(answers["village"]),
            answers["reason"],
        )  # fmt: skip
    except closing.Refused as refused:
        raise Forbidden(REFUSALS[refused.why]) from None
    return context.t("move.saved", names="、".join(moved.names),
                     village=_village_label(context, moved.to_path))  # fmt: skip


MOVE_FORM = Form(
    name="child_move",
    prefix="fmv",
    questions=[
        Question(
            "village", mark("move.ask_village"), mark("move.ask_village.short"), choices=_villages
        ),
        Question("reason", mark("move.ask_reason"), mark("move.ask_reason.short"), parse=_note),
    ],
    summary=_move_summary,
    save=_move_save,
    allowed=may_move,
    save_checks=True,  # the use case checks again, in its transaction
)


@guarded(Role.SUPERVISOR)
async def begin_move(update: Update, context: BotContext) -> int:
    """MOVE_CHILD from a card: `move:child:<child id>`."""
    query = update.callback_query
    assert query is not None and context.viewer is not None
    child_id = MOVE_CHILD.id(query.data)
    if child_id is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return ConversationHandler.END
    found = await closing.movable(context.services, context.viewer, child_id)
    if isinstance(found, closing.Refusal):
        await query.answer(_refusal(context, found), show_alert=True)
        return ConversationHandler.END
    if not found.villages:
        await query.answer(context.t("move.no_villages"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    return await MOVE_FORM.start(
        update, context, {"child_id": child_id, "name": found.name}, checked=True
    )


def handlers() -> list[ConversationHandler[BotContext]]:
    return [
        CLOSE_FORM.handlers([CallbackQueryHandler(begin_close, pattern=CLOSE_CHILD.pattern)]),
        MOVE_FORM.handlers([CallbackQueryHandler(begin_move, pattern=MOVE_CHILD.pattern)]),
    ]
