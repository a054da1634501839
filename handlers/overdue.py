"""`/overdue` (supervisors, admins; directors for their village): the children nobody is to
visit (not covered: no volunteer, or their volunteer left) first, then the overdue, by
village and most overdue first, with colour, days overdue and volunteers (one who left is
marked); filters; pages; Nudge (a reminder to the volunteer, once a day, recorded), Nudge all
on the page, Reassign (a supervisor moves the child to another volunteer in one step, a
director proposes it); and the state of every active child of the area as figures. The reads
and the nudges are use cases (service.overdue), which keep to the viewer's area."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.children import Colour
from care.roles import Role
from care.visits import days_overdue
from locales import _ as mark
from locales import labels
from service import overdue as use
from service.actions import REASSIGN, Action
from storage.due import FollowChild
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.filters import clear_button, describe, village_path
from toolkit.keyboards import keyboard, pager

OVERDUE = Command("overdue", Role.DIRECTOR, mark("cmd.overdue"), menu=2)
# A page of /overdue and its filters travel in the callback data: <page>:<village>:<colour>
# (village 0: the viewer's whole area; colour "-": all colours).
TURN = Action("ov")  # ov:<page>:<village>:<colour>: show this page
NUDGE = Action("ovn")  # ovn:<child>
NUDGE_PAGE = Action("ova")  # ova:<page>:<village>:<colour>
VILLAGE = Action("ovf")  # ovf:<page>:<village>:<colour>: choose a village for the filter


def data(action: Action, view: use.Filter, **change: Any) -> str:
    """The callback data of `action` for `view`, with some of its fields changed."""
    view = replace(view, **change)
    return action(view.page, view.village, view.colour.value if view.colour else "-")


def parse(action: Action, callback_data: str | None) -> use.Filter | None:
    """The filter a button carries, or None for a forged or stale one."""
    parts = action.parts(callback_data)
    if parts is None or len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    page, village, colour = parts
    if colour != "-" and colour not in Colour.__members__.values():
        return None
    return use.Filter(int(page), int(village), None if colour == "-" else Colour(colour))


async def overdue(update: Update, context: BotContext) -> None:
    await _show(update, context, use.Filter())


async def turn(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    view = parse(TURN, query.data)
    if view is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    await _show(update, context, view)


async def _show(update: Update, context: BotContext, view: use.Filter) -> None:
    t, chat = context.t, update.effective_chat
    assert chat is not None and context.viewer is not None
    found = await use.page(context.services, context.viewer, view)
    if isinstance(found, use.Refusal):
        await _alert(update, context, mark("guard.forbidden"))
        return
    area, village = found.area_path, None
    if view.village:  # the header names the village chosen (a forged one: as unknown)
        villages = await use.villages(context.services, context.viewer)
        paths = {} if isinstance(villages, use.Refusal) else {v.area_id: v.path for v in villages}
        area, village = paths.get(view.village, area), village_path(t, view.village, paths)
    text = "\n".join([*_heading(context, found, area, village), *_lines(context, found)])
    rows = [
        [(t("overdue.nudge", name=c.name), NUDGE(c.id)), (t("overdue.reassign"), REASSIGN(c.id))]
        if c.covered
        else [(t("overdue.cover", name=c.name), REASSIGN(c.id))]
        for c in found.children
    ]
    if any(c.covered for c in found.children):
        rows.append([(t("overdue.nudge_all"), data(NUDGE_PAGE, view))])
    nav = pager(
        lambda page: data(TURN, view, page=page), view.page, found.pages,
        t("common.previous"), t("common.next"),
    )  # fmt: skip
    if nav:
        rows.append(nav)
    rows.append([(labels.COLOUR_DOT[c], data(TURN, view, page=0, colour=c)) for c in Colour]
                + [(t("children.filter_village"), data(VILLAGE, view, page=0))])  # fmt: skip
    if view.colour is not None or view.village:
        rows.append([clear_button(t, data(TURN, use.Filter()))])
    if update.callback_query:
        await update.callback_query.answer()
        try:
            await update.callback_query.edit_message_text(text, reply_markup=keyboard(rows))
        except BadRequest as error:  # the same view pressed again: nothing to change
            if "not modified" not in error.message:
                raise
    else:
        await chat.send_message(text, reply_markup=keyboard(rows))


async def _alert(update: Update, context: BotContext, key: str, **params: object) -> None:
    """One line: an alert over a pressed button, else a reply."""
    await _say(update, context.t(key, **params))


async def _say(update: Update, text: str) -> None:
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)


def _heading(
    context: BotContext, found: use.OverduePage, area: str, village: str | None
) -> list[str]:
    """The area shown (the village chosen, else the viewer's), the figures, active filters."""
    t, figures, listed = context.t, found.figures, found.listed
    yearly = round(100 * figures.yearly / figures.active) if figures.active else 100
    lines = [
        t("overdue.heading", area=area, count=listed.total, not_covered=listed.not_covered,
          overdue=listed.overdue),
        t("overdue.states", active=figures.active, on_track=figures.on_track,
          due_soon=figures.due_soon, overdue=figures.overdue, not_covered=figures.not_covered),
        t.n("overdue.yearly", found.yearly_minimum, minimum=found.yearly_minimum, share=yearly),
    ]  # fmt: skip
    active = describe(t, village=village, colour=found.filter.colour)
    if active:
        lines.append(active)
    if listed.total == 0:
        lines.append(t("overdue.none"))
    return lines


def _lines(context: BotContext, found: use.OverduePage) -> list[str]:
    t, lines = context.t, []
    section: bool | None = None
    village = ""
    for child in found.children:
        if child.covered != section:
            section, village = child.covered, ""
            key = mark("overdue.section_overdue") if child.covered else mark(
                "overdue.section_not_covered")  # fmt: skip
            lines.append("\n" + t(key))
        if child.area_path != village:
            village = child.area_path
            lines.append(f"🏘 {village.rsplit('/', 1)[-1]}")
        lines.append(_line(context, found, child))
    return lines


def _line(context: BotContext, found: use.OverduePage, child: FollowChild) -> str:
    t = context.t
    dot, late = labels.COLOUR_DOT[Colour(child.colour)], days_overdue(child.due_on, found.today)
    if child.covered:
        names = "、".join(
            name if active else f"{name}{t('overdue.left')}" for _, name, active in child.volunteers
        )
        line = t.n("overdue.line", late, dot=dot, name=child.name, days=late, volunteers=names)
    else:  # nobody active: the volunteers named, if any, have all left
        names = "、".join(name for _, name, _active in child.volunteers)
        when = t.n("overdue.late", late, days=late) if late else t(
            "overdue.due", day=t.date(child.due_on))  # fmt: skip
        key = mark("overdue.line_left") if names else mark("overdue.line_nobody")
        line = t(key, dot=dot, name=child.name, when=when, volunteers=names)
    if child.planned is not None:
        line += " · " + t("overdue.planned", day=t.date(child.planned))
    return line


async def nudge_one(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    child_id = NUDGE.id(query.data)
    done = (
        await use.nudge_one(context.services, context.viewer, child_id)
        if child_id is not None
        else use.Refusal.NOT_OVERDUE
    )
    await _nudged(update, context, done)


async def nudge_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and context.viewer is not None
    view = parse(NUDGE_PAGE, query.data)
    if view is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    await _nudged(update, context, await use.nudge_page(context.services, context.viewer, view))


async def _nudged(update: Update, context: BotContext, done: use.Nudged | use.Refusal) -> None:
    if done is use.Refusal.NOT_OVERDUE:
        await _alert(update, context, mark("overdue.not_overdue"))
    elif isinstance(done, use.Refusal):
        await _alert(update, context, mark("guard.forbidden"))
    else:
        await _say(update, context.t.n("overdue.nudged", done.planned, count=done.planned))


async def choose_village(update: Update, context: BotContext) -> None:
    """`ovf:<view>`: the villages of the viewer's area, each leading back to the list."""
    query = update.callback_query
    assert query is not None and context.viewer is not None
    view = parse(VILLAGE, query.data)
    if view is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    found = await use.villages(context.services, context.viewer)
    if isinstance(found, use.Refusal):
        await _alert(update, context, mark("guard.forbidden"))
        return
    options = [(context.t("children.all_villages"), data(TURN, view, village=0))] + [
        (v.path.split("/", 1)[-1], data(TURN, view, village=v.area_id)) for v in found[:60]
    ]
    await query.answer()
    await query.edit_message_text(
        context.t("children.choose_filter"), reply_markup=keyboard([[o] for o in options])
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        OVERDUE.handler(overdue),
        CallbackQueryHandler(OVERDUE.guard(turn), pattern=TURN.pattern),
        CallbackQueryHandler(OVERDUE.guard(nudge_one), pattern=NUDGE.pattern),
        CallbackQueryHandler(OVERDUE.guard(nudge_page), pattern=NUDGE_PAGE.pattern),
        CallbackQueryHandler(OVERDUE.guard(choose_village), pattern=VILLAGE.pattern),
    ]
