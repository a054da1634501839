"""`/pair` and `/unpair` (supervisors, admins). Volunteers are offered ranked by the rules
(care.pairing); a choice that breaks a rule needs an explicit reason, which is recorded."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.access import child_scope, may_pair
from care.children import age_on
from care.pairing import Rule, check_choice, rank_volunteers
from care.roles import Gender, Role
from locales import _ as mark
from locales import labels
from storage import children as store
from storage import pairings
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.form import Answers, Form, Invalid, Question
from toolkit.guard import guarded
from toolkit.keyboards import child_label, keyboard

PAIR = Command("pair", Role.SUPERVISOR, mark("cmd.pair"), menu=4)
UNPAIR = Command("unpair", Role.SUPERVISOR, mark("cmd.unpair"), menu=5)

MAX_CANDIDATES = 20


async def may_pair_child(context: BotContext, answers: Answers) -> bool:
    viewer = context.viewer
    if viewer is None or not may_pair(viewer):
        return False
    async with context.services.sessions() as session:
        return await store.visible(session, child_scope(viewer), answers["child_id"])


def _rules(rules: list[str] | tuple[Rule, ...], context: BotContext) -> str:
    return "；".join(context.t(labels.RULE[Rule(r)]) for r in rules)


async def _candidates(context: BotContext, answers: Answers) -> list[tuple[str, str]]:
    t = context.t
    async with context.services.sessions() as session:
        found = await pairings.context_for(session, answers["child_id"])
    if found is None:
        return []
    ranked = rank_volunteers(
        found.child,
        found.volunteers,
        found.pairings,
        context.services.today(),
        siblings=found.siblings,
    )
    options = []
    for candidate in ranked[:MAX_CANDIDATES]:
        v = candidate.volunteer
        label = t(
            "pair.candidate", name=found.names[v.person_id],
            gender=t(labels.GENDER[Gender(v.gender)]), load=v.load,
        )  # fmt: skip
        if candidate.sibling_family:
            label = "👪 " + label
        if candidate.breaks:
            label += " ⚠ " + _rules(candidate.breaks, context)
        options.append((str(v.person_id), label))
    return options


async def _breaks(context: BotContext, answers: Answers, volunteer_id: int) -> tuple[Rule, ...]:
    """The rules this choice breaks, from the database as it is now (never from the button)."""
    async with context.services.sessions() as session:
        found = await pairings.context_for(session, answers["child_id"])
        chosen = await pairings.volunteer(session, volunteer_id)
    if found is None or chosen is None:
        raise Invalid(mark("pair.volunteer_gone"))
    return check_choice(
        found.child, chosen[0], found.pairings, context.services.today(), siblings=found.siblings
    )


async def _check_volunteer(value: str, context: BotContext, answers: Answers) -> None:
    breaks = await _breaks(context, answers, int(value))
    if Rule.ALREADY_PAIRED in breaks:
        raise Invalid(mark("pair.already"))
    answers["breaks"] = [r.value for r in breaks]


async def _reason(text: str, _context: BotContext, _answers: Answers) -> str:
    reason = " ".join(text.split())
    if not 4 <= len(reason) <= 200:
        raise Invalid(mark("pair.reason_length"))
    return reason


async def _names(context: BotContext, answers: Answers) -> tuple[str, str]:
    async with context.services.sessions() as session:
        found = await pairings.context_for(session, answers["child_id"])
        chosen = await pairings.volunteer(session, int(answers["volunteer"]))
    return (found.name if found else "?"), (chosen[1] if chosen else "?")


async def _summary(context: BotContext, answers: Answers) -> str:
    child, volunteer = await _names(context, answers)
    text = context.t("pair.summary", child=child, volunteer=volunteer)
    if answers.get("breaks"):
        text += "\n" + context.t(
            "pair.override", rules=_rules(answers["breaks"], context), reason=answers["reason"]
        )
    return text


async def _save(update: Update, context: BotContext, answers: Answers) -> str:
    viewer = context.viewer
    assert viewer is not None
    volunteer_id = int(answers["volunteer"])
    breaks = [r.value for r in await _breaks(context, answers, volunteer_id)]
    if Rule.ALREADY_PAIRED.value in breaks:
        return context.t("pair.already")
    if breaks and (set(breaks) - set(answers.get("breaks", [])) or not answers.get("reason")):
        return context.t("pair.rules_changed")  # e.g. a sibling was paired meanwhile
    async with context.services.sessions.begin() as session:
        await pairings.create(
            session, child_id=answers["child_id"], volunteer_id=volunteer_id,
            started_on=context.services.today(), broken_rules=breaks,
            reason=answers.get("reason") or "", actor_id=viewer.person_id,
        )  # fmt: skip
    child, volunteer = await _names(context, answers)
    return context.t("pair.saved", child=child, volunteer=volunteer)


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
)


async def _by_name(update: Update, context: BotContext, form: Form, prefix: str) -> int:
    """`/pair NAME`, `/unpair NAME`: one match starts the flow; several are offered as
    buttons (`<prefix>:child:<id>`), which start it too."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_message is not None
    name = " ".join(context.args or []).strip()[:40]
    if not name:
        await update.effective_message.reply_text(t("pair.usage"))
        return ConversationHandler.END
    async with context.services.sessions() as session:
        lines, total = await store.page(
            session, child_scope(viewer), store.ChildFilter(name=name), offset=0, limit=10
        )
    if total == 1:
        return await form.start(update, context, {"child_id": lines[0].id})
    if total == 0:
        await update.effective_message.reply_text(t("child.not_found", name=name))
        return ConversationHandler.END
    today = context.services.today()
    rows = [
        [(child_label(line, t, age_on(line.birth_date, today)), f"{prefix}:child:{line.id}")]
        for line in lines
    ]
    await update.effective_message.reply_text(
        t("child.several", name=name, count=total), reply_markup=keyboard(rows)
    )
    return ConversationHandler.END


async def pair_command(update: Update, context: BotContext) -> int:
    return await _by_name(update, context, PAIR_FORM, "pair")


def _child_from(data: str, prefix: str) -> int | None:
    value = data.removeprefix(prefix)
    return int(value) if value.isdigit() else None


def _from_card(form: Form, prefix: str):
    """`<prefix><child id>` from a child's card starts `form` for that child."""

    @guarded(Role.SUPERVISOR)
    async def start(update: Update, context: BotContext) -> int:
        query = update.callback_query
        assert query is not None and query.data is not None
        child_id = _child_from(query.data, prefix)
        if child_id is None:
            await query.answer(context.t("common.stale_button"), show_alert=True)
            return ConversationHandler.END
        await query.answer()
        return await form.start(update, context, {"child_id": child_id})

    return start


# -- ending a pairing -------------------------------------------------------------------------


async def _active(context: BotContext, answers: Answers) -> list[tuple[str, str]]:
    async with context.services.sessions() as session:
        found = await pairings.active_with_names(session, answers["child_id"])
    return [(str(pid), name) for pid, name in found]


async def _unpair_summary(context: BotContext, answers: Answers) -> str:
    names = dict(await _active(context, answers))
    return context.t(
        "unpair.summary", volunteer=names.get(answers["pairing"], "?"), reason=answers["reason"]
    )


async def _unpair_save(update: Update, context: BotContext, answers: Answers) -> str:
    assert context.viewer is not None
    async with context.services.sessions.begin() as session:
        ended = await pairings.end(
            session, child_id=answers["child_id"], pairing_id=int(answers["pairing"]),
            on=context.services.today(), reason=answers["reason"],
            actor_id=context.viewer.person_id,
        )  # fmt: skip
    return context.t(mark("unpair.saved") if ended else mark("unpair.gone"))


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
)


async def unpair_command(update: Update, context: BotContext) -> int:
    return await _by_name(update, context, UNPAIR_FORM, "unp")


def handlers() -> list[ConversationHandler]:
    return [
        PAIR_FORM.handlers(
            [
                PAIR.handler(pair_command),
                CallbackQueryHandler(_from_card(PAIR_FORM, "pair:child:"), pattern=r"^pair:child:"),
            ]
        ),
        UNPAIR_FORM.handlers(
            [
                UNPAIR.handler(unpair_command),
                CallbackQueryHandler(_from_card(UNPAIR_FORM, "unp:child:"), pattern=r"^unp:child:"),
            ]
        ),
    ]
