"""Moving a child to another volunteer (`ra:child:<id>`, from /overdue, a child's card or the
deactivation of a volunteer): which pairing ends (asked only when the child has several),
the new volunteer (ranked by the rules), a reason for an override, and why the old pairing
ends; then one step. A supervisor's move is made at once; a director's becomes a proposal
for a supervisor of the town (service.reassign). A child nobody is paired with is simply
paired the same way."""

from __future__ import annotations

import uuid

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.pairing import Rule
from care.roles import Role
from locales import _ as mark
from service import pairing, reassign
from service.actions import REASSIGN
from toolkit.context import BotContext
from toolkit.form import Answers, Forbidden, Form, Invalid, Question
from toolkit.guard import guarded
from toolkit.keyboards import candidate_label, rule_names

MAX_CANDIDATES = 20
NONE = "-"  # the "pairing" answer when no pairing ends

REFUSED = {
    pairing.Refusal.FORBIDDEN: mark("guard.forbidden"),
    pairing.Refusal.VOLUNTEER_GONE: mark("pair.volunteer_gone"),
    pairing.Refusal.ALREADY_PAIRED: mark("pair.already"),
    pairing.Refusal.RULES_CHANGED: mark("pair.rules_changed"),
    pairing.Refusal.REASON: mark("pair.reason_length"),
    pairing.Refusal.ENDED: mark("reassign.ended"),
    pairing.Refusal.NO_SUPERVISOR: mark("reassign.no_supervisor"),
    pairing.Refusal.DECIDED: mark("reassign.decided"),
}


def _ending(answers: Answers) -> int | None:
    value = answers.get("pairing")
    return int(value) if value and value != NONE else None


async def _allowed(context: BotContext, answers: Answers) -> bool:
    assert context.viewer is not None
    found = await reassign.start(context.services, context.viewer, answers["child_id"])
    return found is not None and found.proposing == answers["proposing"]


def _volunteer_label(context: BotContext, name: str, active: bool) -> str:
    return name if active else f"{name} {context.t('people.inactive')}"


async def _pairings(context: BotContext, answers: Answers) -> list[tuple[str, str]]:
    assert context.viewer is not None
    found = await reassign.start(context.services, context.viewer, answers["child_id"])
    if found is None:
        return []
    return [
        (str(p.pairing_id), _volunteer_label(context, p.volunteer_name, p.volunteer_active))
        for p in found.pairings
    ]


async def _candidates(context: BotContext, answers: Answers) -> list[tuple[str, str]]:
    t, viewer = context.t, context.viewer
    assert viewer is not None
    offers = await pairing.candidates(
        context.services, viewer, answers["child_id"], limit=MAX_CANDIDATES,
        ending=_ending(answers), proposing=answers["proposing"],
    )  # fmt: skip
    return [(str(offer.volunteer_id), candidate_label(offer, t)) for offer in offers]



async def _choice(context: BotContext, answers: Answers, volunteer_id: int) -> pairing.Choice:
    """The chosen volunteer and the rules the move would break, from the database now."""
    assert context.viewer is not None
    found = await pairing.choice(
        context.services, context.viewer, answers["child_id"], volunteer_id,
        ending=_ending(answers), proposing=answers["proposing"],
    )  # fmt: skip
    if isinstance(found, pairing.Refusal):
        raise Invalid(REFUSED[found])
    return found


async def _check_volunteer(value: str, context: BotContext, answers: Answers) -> None:
    found = await _choice(context, answers, int(value))
    if Rule.ALREADY_PAIRED in found.breaks:
        raise Invalid(mark("pair.already"))
    answers["breaks"] = [r.value for r in found.breaks]
    answers["new"] = found.volunteer_name


async def _reason(text: str, _context: BotContext, _answers: Answers) -> str:
    reason = pairing.clean_reason(text)
    if reason is None:
        raise Invalid(mark("pair.reason_length"))
    return reason


async def _summary(context: BotContext, answers: Answers) -> str:
    t = context.t
    names = dict(await _pairings(context, answers))
    old = names.get(answers.get("pairing", ""), "")
    child, new = answers["child_name"], answers.get("new", "?")
    if _ending(answers) is None:
        text = t("reassign.summary_pair", child=child, volunteer=new)
    else:
        text = t("reassign.summary", child=child, old=old or "?", volunteer=new,
                 reason=answers.get("reason", ""))  # fmt: skip
    if answers.get("breaks"):
        text += "\n" + t(
            "pair.override", rules=rule_names(answers["breaks"], context.t),
            reason=answers["override"],
        )
    if answers["proposing"]:
        text += "\n" + t("reassign.summary_proposal")
    return text


async def _save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    t = context.t
    request = reassign.MoveRequest(
        child_id=answers["child_id"], pairing_id=_ending(answers),
        volunteer_id=int(answers["volunteer"]), reason=answers.get("reason") or "",
        overridden=tuple(Rule(r) for r in answers.get("breaks", [])),
        override_reason=answers.get("override") or "", draft_key=answers["key"],
    )  # fmt: skip
    if answers["proposing"]:
        proposed = await reassign.propose(context.services, context.viewer, request)
        if proposed is pairing.Refusal.FORBIDDEN:
            raise Forbidden
        if isinstance(proposed, pairing.Refusal):
            return t(REFUSED[proposed])
        return t("reassign.proposed", child=proposed.child_name, volunteer=proposed.volunteer_name,
                 supervisors="、".join(proposed.deciders))  # fmt: skip
    moved = await reassign.move(context.services, context.viewer, request)
    if moved is pairing.Refusal.FORBIDDEN:
        raise Forbidden
    if isinstance(moved, pairing.Refusal):
        return t(REFUSED[moved])
    key = mark("pair.saved") if request.pairing_id is None else mark("reassign.saved")
    return t(key, child=moved.child_name, volunteer=moved.volunteer_name)


QUESTIONS = [
    Question(
        "pairing", mark("reassign.ask_pairing"), mark("reassign.ask_pairing.short"),
        choices=_pairings, applies=lambda a: not a.get("fixed"),
    ),
    Question(
        "volunteer", mark("reassign.ask_volunteer"), mark("pair.ask_volunteer.short"),
        choices=_candidates, check=_check_volunteer,
    ),
    Question(
        "override", mark("pair.ask_reason"), mark("pair.ask_reason.short"),
        parse=_reason, applies=lambda a: bool(a.get("breaks")),
    ),
    Question(
        "reason", mark("reassign.ask_reason"), mark("reassign.ask_reason.short"),
        parse=_reason, applies=lambda a: _ending(a) is not None,
    ),
]  # fmt: skip

REASSIGN_FORM = Form(
    name="reassign",
    prefix="fr",
    questions=QUESTIONS,
    summary=_summary,
    save=_save,
    allowed=_allowed,
    save_checks=True,  # service.reassign checks role and area in its transaction
)


async def begin(update: Update, context: BotContext) -> int:
    """`ra:child:<id>`: the child's pairings decide the first question: none ends (nobody is
    paired: a pairing), the only one ends, or the person chooses which."""
    query = update.callback_query
    assert query is not None and context.viewer is not None
    child_id = REASSIGN.id(query.data)
    found = (
        await reassign.start(context.services, context.viewer, child_id)
        if child_id is not None
        else None
    )
    if found is None or child_id is None:
        await query.answer(context.t("guard.forbidden"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    answers: Answers = {"key": uuid.uuid4().hex, "child_id": child_id,
                        "child_name": found.child_name,
                        "proposing": found.proposing}  # fmt: skip
    if len(found.pairings) <= 1:
        only = found.pairings[0] if found.pairings else None
        answers.update(fixed=True, pairing=str(only.pairing_id) if only else NONE)
    return await REASSIGN_FORM.start(update, context, answers, checked=True)


def handlers() -> list[ConversationHandler[BotContext]]:
    return [
        REASSIGN_FORM.handlers(
            [CallbackQueryHandler(guarded(Role.DIRECTOR)(begin), pattern=REASSIGN.pattern)]
        )
    ]
