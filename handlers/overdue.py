"""`/overdue` (supervisors, admins; directors for their village): overdue children, by village
and most overdue first, with colour, days overdue and volunteer; filters; pages; Nudge (a
reminder to the volunteer, once a day, recorded), Nudge all on the page, Reassign; and the
area's share of children visited in time and on track for six visits this year. The reads and
the nudges are use cases (service.overdue), which keep to the viewer's area."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.children import Colour
from care.roles import Role
from care.visits import days_overdue
from locales import _ as mark
from locales import labels
from service import overdue as use
from service.actions import PAIR_CHILD, Action
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
        [
            (t("overdue.nudge", name=c.name), NUDGE(c.id)),
            (t("overdue.reassign"), PAIR_CHILD(c.id)),
        ]
        for c in found.children
    ]
    if found.children:
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
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(rows))
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
    t, figures = context.t, found.figures
    share = (lambda n: round(100 * n / figures.paired)) if figures.paired else (lambda n: 100)
    lines = [
        t("overdue.title", area=area, count=found.total),
        t("overdue.figures", paired=figures.paired, within=share(figures.within_interval),
          on_track=share(figures.on_track)),
    ]  # fmt: skip
    active = describe(t, village=village, colour=found.filter.colour)
    if active:
        lines.append(active)
    if found.total == 0:
        lines.append(t("overdue.none"))
    return lines


def _lines(context: BotContext, found: use.OverduePage) -> list[str]:
    t, lines, village = context.t, [], ""
    for child in found.children:
        if child.area_path != village:
            village = child.area_path
            lines.append(f"\n🏘 {village.rsplit('/', 1)[-1]}")
        names = "、".join(name for _, name in child.volunteers) or "—"
        dot, late = labels.COLOUR_DOT[Colour(child.colour)], days_overdue(child.due_on, found.today)
        line = t.n("overdue.line", late, dot=dot, name=child.name, days=late, volunteers=names)
        if child.planned is not None:
            line += " · " + t("overdue.planned", day=t.date(child.planned))
        lines.append(line)
    return lines


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
