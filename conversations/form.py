"""A small engine for question-and-answer flows: each question is answered by a button or by
text, checked, and stored; then a summary with Confirm / Edit a field / Cancel. The answers
live in `user_data[<flow>]` (JSON-friendly values only), so a flow can be persisted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from conversations.common import anything_else, busy_elsewhere, fallbacks
from handlers.context import BotContext
from handlers.keyboards import keyboard

ASKING, CONFIRMING = range(2)
Answers = dict[str, Any]


class Invalid(Exception):
    """A typed answer that cannot be taken: `key` (and params) say why, in the catalog."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


ChoicesFn = Callable[[BotContext, Answers], Awaitable[list[tuple[str, str]]]]
ParseFn = Callable[[str, BotContext, Answers], Awaitable[Any]]


@dataclass(frozen=True)
class Question:
    key: str
    ask: str  # catalog key of the question; may use the answers so far as placeholders
    label: str  # catalog key of the short name shown in the "edit a field" menu
    choices: ChoicesFn | None = None  # (value, label) buttons
    parse: ParseFn | None = None  # typed answers
    skippable: bool = False
    applies: Callable[[Answers], bool] = field(default=lambda _answers: True)
    # Checks a button answer against the answers so far; raises Invalid to ask again.
    check: Callable[[str, BotContext, Answers], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Form:
    name: str  # the user_data key, one of conversations.common.FLOWS
    prefix: str  # callback data prefix, a few letters
    questions: Sequence[Question]
    summary: Callable[[BotContext, Answers], Awaitable[str]]
    save: Callable[[Update, BotContext, Answers], Awaitable[str]]  # returns the reply text
    # Checked before every step: may this person go on with this flow? (area, role, child)
    allowed: Callable[[BotContext, Answers], Awaitable[bool]]

    def draft(self, context: BotContext) -> dict[str, Any]:
        return context.user_data.setdefault(self.name, {"answers": {}})  # type: ignore[union-attr]

    def forget(self, context: BotContext) -> None:
        context.user_data.pop(self.name, None)  # type: ignore[union-attr]

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)

    def next_question(self, answers: Answers) -> Question | None:
        return next(
            (q for q in self.questions if q.applies(answers) and q.key not in answers), None
        )

    # -- the flow ------------------------------------------------------------------------

    async def start(self, update: Update, context: BotContext, answers: Answers) -> int:
        """Begins the flow with some answers already given (e.g. the child of a card)."""
        if await busy_elsewhere(update, context, self.name):
            return ConversationHandler.END
        self.forget(context)
        self.draft(context)["answers"] = dict(answers)
        if not await self._still_allowed(update, context):
            return ConversationHandler.END
        return await self._advance(update, context)

    async def _advance(self, update: Update, context: BotContext) -> int:
        """The next unanswered question (after an edit: any that the edit emptied), else the
        summary."""
        question = self.next_question(self.draft(context)["answers"])
        if question is None:
            return await self._confirm(update, context)
        return await self._ask(update, context, question)

    async def _ask(
        self, update: Update, context: BotContext, question: Question, note: str = ""
    ) -> int:
        draft, t = self.draft(context), context.t
        draft["step"] = question.key
        rows: list[list[tuple[str, str]]] = []
        if question.choices is not None:
            options = await question.choices(context, draft["answers"])
            rows = [[(label, f"{self.prefix}:a:{value}")] for value, label in options]
        if question.skippable:
            rows.append([(t("form.skip"), f"{self.prefix}:skip")])
        text = (f"{note}\n\n" if note else "") + t(question.ask, **_placeholders(draft["answers"]))
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(text, reply_markup=keyboard(rows) if rows else None)
        return ASKING

    async def _confirm(self, update: Update, context: BotContext, note: str = "") -> int:
        draft, t = self.draft(context), context.t
        draft["step"] = None
        text = (f"{note}\n\n" if note else "") + await self.summary(context, draft["answers"])
        rows = [
            [(t("form.confirm"), f"{self.prefix}:ok")],
            [(t("form.edit"), f"{self.prefix}:edit"), (t("form.cancel"), f"{self.prefix}:no")],
        ]
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(text, reply_markup=keyboard(rows))
        return CONFIRMING

    async def reask(self, update: Update, context: BotContext, note: str) -> int:
        step = self.draft(context).get("step")
        if step is None:
            return await self._confirm(update, context, note)
        return await self._ask(update, context, self.question(step), note)

    async def _still_allowed(self, update: Update, context: BotContext) -> bool:
        if context.viewer is not None and await self.allowed(
            context, self.draft(context)["answers"]
        ):
            return True
        self.forget(context)
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("guard.forbidden"), show_alert=True)
        else:
            await _tell(update, context.t("guard.forbidden"))
        return False

    async def on_text(self, update: Update, context: BotContext) -> int:
        draft = self.draft(context)
        step = draft.get("step")
        question = self.question(step) if step else None
        if question is None or question.parse is None:
            note = context.t("common.use_buttons")
            return await self.reask(update, context, note)
        if not await self._still_allowed(update, context):
            return ConversationHandler.END
        assert update.effective_message is not None
        try:
            value = await question.parse(
                update.effective_message.text or "", context, draft["answers"]
            )
        except Invalid as problem:
            return await self._ask(
                update, context, question, context.t(problem.key, **problem.params)
            )
        draft["answers"][question.key] = value
        return await self._advance(update, context)

    async def on_button(self, update: Update, context: BotContext) -> int:
        query = update.callback_query
        assert query is not None and query.data is not None
        draft = self.draft(context)
        action, _, value = query.data.removeprefix(f"{self.prefix}:").partition(":")
        step = draft.get("step")
        if not await self._still_allowed(update, context):
            return ConversationHandler.END
        if step is None:  # at the summary
            return await self._on_summary(update, context, action, value)
        question = self.question(step)
        if action == "skip" and question.skippable:
            answer: Any = None
        elif action == "a" and question.choices is not None:
            options = dict(await question.choices(context, draft["answers"]))
            if value not in options:  # an old or forged button
                await query.answer(context.t("common.stale_button"))
                return await self._ask(update, context, question)
            answer = value
            if question.check is not None:
                try:
                    await question.check(value, context, draft["answers"])
                except Invalid as problem:
                    await query.answer()
                    note = context.t(problem.key, **problem.params)
                    return await self._ask(update, context, question, note)
        else:
            await query.answer(context.t("common.stale_button"))
            return await self._ask(update, context, question)
        await query.answer()
        label = (
            dict(await question.choices(context, draft["answers"])).get(value, "")
            if question.choices
            else ""
        )
        await query.edit_message_reply_markup(None)
        if label and query.message is not None:
            await query.message.chat.send_message(f"✔ {label}")
        draft["answers"][question.key] = answer
        return await self._advance(update, context)

    async def _on_summary(
        self, update: Update, context: BotContext, action: str, value: str
    ) -> int:
        query = update.callback_query
        assert query is not None
        draft, t = self.draft(context), context.t
        if action == "ok":
            await query.answer()
            await query.edit_message_reply_markup(None)
            reply = await self.save(update, context, draft["answers"])
            self.forget(context)
            await _tell(update, reply)
            return ConversationHandler.END
        if action == "no":
            await query.answer()
            self.forget(context)
            await query.edit_message_text(t("common.cancelled"))
            return ConversationHandler.END
        if action == "edit" and not value:
            await query.answer()
            rows = [
                [(t(q.label), f"{self.prefix}:edit:{q.key}")]
                for q in self.questions
                if q.applies(draft["answers"]) and q.key in draft["answers"]
            ]
            await query.edit_message_reply_markup(keyboard(rows))
            return CONFIRMING
        known = {q.key for q in self.questions}
        if action == "edit" and value in known and value in draft["answers"]:
            await query.answer()
            draft["answers"].pop(value)
            # answers that no longer apply without this one are dropped (and asked again)
            for later in self.questions:
                if later.key in draft["answers"] and not later.applies(draft["answers"]):
                    draft["answers"].pop(later.key)
            return await self._ask(update, context, self.question(value))
        await query.answer(t("common.stale_button"))
        return await self._confirm(update, context)

    def handlers(self, entry_points: list[BaseHandler[Any, Any, Any]]) -> ConversationHandler:
        pattern = rf"^{self.prefix}:"
        return ConversationHandler(
            entry_points=entry_points,
            states={
                ASKING: [
                    CallbackQueryHandler(self.on_button, pattern=pattern),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text),
                    *anything_else(self.reask),
                ],
                CONFIRMING: [
                    CallbackQueryHandler(self.on_button, pattern=pattern),
                    *anything_else(self.reask),
                ],
            },
            fallbacks=fallbacks(self.reask, self.forget),
            allow_reentry=True,
            name=self.name,
        )


def _placeholders(answers: Answers) -> dict[str, str]:
    return {k: str(v) for k, v in answers.items() if isinstance(v, str | int)}


async def _tell(update: Update, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text)
