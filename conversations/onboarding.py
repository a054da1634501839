"""`/start <code>`: joining by invite. Language, name, gender; then one transaction registers
the person and uses up the invite, so nobody is ever half-registered."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from care.invites import InviteState
from care.roles import Gender, Role, clean_name
from locales import LANGUAGE_NAMES, LOCALES, labels
from locales import _ as mark
from service import invites
from service.actions import Action
from service.replies import plan_reply
from storage.models import Person
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.flows import anything_else, fallbacks
from toolkit.keyboards import column
from toolkit.main_menu import main_keyboard, main_menu
from toolkit.menus import help_text, set_menu
from toolkit.saving import NotSaved, patiently, quietly

START = Command("start", None, mark("cmd.start"), guest=True)
LANGUAGE_CHOICE = Action("ob:lang")  # ob:lang:<locale>
GENDER_CHOICE = Action("ob:gender")  # ob:gender:<gender>

LANGUAGE, NAME, GENDER = range(3)
# A message that is nothing but something shaped like an invite code (care.invites).
BARE_CODE = filters.Regex(r"^\s*[A-Za-z0-9_-]{20,64}\s*$")


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None  # the guard lets through only updates of a person
    draft: dict[str, Any] = context.user_data.setdefault("onboarding", {})
    return draft


async def start(update: Update, context: BotContext) -> int:
    return await _begin(update, context, context.args[0] if context.args else "")


async def by_code(update: Update, context: BotContext) -> int:
    """An invite code sent on its own, as someone given only the code would: as `/start CODE`."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if context.viewer is not None:  # a registered person's word that looks like a code
        await message.reply_text(context.t("common.not_understood"))
        return ConversationHandler.END
    return await _begin(update, context, message.text.strip())


async def _begin(update: Update, context: BotContext, code: str) -> int:
    message = update.effective_message
    assert message is not None
    viewer = context.viewer
    if viewer is not None:
        key = mark("start.already_registered") if code else mark("start.welcome_back")
        await message.reply_text(
            context.t(key, name=viewer.name) + "\n\n" + help_text(viewer.role, context.t),
            reply_markup=main_keyboard(viewer.role, context.t),
        )
        return ConversationHandler.END
    if not code:
        await message.reply_text(context.t("start.invite_only"))
        return ConversationHandler.END
    assert update.effective_user is not None
    invite = await invites.check(context.services, code, tg_user_id=update.effective_user.id)
    if isinstance(invite, invites.Slowed):
        await message.reply_text(context.t("start.invite_slowed", seconds=invite.retry_in))
        return ConversationHandler.END
    if isinstance(invite, InviteState):
        await message.reply_text(context.t(labels.INVITE_REFUSAL[invite]))
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data["onboarding"] = {"code_hash": invite.code_hash, "step": LANGUAGE}
    await message.reply_text(
        context.t("start.invite_ok", role=context.t(labels.ROLE[Role(invite.role)]))
    )
    return await _ask(update, context, LANGUAGE)


async def _ask(update: Update, context: BotContext, step: int, note: str = "") -> int:
    """Asks the question of `step` (after an optional note saying what was wrong)."""
    chat = update.effective_chat
    assert chat is not None
    _draft(context)["step"] = step
    prefix = f"{note}\n\n" if note else ""
    t = context.t
    if step == LANGUAGE:
        buttons = [(LANGUAGE_NAMES[loc], LANGUAGE_CHOICE(loc)) for loc in LOCALES]
        await chat.send_message(prefix + t("onboarding.ask_language"), reply_markup=column(buttons))
    elif step == NAME:
        await chat.send_message(prefix + t("onboarding.ask_name"))
    else:
        buttons = [(t(labels.GENDER[g]), GENDER_CHOICE(g.value)) for g in Gender]
        await chat.send_message(prefix + t("onboarding.ask_gender"), reply_markup=column(buttons))
    return step


async def chose_language(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    locale = LANGUAGE_CHOICE.value(query.data)
    if locale not in LOCALES:
        return await stale_button(update, context)
    await query.answer()
    _draft(context)["locale"] = locale
    assert context.user_data is not None
    context.user_data["locale"] = locale
    context.t = context.services.translator(locale)
    await query.edit_message_text(context.t("onboarding.language_set"))
    return await _ask(update, context, NAME)


async def gave_name(update: Update, context: BotContext) -> int:
    message = update.effective_message
    assert message is not None
    name = clean_name(message.text or "")
    if name is None:
        return await _ask(update, context, NAME, context.t("onboarding.bad_name"))
    _draft(context)["name"] = name
    return await _ask(update, context, GENDER)


async def chose_gender(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    draft = _draft(context)
    try:
        gender = Gender(GENDER_CHOICE.value(query.data) or "")  # not a gender: ValueError
    except ValueError:
        return await stale_button(update, context)
    if "name" not in draft or "locale" not in draft:
        return await stale_button(update, context)
    user = update.effective_user
    assert user is not None
    registration = invites.Registration(
        user.id, draft["code_hash"], draft["name"], gender, draft["locale"]
    )
    # Record first: registered before any Bot API call of this update (toolkit.saving).
    try:
        found = await patiently(
            update, context, lambda: invites.redeem(context.services, registration)
        )
    except NotSaved:
        await quietly(query.answer(context.t("save.not_yet"), show_alert=True))
        return GENDER
    _forget(context)
    await quietly(query.answer())
    if not isinstance(found, Person):
        await quietly(query.edit_message_text(context.t(labels.INVITE_REFUSAL[found])))
        return ConversationHandler.END
    person, role = found, Role(found.role)
    await quietly(query.edit_message_text(context.t(labels.GENDER[gender])))
    await quietly(set_menu(context.bot, chat_id=user.id, role=role, t=context.t))
    await plan_reply(
        context.services, key=f"onboarding:{person.id}", chat_id=user.id,
        text=context.t("onboarding.done", name=person.name) + "\n\n" + help_text(role, context.t),
        buttons=main_menu(role, context.t), person_id=person.id,
    )  # fmt: skip
    return ConversationHandler.END


async def reask(update: Update, context: BotContext, note: str) -> int:
    return await _ask(update, context, _draft(context).get("step", LANGUAGE), note)


async def stale_button(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await update.callback_query.answer(context.t("common.stale_button"))
    return await reask(update, context, "")


def _forget(context: BotContext) -> None:
    assert context.user_data is not None
    context.user_data.pop("onboarding", None)


def handlers() -> list[ConversationHandler[BotContext]]:
    return [ConversationHandler(
        entry_points=[
            START.handler(start),
            MessageHandler(filters.ChatType.PRIVATE & BARE_CODE, by_code),
        ],
        states={
            LANGUAGE: [
                CallbackQueryHandler(chose_language, pattern=LANGUAGE_CHOICE.pattern),
                *anything_else(reask),
            ],
            NAME: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, gave_name),
                *anything_else(reask, expects_text=True),
            ],
            GENDER: [
                CallbackQueryHandler(chose_gender, pattern=GENDER_CHOICE.pattern),
                *anything_else(reask),
            ],
        },
        fallbacks=fallbacks(reask, _forget, always_open=False),
        allow_reentry=True,
        persistent=True,
        name="onboarding",
    )]
