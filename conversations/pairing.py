"""`/pair` and `/unpair` (supervisors, admins). Volunteers are offered ranked by the rules
(care.pairing); a choice that breaks a rule needs an explicit reason, which is recorded. The
reads and the writes are use cases (service.pairing), which check role and area."""

from __future__ import annotations

from collections.abc import Callable

from telegram import ForceReply, Message, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, MessageHandler, filters

from care.children import age_on
from care.pairing import Rule
from care.roles import Role
from care.text import visible
from locales import _ as mark
from locales import in_every_language
from service import pairing
from service.actions import PAIR_CHILD, UNPAIR_CHILD, Action
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.form import Answers, Forbidden, Form, Invalid, Question
from toolkit.guard import Callback
from toolkit.keyboards import candidate_label, child_label, keyboard, rule_names
from toolkit.replies import ReplyTo

PAIR = Command("pair", Role.SUPERVISOR, mark("cmd.pair"), menu=4)
UNPAIR = Command("unpair", Role.SUPERVISOR, mark("cmd.unpair"), menu=5)

MAX_CANDIDATES = 20

# What a refused pairing or ending says, in the catalog.
REFUSED = {
    pairing.Refusal.FORBIDDEN: mark("guard.forbidden"),
    pairing.Refusal.VOLUNTEER_GONE: mark("pair.volunteer_gone"),
    pairing.Refusal.ALREADY_PAIRED: mark("pair.already"),
    pairing.Refusal.RULES_CHANGED: mark("pair.rules_changed"),  # e.g. a sibling was paired
    pairing.Refusal.REASON: mark("pair.reason_length"),
    pairing.Refusal.ENDED: mark("unpair.gone"),
}


async def may_pair_child(context: BotContext, answers: Answers) -> bool:
    viewer = context.viewer
    return viewer is not None and await pairing.may_pair_child(
        context.services, viewer, answers["child_id"]
    )



async def _candidates(context: BotContext, answers: Answers) -> list[tuple[str, str]]:
    t, viewer = context.t, context.viewer
    assert viewer is not None
    offers = await pairing.candidates(
        context.services, viewer, answers["child_id"], limit=MAX_CANDIDATES
    )
    return [(str(offer.volunteer_id), candidate_label(offer, t)) for offer in offers]


async def _choice(context: BotContext, answers: Answers, volunteer_id: int) -> pairing.Choice:
    """The chosen volunteer and the rules they would break, from the database as it is now."""
    viewer = context.viewer
    assert viewer is not None
    found = await pairing.choice(context.services, viewer, answers["child_id"], volunteer_id)
    if isinstance(found, pairing.Refusal):
        raise Invalid(REFUSED[found])
    return found


async def _check_volunteer(value: str, context: BotContext, answers: Answers) -> None:
    found = await _choice(context, answers, int(value))
    if Rule.ALREADY_PAIRED in found.breaks:
        raise Invalid(mark("pair.already"))
    answers["breaks"] = [r.value for r in found.breaks]


async def _reason(text: str, _context: BotContext, _answers: Answers) -> str:
    reason = pairing.clean_reason(text)
    if reason is None:
        raise Invalid(mark("pair.reason_length"))
    return reason


async def _summary(context: BotContext, answers: Answers) -> str:
    try:
        found = await _choice(context, answers, int(answers["volunteer"]))
        child, volunteer = found.child_name, found.volunteer_name
    except Invalid:  # gone meanwhile: saving says so
        child = volunteer = "?"
    text = context.t("pair.summary", child=child, volunteer=volunteer)
    if answers.get("breaks"):
        text += "\n" + context.t(
            "pair.override", rules=rule_names(answers["breaks"], context.t),
            reason=answers["reason"],
        )
    return text


async def _save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    request = pairing.PairRequest(
        child_id=answers["child_id"], volunteer_id=int(answers["volunteer"]),
        overridden=tuple(Rule(r) for r in answers.get("breaks", [])),
        reason=answers.get("reason") or "",
    )  # fmt: skip
    done = await pairing.pair(context.services, context.viewer, request)
    if done is pairing.Refusal.FORBIDDEN:
        raise Forbidden
    if isinstance(done, pairing.Refusal):
        return context.t(REFUSED[done])
    return context.t("pair.saved", child=done.child_name, volunteer=done.volunteer_name)


PAIR_FORM = Form(
    name="pair",
    prefix="fp",
    questions=[
        Question(
            "volunteer",
            mark("pair.ask_volunteer"),
            mark("pair.ask_volunteer.short"),
            choices=_candidates,
            check=_check_volunteer,
        ),
        Question(
            "reason",
            mark("pair.ask_reason"),
            mark("pair.ask_reason.short"),
            parse=_reason,
            applies=lambda a: bool(a.get("breaks")),
        ),
    ],
    summary=_summary,
    save=_save,
    allowed=may_pair_child,
    save_checks=True,  # service.pairing.pair checks role and area in its transaction
)


ASK_NAME = mark("pair.ask_name")


async def _by_name(
    update: Update, context: BotContext, form: Form, card: Action, name: str = ""
) -> int:
    """`/pair NAME`, `/unpair NAME`: one match starts the flow; several are offered as
    buttons (`card`, as on a child's card), which start it too. Without a name, the name is
    asked for: a reply to that question gives it (toolkit.replies)."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_message is not None
    name = name or " ".join(context.args or []).strip()[:40]
    if not name:
        hint = ForceReply(input_field_placeholder=t("child.name_hint"))
        await update.effective_message.reply_text(t(ASK_NAME, command=form.name), reply_markup=hint)
        return ConversationHandler.END
    lines, total = await pairing.find_children(context.services, viewer, name, limit=10)
    if total == 1:
        return await form.start(update, context, {"child_id": lines[0].id})
    if total == 0:
        await update.effective_message.reply_text(t("child.not_found", name=name))
        return ConversationHandler.END
    today = context.services.today()
    rows = [
        [(child_label(line, t, age_on(line.birth_date, today)), card(line.id))] for line in lines
    ]
    await update.effective_message.reply_text(
        t("child.several", name=name, count=total), reply_markup=keyboard(rows)
    )
    return ConversationHandler.END


async def pair_command(update: Update, context: BotContext) -> int:
    return await _by_name(update, context, PAIR_FORM, PAIR_CHILD)


def _from_reply(form: Form, card: Action) -> Callback:
    """A reply to "which child?" asked by `form`'s command: the name it gives."""

    async def start(update: Update, context: BotContext) -> int:
        message = update.effective_message
        assert message is not None and message.text is not None
        return await _by_name(update, context, form, card, visible(message.text)[:40])

    return start


def _asked_by(form: Form) -> Callable[[Message], bool]:
    asked = {text.replace("{command}", form.name) for text in in_every_language(ASK_NAME)}

    def check(message: Message) -> bool:
        quoted = message.reply_to_message
        return bool(quoted and quoted.from_user and quoted.from_user.is_bot
                    and quoted.text in asked)  # fmt: skip

    return check


def _replied(form: Form, card: Action, command: Command) -> MessageHandler[BotContext, int]:
    text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.REPLY
    return MessageHandler(text & ReplyTo(_asked_by(form)), command.guard(_from_reply(form, card)))


def _from_card(form: Form, card: Action) -> Callback:
    """`card` (`<prefix>:<child id>`, on a child's card or a list) starts `form` for that
    child; the form checks role and area before it asks anything."""

    async def start(update: Update, context: BotContext) -> int:
        query = update.callback_query
        assert query is not None
        child_id = card.id(query.data)
        if child_id is None:
            await query.answer(context.t("common.stale_button"), show_alert=True)
            return ConversationHandler.END
        await query.answer()
        return await form.start(update, context, {"child_id": child_id})

    return start


# -- ending a pairing -------------------------------------------------------------------------


async def _active(context: BotContext, answers: Answers) -> list[tuple[str, str]]:
    assert context.viewer is not None
    found = await pairing.active_pairings(context.services, context.viewer, answers["child_id"])
    return [(str(p.pairing_id), p.volunteer_name) for p in found]


async def _unpair_summary(context: BotContext, answers: Answers) -> str:
    names = dict(await _active(context, answers))
    return context.t(
        "unpair.summary", volunteer=names.get(answers["pairing"], "?"), reason=answers["reason"]
    )


async def _unpair_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    request = pairing.UnpairRequest(
        child_id=answers["child_id"], pairing_id=int(answers["pairing"]), reason=answers["reason"]
    )
    done = await pairing.unpair(context.services, context.viewer, request)
    if done is pairing.Refusal.FORBIDDEN:
        raise Forbidden
    if isinstance(done, pairing.Refusal):
        return context.t(REFUSED[done])
    return context.t("unpair.saved")


UNPAIR_FORM = Form(
    name="unpair",
    prefix="fu",
    questions=[
        Question(
            "pairing", mark("unpair.ask_pairing"), mark("unpair.ask_pairing.short"), choices=_active
        ),
        Question(
            "reason", mark("unpair.ask_reason"), mark("unpair.ask_reason.short"), parse=_reason
        ),
    ],
    summary=_unpair_summary,
    save=_unpair_save,
    allowed=may_pair_child,
    save_checks=True,  # service.pairing.unpair checks role and area in its transaction
)


async def unpair_command(update: Update, context: BotContext) -> int:
    return await _by_name(update, context, UNPAIR_FORM, UNPAIR_CHILD)


def handlers() -> list[ConversationHandler[BotContext]]:
    return [
        PAIR_FORM.handlers(
            [
                PAIR.handler(pair_command),
                _replied(PAIR_FORM, PAIR_CHILD, PAIR),
                CallbackQueryHandler(
                    PAIR.guard(_from_card(PAIR_FORM, PAIR_CHILD)), pattern=PAIR_CHILD.pattern
                ),
            ]
        ),
        UNPAIR_FORM.handlers(
            [
                UNPAIR.handler(unpair_command),
                _replied(UNPAIR_FORM, UNPAIR_CHILD, UNPAIR),
                CallbackQueryHandler(
                    UNPAIR.guard(_from_card(UNPAIR_FORM, UNPAIR_CHILD)),
                    pattern=UNPAIR_CHILD.pattern,
                ),
            ]
        ),
    ]
