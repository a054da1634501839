"""Accept / Decline on a director's proposal to move a child (service.reassign): the decision is
recorded (and an accepted move made) before anything is said; the supervisor's answer then
goes through the outbox, the proposal's buttons are taken off, and the director is told."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.roles import Role
from locales import _ as mark
from service import reassign
from service.actions import REASSIGN_ACCEPT, REASSIGN_DECLINE, Action
from service.pairing import Refusal
from service.replies import plan_reply
from toolkit.context import BotContext
from toolkit.guard import guarded
from toolkit.saving import NotSaved, patiently, quietly

REFUSED = {
    Refusal.FORBIDDEN: mark("guard.forbidden"),
    Refusal.VOLUNTEER_GONE: mark("reassign.cannot_accept"),
    Refusal.ALREADY_PAIRED: mark("reassign.cannot_accept"),
    Refusal.RULES_CHANGED: mark("reassign.cannot_accept"),
    Refusal.REASON: mark("reassign.cannot_accept"),
    Refusal.ENDED: mark("reassign.cannot_accept"),
    Refusal.NO_SUPERVISOR: mark("reassign.cannot_accept"),
    Refusal.DECIDED: mark("reassign.decided"),
}


def _decide(action: Action, accept: bool) -> Any:
    async def decide(update: Update, context: BotContext) -> None:
        query, viewer, t = update.callback_query, context.viewer, context.t
        assert query is not None and viewer is not None and update.effective_chat is not None
        proposal_id = action.id(query.data)
        if proposal_id is None:
            await query.answer(t("common.stale_button"), show_alert=True)
            return
        try:
            done = await patiently(
                update, context,
                lambda: reassign.decide(context.services, viewer, proposal_id, accept=accept),
            )  # fmt: skip
        except NotSaved:
            await query.answer(t("save.not_yet"), show_alert=True)
            return
        if isinstance(done, Refusal):
            await query.answer(t(REFUSED[done]), show_alert=True)
            return
        if isinstance(done, reassign.AlreadyDecided):
            key = mark("reassign.already_accepted") if done.accepted else mark(
                "reassign.already_declined")  # fmt: skip
            await query.answer(t(key, name=done.by), show_alert=True)
            await quietly(query.edit_message_reply_markup(None))
            return
        key = mark("reassign.accepted") if done.accepted else mark("reassign.declined")
        text = t(key, child=done.child_name, volunteer=done.volunteer_name)
        await quietly(query.answer())
        await quietly(query.edit_message_reply_markup(None))
        await plan_reply(
            context.services, key=f"reassign:{proposal_id}:{viewer.person_id}",
            chat_id=update.effective_chat.id, text=text, person_id=viewer.person_id,
        )  # fmt: skip

    return decide


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CallbackQueryHandler(
            guarded(Role.SUPERVISOR)(_decide(REASSIGN_ACCEPT, True)),
            pattern=REASSIGN_ACCEPT.pattern,
        ),
        CallbackQueryHandler(
            guarded(Role.SUPERVISOR)(_decide(REASSIGN_DECLINE, False)),
            pattern=REASSIGN_DECLINE.pattern,
        ),
    ]
