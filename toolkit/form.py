"""A small engine for question-and-answer flows: each question is answered by a button (one
or several), by text or by a voice note, checked, and stored; then a summary with Confirm /
Change an answer / Cancel. The answers live in `user_data[<flow>]` (JSON-friendly values only),
which toolkit.persistence keeps in the database, so a flow continues after a restart."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from care.text import visible
from locales import _ as mark
from service.actions import Action
from service.replies import plan_reply
from toolkit.context import BotContext
from toolkit.flows import RESUMABLE, anything_else, busy_elsewhere, fallbacks, resume_rows
from toolkit.keyboards import keyboard
from toolkit.saving import NotSaved, patiently, quietly

ASKING, CONFIRMING = range(2)
log = logging.getLogger("carebot.form")
Answers = dict[str, Any]
Rows = list[list[tuple[str, str]]]


class Invalid(Exception):
    """An answer that cannot be taken: `key` (and params) say why, in the catalog."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


class Shortened(Exception):
    """A free-text answer longer than its question allows: `value` (its first part, up to the
    limit) is taken, and the person is told how much was cut, rather than losing it all."""

    def __init__(self, value: str, limit: int, cut: int) -> None:
        super().__init__(limit)
        self.value, self.limit, self.cut = value, limit, cut


def free_text(limit: int, *, shortest: int = 1, keep_lines: bool = False) -> ParseFn:
    """A typed description: its first `limit` characters if longer (Shortened), refused when
    shorter than `shortest`. `keep_lines`: line breaks stay (a longer account)."""

    async def parse(text: str, _context: BotContext, _answers: Answers) -> str:
        lines = text.splitlines() if keep_lines else [text]
        value = "\n".join(" ".join(line.split()) for line in lines).strip()
        if len(value) < shortest:
            raise Invalid(mark("checkin.details_length"), limit=limit)
        if len(value) > limit:
            raise Shortened(value[:limit], limit, len(value) - limit)
        return value

    return parse


class Forbidden(Exception):
    """Raised by a form's `save` that checks access itself (`Form.save_checks`) when the
    person may no longer do this: `key` says so, in the catalog."""

    def __init__(self, key: str = mark("guard.forbidden")) -> None:
        super().__init__(key)
        self.key = key


ChoicesFn = Callable[[BotContext, Answers], Awaitable[list[tuple[str, str]]]]
ParseFn = Callable[[str, BotContext, Answers], Awaitable[Any]]


@dataclass(frozen=True)
class Question:
    key: str
    ask: str  # catalog key of the question; may use the answers so far as placeholders
    label: str  # catalog key of the short name shown in the "change an answer" menu
    choices: ChoicesFn | None = None  # (value, label) buttons
    parse: ParseFn | None = None  # typed answers
    multi: bool = False  # several choices, toggled, then Done: the answer is a list
    # Other kinds of message that answer it: "voice", "photo" ({kind: file id}), "location"
    # ({"location": [latitude, longitude]}).
    media: frozenset[str] = frozenset()
    skippable: bool = False
    applies: Callable[[Answers], bool] = field(default=lambda _answers: True)
    # Checks a button answer against the answers so far; raises Invalid to ask again.
    check: Callable[[str, BotContext, Answers], Awaitable[None]] | None = None
    # For some answers, a message that must stand on its own, before anything else (e.g.
    # "call 110 now"): value -> catalog key. The next question then comes below it.
    notices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Form:
    name: str  # the user_data key, one of toolkit.flows.FLOWS
    prefix: str  # callback data prefix, a few letters (declared as an Action: unique)
    questions: Sequence[Question]
    summary: Callable[[BotContext, Answers], Awaitable[str]]
    # Stores the answers; returns the reply (with buttons, when it offers a next step).
    save: Callable[[Update, BotContext, Answers], Awaitable[str | tuple[str, Rows]]]
    # May this person do this flow (area, role, child)? Checked against the database when the
    # flow starts and again when it saves; the steps between only change the draft, and the
    # guard has checked on each of them that the person is still registered and active.
    allowed: Callable[[BotContext, Answers], Awaitable[bool]]
    # When set, saving deletes the flow's questions and answers from the chat and leaves this
    # short receipt in place of the summary: the full record lives only in the database.
    receipt: Callable[[BotContext, Answers], Awaitable[str]] | None = None
    # `save` checks `allowed` itself, in its own transaction, and raises Forbidden: Confirm
    # then reads the database once instead of twice (for the busiest flow, the check-in).
    save_checks: bool = False
    action: Action = field(init=False, repr=False, compare=False)  # from `prefix`

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", Action(self.prefix))
        RESUMABLE[self.name] = self.action("resume")

    def draft(self, context: BotContext) -> dict[str, Any]:
        assert context.user_data is not None  # the guard lets through only updates of a person
        draft: dict[str, Any] = context.user_data.setdefault(self.name, {"answers": {}})
        return draft

    def forget(self, context: BotContext) -> None:
        assert context.user_data is not None
        context.user_data.pop(self.name, None)

    def question(self, key: str) -> Question:
        return next(q for q in self.questions if q.key == key)

    def next_question(self, answers: Answers) -> Question | None:
        return next(
            (q for q in self.questions if q.applies(answers) and q.key not in answers), None
        )

    # -- the flow ------------------------------------------------------------------------

    async def start(
        self, update: Update, context: BotContext, answers: Answers, *, checked: bool = False
    ) -> int:
        """Begins the flow with some answers already given (e.g. the child of a card);
        `checked`: the caller found those answers in the person's own scope already."""
        if await busy_elsewhere(update, context, self.name):
            return ConversationHandler.END
        self.forget(context)
        self.draft(context).update(answers=dict(answers), id=uuid.uuid4().hex)
        if not await self._still_allowed(update, context, full=not checked):
            return ConversationHandler.END
        return await self._advance(update, context)

    async def _advance(self, update: Update, context: BotContext, note: str = "") -> int:
        """The next unanswered question (after an edit: any that the edit emptied), else the
        summary; `note` (the answer just given) is shown above it."""
        question = self.next_question(self.draft(context)["answers"])
        if question is None:
            return await self._confirm(update, context, note)
        return await self._ask(update, context, question, note)

    def _note_message(self, context: BotContext, message: Message | None) -> None:
        """Remembers a message of the flow (the person's or ours), to clear it afterwards."""
        if message is not None and self.receipt is not None:
            self.draft(context).setdefault("messages", []).append(message.message_id)

    async def _send(
        self, update: Update, context: BotContext, text: str, rows: list[list[tuple[str, str]]]
    ) -> None:
        """Shows the next question. Answered by a button of the flow's current message, it
        replaces that message (one edit, and the chat does not fill with answered questions);
        after typed input or anything else it comes as a new message below."""
        self._note_message(context, update.message)
        draft = self.draft(context)
        draft["touched"] = context.services.now().isoformat()
        markup = keyboard(rows) if rows else None
        query = update.callback_query
        message = query.message if query is not None else None
        if query is not None and message is not None and message.message_id == draft.get("current"):
            try:
                await query.edit_message_text(text, reply_markup=markup)
            except BadRequest as error:  # asked again as it stands: nothing to change
                if "not modified" not in error.message:
                    raise
            return
        chat = update.effective_chat
        assert chat is not None
        sent = await chat.send_message(text, reply_markup=markup)
        draft["current"] = sent.message_id
        self._note_message(context, sent)

    def _rows(
        self, question: Question, options: list[tuple[str, str]], picked: list[str]
    ) -> Rows:
        if question.multi:
            return [
                [(("☑ " if value in picked else "☐ ") + label, self.action("t", value))]
                for value, label in options
            ]
        return [[(label, self.action("a", value))] for value, label in options]

    async def _ask(
        self, update: Update, context: BotContext, question: Question, note: str = ""
    ) -> int:
        draft, t = self.draft(context), context.t
        draft["step"] = question.key
        draft["picked"] = []
        rows: list[list[tuple[str, str]]] = []
        if question.choices is not None:
            rows = self._rows(question, await question.choices(context, draft["answers"]), [])
        if question.multi:
            rows.append([(t("form.done"), self.action("done"))])
        if question.skippable:
            rows.append([(t("form.skip"), self.action("skip"))])
        text = (f"{note}\n\n" if note else "") + t(question.ask, **_placeholders(draft["answers"]))
        await self._send(update, context, text, rows)
        return ASKING

    async def _confirm(self, update: Update, context: BotContext, note: str = "") -> int:
        draft, t = self.draft(context), context.t
        draft["step"] = None
        text = (f"{note}\n\n" if note else "") + await self.summary(context, draft["answers"])
        rows = [
            [(t("form.confirm"), self.action("ok"))],
            [(t("form.edit"), self.action("edit")), (t("form.cancel"), self.action("no"))],
        ]
        await self._send(update, context, text, rows)
        return CONFIRMING

    async def _lost(self, update: Update, context: BotContext) -> bool:
        """The answers are gone (dropped as too old): say so, and leave the flow."""
        if self.name in (context.user_data or {}):
            return False
        if update.callback_query is not None:
            await update.callback_query.answer()
        await _tell(update, context.t("form.expired"))
        return True

    async def reask(self, update: Update, context: BotContext, note: str) -> int:
        if await self._lost(update, context):
            return ConversationHandler.END
        step = self.draft(context).get("step")
        if step is None:
            return await self._confirm(update, context, note)
        return await self._ask(update, context, self.question(step), note)

    async def _still_allowed(self, update: Update, context: BotContext, *, full: bool) -> bool:
        answers = self.draft(context)["answers"]
        if context.viewer is not None and (not full or await self.allowed(context, answers)):
            return True
        self.forget(context)
        if update.callback_query is not None:
            await update.callback_query.answer(context.t("guard.forbidden"), show_alert=True)
        else:
            await _tell(update, context.t("guard.forbidden"))
        return False

    async def _take(
        self, update: Update, context: BotContext, question: Question, value: Any, note: str = ""
    ) -> int:
        self.draft(context)["answers"][question.key] = value
        return await self._advance(update, context, note)

    async def on_text(self, update: Update, context: BotContext) -> int:
        if await self._lost(update, context):
            return ConversationHandler.END
        draft = self.draft(context)
        step = draft.get("step")
        question = self.question(step) if step else None
        if question is None or question.parse is None:
            return await self.reask(update, context, context.t("common.use_buttons"))
        if not await self._still_allowed(update, context, full=False):
            return ConversationHandler.END
        assert update.effective_message is not None
        self._note_message(context, update.effective_message)
        try:
            value = await question.parse(
                visible(update.effective_message.text or ""), context, draft["answers"]
            )
        except Invalid as problem:
            note = context.t(problem.key, **problem.params)
            return await self._ask(update, context, question, note)
        except Shortened as long:
            note = context.t.n("form.shortened", long.cut, limit=long.limit, cut=long.cut)
            return await self._take(update, context, question, long.value, note=note)
        return await self._take(update, context, question, value)

    async def on_media(self, update: Update, context: BotContext) -> int:
        if await self._lost(update, context):
            return ConversationHandler.END
        step = self.draft(context).get("step")
        question = self.question(step) if step else None
        message = update.effective_message
        answer = _media_answer(message, question.media) if question and message else None
        if question is None or answer is None:
            typed = question is not None and question.parse is not None
            note = context.t(mark("common.text_please") if typed else mark("common.use_buttons"))
            return await self.reask(update, context, note)
        if not await self._still_allowed(update, context, full=False):
            return ConversationHandler.END
        self._note_message(context, message)
        return await self._take(update, context, question, answer)

    async def on_button(self, update: Update, context: BotContext) -> int:
        query = update.callback_query
        assert query is not None and query.data is not None
        if await self._lost(update, context):
            return ConversationHandler.END
        draft = self.draft(context)
        action, _, value = (self.action.value(query.data) or "").partition(":")
        step = draft.get("step")
        if action == "resume":  # back after an interruption: the question again, below
            await query.answer()
            draft.pop("current", None)
            return await self.reask(update, context, "")
        saving_checks = self.save_checks and action == "ok"
        if not await self._still_allowed(update, context, full=step is None and not saving_checks):
            return ConversationHandler.END
        if step is None:  # at the summary: saving or changing is checked in full
            return await self._on_summary(update, context, action, value)
        question = self.question(step)
        options = await question.choices(context, draft["answers"]) if question.choices else []
        labels = dict(options)
        if action == "t" and question.multi and value in labels:  # toggle, same message
            picked = draft.setdefault("picked", [])
            if value in picked:
                picked.remove(value)
            else:
                picked.append(value)
            await query.answer()
            rows = self._rows(question, options, picked)
            rows.append([(context.t("form.done"), self.action("done"))])
            await query.edit_message_reply_markup(keyboard(rows))
            return ASKING
        if action == "done" and question.multi:
            answer: Any = [v for v, _ in options if v in draft.get("picked", [])]
            echo = "、".join(labels[v] for v in answer) or context.t("form.none")
        elif action == "skip" and question.skippable:
            answer, echo = None, context.t("form.skipped")
        elif action == "a" and not question.multi and value in labels:
            answer, echo = value, labels[value]
            if question.check is not None:
                try:
                    await question.check(value, context, draft["answers"])
                except Invalid as problem:
                    await query.answer()
                    note = context.t(problem.key, **problem.params)
                    return await self._ask(update, context, question, note)
        else:  # an old or forged button
            await query.answer(context.t("common.stale_button"))
            return await self._ask(update, context, question)
        await query.answer()
        if isinstance(answer, str) and answer in question.notices:
            assert update.effective_chat is not None
            await update.effective_chat.send_message(context.t(question.notices[answer]))
            draft.pop("current", None)  # what follows goes below the notice
        return await self._take(update, context, question, answer, note=f"✔ {echo}")

    async def _on_summary(
        self, update: Update, context: BotContext, action: str, value: str
    ) -> int:
        query = update.callback_query
        assert query is not None
        draft, t = self.draft(context), context.t
        if action == "ok":
            # Record first, talk after: the save commits before any Bot API call of this
            # update, and its reply goes through the outbox, so Telegram failing now can delay
            # the reply but never lose the record.
            try:
                reply = await patiently(
                    update, context, lambda: self.save(update, context, draft["answers"])
                )
            except NotSaved:  # the database stayed away: the answers wait for another press
                await quietly(query.answer())
                await quietly(_tell(update, t("save.not_yet")))
                return CONFIRMING
            except Forbidden as refusal:  # the summary, and the flow, end here
                self.forget(context)
                await quietly(query.answer())
                await quietly(query.edit_message_text(t(refusal.key)))
                return ConversationHandler.END
            receipt = await self.receipt(context, draft["answers"]) if self.receipt else None
            text, rows = reply if isinstance(reply, tuple) else (reply, [])
            chat = update.effective_chat
            assert chat is not None
            viewer = context.viewer
            self.forget(context)
            rows = [*rows, *resume_rows(context)]  # a flow this one interrupted
            await quietly(query.answer())
            if receipt is not None:  # the receipt replaces the summary and its buttons
                await quietly(self._clear(update, context, receipt, draft))
            else:
                await quietly(query.edit_message_reply_markup(None))
            await plan_reply(
                context.services, key=f"{self.name}:{draft.get('id') or uuid.uuid4().hex}",
                chat_id=chat.id, text=text, buttons=rows,
                person_id=viewer.person_id if viewer else None,
            )  # fmt: skip
            return ConversationHandler.END
        if action == "no":
            await query.answer()
            self.forget(context)
            await query.edit_message_text(t("common.cancelled"))
            return ConversationHandler.END
        if action == "edit" and not value:
            await query.answer()
            rows = [
                [(t(q.label), self.action("edit", q.key))]
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

    async def _clear(
        self, update: Update, context: BotContext, receipt: str, draft: dict[str, Any]
    ) -> None:
        """The summary becomes the receipt; the questions and answers leave the chat."""
        query, chat = update.callback_query, update.effective_chat
        assert query is not None and query.message is not None and chat is not None
        await query.edit_message_text(receipt)
        ids = [m for m in draft.get("messages", []) if m != query.message.message_id]
        for start in range(0, len(ids), 100):
            try:
                await context.bot.delete_messages(chat.id, ids[start : start + 100])
            except TelegramError:  # older than 48 hours, or already gone: nothing to clear
                continue

    def handlers(
        self, entry_points: list[BaseHandler[Any, Any, Any]]
    ) -> ConversationHandler[BotContext]:
        pattern = self.action.pattern
        return ConversationHandler(
            entry_points=entry_points,
            states={
                ASKING: [
                    CallbackQueryHandler(self.on_button, pattern=pattern),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, self.on_text),
                    MessageHandler(filters.VOICE | filters.PHOTO | filters.LOCATION, self.on_media),
                    *anything_else(self.reask),
                ],
                CONFIRMING: [
                    CallbackQueryHandler(self.on_button, pattern=pattern),
                    *anything_else(self.reask),
                ],
            },
            fallbacks=fallbacks(self.reask, self.forget),
            allow_reentry=True,
            persistent=True,
            name=self.name,
        )


def _media_answer(message: Message, kinds: frozenset[str]) -> dict[str, Any] | None:
    if "voice" in kinds and message.voice is not None:
        return {"voice": message.voice.file_id}
    if "photo" in kinds and message.photo:
        return {"photo": message.photo[-1].file_id}
    if "location" in kinds and message.location is not None:
        return {"location": [message.location.latitude, message.location.longitude]}
    return None


def _placeholders(answers: Answers) -> dict[str, str]:
    return {k: str(v) for k, v in answers.items() if isinstance(v, str | int)}


async def _tell(update: Update, text: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(text)
