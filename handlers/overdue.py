"""`/overdue` (supervisors, admins; directors for their village): overdue children, by village
and most overdue first, with colour, days overdue and volunteer; filters; pages; Nudge (a
reminder to the volunteer, once a day, recorded), Nudge all on the page, Reassign; and the
area's share of children visited in time and on track for six visits this year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.children import Colour
from care.roles import Role
from care.visits import days_overdue, expected_by
from locales import _ as mark
from locales import labels
from service.actions import CHECK_IN, PAIR_CHILD, Action
from storage import audit, due, outbox, people
from storage import children as children_store
from storage.due import OverdueChild
from storage.outbox import Message
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.guard import guarded
from toolkit.keyboards import keyboard, pager

PAGE_SIZE = 12


@dataclass(frozen=True)
class View:
    """A page of /overdue and its filters, carried in callback data (`ov:page:village:colour`)."""

    page: int = 0
    village: int = 0  # 0: the viewer's whole area
    colour: str = "-"

    def data(self, **change: int | str) -> str:
        return "ov:{page}:{village}:{colour}".format(**{**self.__dict__, **change})

    @classmethod
    def parse(cls, data: str) -> View | None:
        try:
            _, page, village, colour = data.split(":")
            view = cls(int(page), int(village), colour)
        except ValueError:
            return None
        ok = view.page >= 0 and (colour == "-" or colour in Colour.__members__.values())
        return view if ok else None


async def _areas(context: BotContext, view: View) -> list[int]:
    """The areas the view covers, always within the viewer's own (checked on every press)."""
    assert context.viewer is not None
    async with context.services.sessions() as session:
        mine = await due.area_ids(session, context.viewer.area_path)
    if view.village:
        return [view.village] if view.village in mine else []
    return mine


OVERDUE = Command("overdue", Role.DIRECTOR, mark("cmd.overdue"), menu=2)
TURN = Action("ov")  # ov:<page>:<village>:<colour>
NUDGE = Action("ovn")  # ovn:<child>
NUDGE_PAGE = Action("ova")  # ova:<page>:<village>:<colour>
VILLAGE = Action("ovf")  # ovf:<page>:<village>:<colour>


async def overdue(update: Update, context: BotContext) -> None:
    await _show(update, context, View())


@guarded(Role.DIRECTOR)
async def turn(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    view = View.parse(query.data)
    if view is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    await query.answer()
    await _show(update, context, view)


async def _show(update: Update, context: BotContext, view: View) -> None:
    t, chat = context.t, update.effective_chat
    assert chat is not None and context.viewer is not None
    today = context.services.today()
    areas = await _areas(context, view)
    async with context.services.sessions() as session:
        children, total = await due.overdue_page(
            session, areas=areas, today=today, colour=None if view.colour == "-" else view.colour,
            offset=view.page * PAGE_SIZE, limit=PAGE_SIZE,
        )  # fmt: skip
        figures = await due.figures(session, areas=areas, today=today, expected=expected_by(today))
    text = "\n".join([*_heading(context, figures, total, view), *_lines(context, children, today)])
    rows = [
        [
            (t("overdue.nudge", name=c.name), NUDGE(c.id)),
            (t("overdue.reassign"), PAIR_CHILD(c.id)),
        ]
        for c in children
    ]
    if children:
        rows.append([(t("overdue.nudge_all"), "ova:" + view.data()[3:])])
    pages = max(1, -(-total // PAGE_SIZE))
    nav = pager("x", view.page, pages, t("common.previous"), t("common.next"))
    if nav:
        rows.append([(label, view.data(page=int(d.split(":")[1]))) for label, d in nav])
    rows.append([(f"{labels.COLOUR_DOT[c]}", view.data(page=0, colour=c.value)) for c in Colour]
                + [(t("children.filter_village"), "ovf:" + view.data(page=0)[3:]),
                   (t("children.all"), view.data(page=0, colour="-", village=0))])  # fmt: skip
    if update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(rows))
    else:
        await chat.send_message(text, reply_markup=keyboard(rows))


def _heading(context: BotContext, figures: due.AreaFigures, total: int, view: View) -> list[str]:
    t = context.t
    assert context.viewer is not None
    share = (lambda n: round(100 * n / figures.paired)) if figures.paired else (lambda n: 100)
    lines = [
        t("overdue.title", area=context.viewer.area_path, count=total),
        t("overdue.figures", paired=figures.paired, within=share(figures.within_interval),
          on_track=share(figures.on_track)),
    ]  # fmt: skip
    if view.colour != "-":
        lines.append(t("overdue.filtered", colour=t(labels.COLOUR[Colour(view.colour)])))
    if total == 0:
        lines.append(t("overdue.none"))
    return lines


def _lines(context: BotContext, children: list[OverdueChild], today: date) -> list[str]:
    t, lines, village = context.t, [], ""
    for child in children:
        if child.area_path != village:
            village = child.area_path
            lines.append(f"\n🏘 {village.rsplit('/', 1)[-1]}")
        names = "、".join(name for _, name in child.volunteers) or "—"
        dot, late = labels.COLOUR_DOT[Colour(child.colour)], days_overdue(child.due_on, today)
        line = t("overdue.line", dot=dot, name=child.name, days=late, volunteers=names)
        if child.planned is not None:
            line += " · " + t("overdue.planned", day=t.date(child.planned))
        lines.append(line)
    return lines


async def _nudge(context: BotContext, children: list[OverdueChild]) -> int:
    """A reminder to each child's volunteers, once a day per child and volunteer; audited."""
    viewer, services = context.viewer, context.services
    assert viewer is not None
    today, now = context.services.today(), services.now()
    messages = []
    async with services.sessions.begin() as session:
        for child in children:
            for person_id, _name in child.volunteers:
                person = await people.get(session, person_id)
                if person is None or not person.active:
                    continue
                t = services.translator(person.locale or services.settings.default_locale)
                text = t("overdue.nudge_text", name=child.name,
                         days=days_overdue(child.due_on, today))  # fmt: skip
                buttons = (((t("mychildren.check_in", name=child.name), CHECK_IN(child.id)),),)
                messages.append(Message(f"nudge:{child.id}:{person_id}:{today.isoformat()}",
                                        person.tg_user_id, text, buttons, person_id))  # fmt: skip
            audit.record(session, actor_id=viewer.person_id, action="nudge",
                         subject=f"child:{child.id}")  # fmt: skip
        new = await outbox.plan(session, messages, now=now)
    context.services.outbox_planned()
    return new


@guarded(Role.DIRECTOR)
async def nudge_one(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    value = query.data.removeprefix("ovn:")
    today = context.services.today()
    found: list[OverdueChild] = []
    if value.isdigit():
        areas = await _areas(context, View())
        async with context.services.sessions() as session:
            found, _ = await due.overdue_page(
                session, areas=areas, today=today, colour=None, offset=0, limit=1,
                child_id=int(value),
            )  # fmt: skip
    if not found:
        await query.answer(context.t("overdue.not_overdue"), show_alert=True)
        return
    sent = await _nudge(context, found)
    await query.answer(context.t("overdue.nudged", count=sent), show_alert=True)


@guarded(Role.DIRECTOR)
async def nudge_page(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    view = View.parse("ov:" + query.data.removeprefix("ova:"))
    if view is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    areas = await _areas(context, view)
    async with context.services.sessions() as session:
        children, _ = await due.overdue_page(
            session, areas=areas, today=context.services.today(),
            colour=None if view.colour == "-" else view.colour,
            offset=view.page * PAGE_SIZE, limit=PAGE_SIZE,
        )  # fmt: skip
    sent = await _nudge(context, children)
    await query.answer(context.t("overdue.nudged", count=sent), show_alert=True)


@guarded(Role.DIRECTOR)
async def choose_village(update: Update, context: BotContext) -> None:
    """`ovf:<view>`: the villages of the viewer's area, each leading back to the list."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.viewer is not None
    view = View.parse("ov:" + query.data.removeprefix("ovf:"))
    if view is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    async with context.services.sessions() as session:
        villages = await children_store.villages_in(session, context.viewer.area_path)
    options = [(context.t("children.all"), view.data(village=0))] + [
        (v.path.split("/", 1)[-1], view.data(village=v.id or 0)) for v in villages[:60]
    ]
    await query.answer()
    await query.edit_message_text(
        context.t("children.choose_filter"), reply_markup=keyboard([[o] for o in options])
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        OVERDUE.handler(overdue),
        CallbackQueryHandler(turn, pattern=TURN.pattern),
        CallbackQueryHandler(nudge_one, pattern=NUDGE.pattern),
        CallbackQueryHandler(nudge_page, pattern=NUDGE_PAGE.pattern),
        CallbackQueryHandler(choose_village, pattern=VILLAGE.pattern),
    ]
