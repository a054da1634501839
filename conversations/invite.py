"""`/invite` (supervisors, admins): choose a role no higher than one's own, walk down the area
tree within one's own area, and get a single-use deep link."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from care.roles import Level, Role, invitable_roles, role_fits_level
from locales import _ as mark
from locales import labels
from service import invites
from service.actions import Action
from storage.models import Area
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.flows import anything_else, busy_elsewhere, fallbacks
from toolkit.keyboards import column, keyboard, pager

INVITE = Command("invite", Role.SUPERVISOR, mark("cmd.invite"), menu=1)
CHOOSE_ROLE = Action("inv:role")  # inv:role:<role>
NAV = Action("inv:nav")  # inv:nav:<area>:<page>
PICK = Action("inv:pick")  # inv:pick:<area>

ROLE, AREA = range(2)
PAGE_SIZE = 12


def _draft(context: BotContext) -> dict[str, Any]:
    assert context.user_data is not None  # the guard lets through only updates of a person
    draft: dict[str, Any] = context.user_data.setdefault("invite", {})
    return draft


def _forget(context: BotContext) -> None:
    assert context.user_data is not None
    context.user_data.pop("invite", None)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def begin(update: Update, context: BotContext) -> int:
    if await busy_elsewhere(update, context, "invite"):
        return ConversationHandler.END
    _forget(context)
    return await _ask_role(update, context, "")


async def _ask_role(update: Update, context: BotContext, note: str) -> int:
    assert context.viewer is not None and update.effective_chat is not None
    t = context.t
    buttons = [
        (t(labels.ROLE[r]), CHOOSE_ROLE(r.value)) for r in invitable_roles(context.viewer.role)
    ]
    text = (f"{note}\n\n" if note else "") + t("invite.ask_role")
    await update.effective_chat.send_message(text, reply_markup=column(buttons))
    _draft(context)["step"] = ROLE
    return ROLE


async def chose_role(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None and context.viewer is not None
    role = CHOOSE_ROLE.value(query.data)
    if role not in {r.value for r in invitable_roles(context.viewer.role)}:
        await query.answer(context.t("guard.forbidden"), show_alert=True)
        return await _ask_role(update, context, "")
    await query.answer()
    _draft(context).update(role=role, step=AREA, area_id=context.viewer.area_id, page=0)
    return await _show_area(update, context, context.viewer.area_id, 0, edit=True)


async def _visible_area(context: BotContext, area_id: int) -> Area | None:
    """The area, if the viewer may hand out invites for it (server-side area check)."""
    assert context.viewer is not None
    found = await invites.area_choice(context.services, context.viewer, area_id, offset=0, limit=0)
    return found.area if found is not None else None


async def _show_area(
    update: Update, context: BotContext, area_id: int, page: int, *, edit: bool, note: str = ""
) -> int:
    assert context.viewer is not None and update.effective_chat is not None
    t, draft = context.t, _draft(context)
    role = Role(draft["role"])
    found = await invites.area_choice(
        context.services, context.viewer, area_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    if found is None:  # outside the viewer's area: back to their own
        found = await invites.area_choice(
            context.services, context.viewer, context.viewer.area_id, offset=0, limit=PAGE_SIZE
        )
        page = 0
    assert found is not None
    area, children, total = found.area, found.below, found.total
    assert area.id is not None
    draft.update(area_id=area.id, page=page)
    buttons: list[tuple[str, str]] = []
    pickable = role_fits_level(role, Level(area.level))
    if pickable:
        buttons.append((t("invite.pick_here", area=area.name), PICK(area.id)))
    for child in children:
        assert child.id is not None  # read back from the database
        buttons.append((f"📂 {child.name}", NAV(child.id, 0)))
    rows = [[b] for b in buttons]
    pages = max(1, -(-total // PAGE_SIZE))
    nav = pager(NAV(area.id), page, pages, t("common.previous"), t("common.next"))
    if nav:
        rows.append(nav)
    if area.id != context.viewer.area_id and area.parent_id is not None:
        rows.append([(t("invite.up"), NAV(area.parent_id, 0))])
    text = (f"{note}\n\n" if note else "") + t(
        "invite.ask_area", role=t(labels.ROLE[role]), path=area.path
    )
    if not pickable:
        text += "\n" + t("invite.no_area_fits")
    if edit and update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(rows))
    else:
        await update.effective_chat.send_message(text, reply_markup=keyboard(rows))
    return AREA


async def navigate(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    ids = NAV.ids(query.data, 2)
    area = await _visible_area(context, ids[0]) if ids else None
    if ids is None or area is None or area.id is None:
        await query.answer(context.t("guard.forbidden_area"), show_alert=True)
        return AREA
    await query.answer()
    return await _show_area(update, context, area.id, ids[1], edit=True)


async def pick(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None and context.viewer is not None
    area_id = PICK.id(query.data)
    area = await _visible_area(context, area_id) if area_id is not None else None
    role = Role(_draft(context)["role"])
    try:
        issued = await invites.issue(
            context.services, role=role, issuer=context.viewer, area_id=area.id if area else None
        )
    except invites.Refused as refused:
        level = refused.why == invites.Refusal.LEVEL
        key = mark("invite.director_village") if level else mark("guard.forbidden_area")
        await query.answer(context.t(key), show_alert=True)
        return AREA
    await query.answer()
    _forget(context)
    t = context.t
    await query.edit_message_reply_markup(None)
    assert update.effective_chat is not None
    # The one message meant to be forwarded (to the invitee): every other is protected.
    await update.effective_chat.send_message(
        t(
            "invite.created",
            role=t(labels.ROLE[role]),
            path=issued.area_path,
            link=invite_link(context.bot.username, issued.code),
            code=issued.code,
            until=t.datetime(issued.expires_at),
        ),
        protect_content=False,
    )
    return ConversationHandler.END


async def reask(update: Update, context: BotContext, note: str) -> int:
    draft = _draft(context)
    if draft.get("step") == AREA and "role" in draft:
        return await _show_area(
            update, context, draft["area_id"], draft["page"], edit=False, note=note
        )
    return await _ask_role(update, context, note)


def handlers() -> list[ConversationHandler[BotContext]]:
    return [ConversationHandler(
        entry_points=[INVITE.handler(begin)],
        states={
            ROLE: [
                CallbackQueryHandler(INVITE.guard(chose_role), pattern=CHOOSE_ROLE.pattern),
                *anything_else(reask),
            ],
            AREA: [
                CallbackQueryHandler(INVITE.guard(navigate), pattern=NAV.pattern),
                CallbackQueryHandler(INVITE.guard(pick), pattern=PICK.pattern),
                *anything_else(reask),
            ],
        },
        fallbacks=fallbacks(reask, _forget),
        allow_reentry=True,
        persistent=True,
        name="invite",
    )]
