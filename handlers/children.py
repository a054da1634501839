"""Looking children up in chat: `/children` (pages and filters), `/child NAME`, the card.
What a card shows depends on the viewer (care.access); every view is audited."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from telegram import ForceReply, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from care.access import Detail, may_edit_children, may_pair
from care.children import Category, Colour, age_on
from care.closing import may_close, may_move
from care.roles import Role
from locales import Translator, in_every_language, labels
from locales import _ as mark
from service import children as service
from service import visits
from service.actions import (
    CLOSE_CHILD,
    EDIT_CHILD,
    MOVE_CHILD,
    PAIR_CHILD,
    PAIRING_REVIEWED,
    UNPAIR_CHILD,
    Action,
)
from storage.children import ChildLine
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.filters import clear_button, describe, village_path
from toolkit.keyboards import child_label, keyboard, pager
from toolkit.replies import ReplyTo

PAGE_SIZE = 10
CATEGORIES = list(Category)

CHILDREN = Command("children", Role.DIRECTOR, mark("cmd.children"), menu=3)
CHILD = Command("child", Role.VOLUNTEER, mark("cmd.child"), menu=8)
CHILD_CARD = Action("chc")  # chc:<child>: a child's card
TURN = Action("chl")  # chl:<page>:<village>:<category>:<colour>: a page of /children
FILTER = Action("chf")  # chf:<v|c|k>:<page>:<village>:<category>:<colour>: a filter's choices
BY_VILLAGE, BY_CATEGORY, BY_COLOUR = "v", "c", "k"  # the filters, as FILTER names them
ALL_COLOURS = "-"
MAX_BUTTONS = 20
ASK_NAME = mark("child.ask_name")



@dataclass(frozen=True)
class Listing:
    """A page of `/children` and its filters, carried in callback data (TURN and FILTER)."""

    page: int = 0
    village_id: int = 0  # 0: all villages
    category: int = -1  # index in CATEGORIES; -1: all
    colour: str = ALL_COLOURS

    def _parts(self, **change: int | str) -> tuple[int | str, ...]:
        state = replace(self, **change)  # type: ignore[arg-type]
        return state.page, state.village_id, state.category, state.colour

    def data(self, **change: int | str) -> str:
        """The TURN button to this listing, changed as given."""
        return TURN(*self._parts(**change))

    def choose(self, kind: str) -> str:
        """The FILTER button that offers the choices of one filter (back on the first page)."""
        return FILTER(kind, *self._parts(page=0))

    @classmethod
    def from_parts(cls, parts: list[str] | None) -> Listing | None:
        """The listing of a button's parts, or None for a forged or stale one."""
        if parts is None or len(parts) != 4:
            return None
        page, village, category, colour = parts
        try:
            listing = cls(int(page), int(village), int(category), colour)
        except ValueError:
            return None
        valid_colour = colour == ALL_COLOURS or colour in Colour.__members__.values()
        if listing.page < 0 or listing.village_id < 0 or not valid_colour:
            return None
        if not -1 <= listing.category < len(CATEGORIES):
            return None
        return listing

    @classmethod
    def parse(cls, data: str | None) -> Listing | None:
        """The listing of a TURN button."""
        return cls.from_parts(TURN.parts(data))

    @staticmethod
    def parse_choice(data: str | None) -> tuple[str, Listing] | None:
        """The filter and the listing of a FILTER button."""
        parts = FILTER.parts(data)
        if not parts or parts[0] not in (BY_VILLAGE, BY_CATEGORY, BY_COLOUR):
            return None
        listing = Listing.from_parts(parts[1:])
        return None if listing is None else (parts[0], listing)

    def filters(self) -> service.Filters:
        return service.Filters(
            village_id=self.village_id or None,
            category=CATEGORIES[self.category] if self.category >= 0 else None,
            colour=None if self.colour == ALL_COLOURS else Colour(self.colour),
        )


def child_button(line: ChildLine, t: Translator, today_age: int) -> tuple[str, str]:
    return child_label(line, t, today_age), CHILD_CARD(line.id)


async def list_children(update: Update, context: BotContext) -> None:
    await _show(update, context, Listing())


@CHILDREN.guard
async def turn(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    listing = Listing.parse(query.data)
    if listing is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    await query.answer()
    await _show(update, context, listing)


async def _show(update: Update, context: BotContext, listing: Listing) -> None:
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_chat is not None
    today = context.services.today()
    found = await service.page(
        context.services, viewer, listing.filters(), number=listing.page, size=PAGE_SIZE
    )
    rows = [[child_button(line, t, age_on(line.birth_date, today))] for line in found.lines]
    nav = pager(lambda page: listing.data(page=page), listing.page, found.pages,
                t("common.previous"), t("common.next"))  # fmt: skip
    if nav:
        rows.append(nav)
    rows.append(
        [
            (t("children.filter_village"), listing.choose(BY_VILLAGE)),
            (t("children.filter_category"), listing.choose(BY_CATEGORY)),
            (t("children.filter_colour"), listing.choose(BY_COLOUR)),
        ]
    )
    # the header names the village chosen and every active filter; one button clears them all
    area, village = viewer.area_path, None
    if listing.village_id:
        paths = {v.id: v.path for v in await service.villages(context.services, viewer)}
        village = village_path(t, listing.village_id, paths)
        area = paths.get(listing.village_id, area)
    text = t("children.title", area=area, count=found.total, page=listing.page + 1,
             pages=found.pages)  # fmt: skip
    filters = listing.filters()
    active = describe(t, village=village, category=filters.category, colour=filters.colour)
    if active:
        text += "\n" + active
        rows.append([clear_button(t, Listing().data())])
    if found.total == 0:
        text += "\n" + t("children.none")
    if update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(rows))
    else:
        await update.effective_chat.send_message(text, reply_markup=keyboard(rows))


@CHILDREN.guard
async def choose_filter(update: Update, context: BotContext) -> None:
    """The choices of one filter, each leading back to the list."""
    query = update.callback_query
    assert query is not None and context.viewer is not None
    chosen = Listing.parse_choice(query.data)
    if chosen is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    kind, listing = chosen
    t = context.t
    options: list[tuple[str, str]] = []
    if kind == BY_VILLAGE:
        villages = await service.villages(context.services, context.viewer)
        options = [(t("children.all_villages"), listing.data(village_id=0))] + [
            (v.path.split("/", 1)[-1], listing.data(village_id=v.id)) for v in villages[:60]
        ]
    elif kind == BY_CATEGORY:
        options = [(t("children.all_categories"), listing.data(category=-1))] + [
            (t(labels.CATEGORY[c]), listing.data(category=i)) for i, c in enumerate(CATEGORIES)
        ]
    else:
        options = [(t("children.all_colours"), listing.data(colour=ALL_COLOURS))] + [
            (f"{labels.COLOUR_DOT[c]} {t(labels.COLOUR[c])}", listing.data(colour=c.value))
            for c in Colour
        ]
    await query.answer()
    await query.edit_message_text(
        t("children.choose_filter"), reply_markup=keyboard([[o] for o in options])
    )


async def find_child(update: Update, context: BotContext) -> None:
    """`/child NAME`: one match shows the card, several a choice, none says so. Without a
    name, a volunteer sees their own children (the card at once when there is one); anyone
    else is asked for the name (answered by replying to the question)."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_message is not None
    name = " ".join(context.args or []).strip()[:40]
    if name:
        await _find(update, context, name)
        return
    if viewer.role == Role.VOLUNTEER:
        mine = await visits.children_of(context.services, viewer)
        if len(mine) == 1:
            await send_card(update, context, mine[0].id)
            return
        if mine:
            rows = [[(c.name, CHILD_CARD(c.id))] for c in mine[:MAX_BUTTONS]]
            choose = t("child.choose")
            await update.effective_message.reply_text(choose, reply_markup=keyboard(rows))
            return
    await update.effective_message.reply_text(
        t(ASK_NAME), reply_markup=ForceReply(input_field_placeholder=t("child.name_hint"))
    )


async def named_in_reply(update: Update, context: BotContext) -> None:
    """A reply to "which child?": the name it gives, as `/child NAME`."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await _find(update, context, message.text.strip()[:40])


def _asked_for_a_name(message: Message) -> bool:
    asked = message.reply_to_message
    return bool(asked and asked.from_user and asked.from_user.is_bot
                and asked.text in in_every_language(ASK_NAME))  # fmt: skip


async def _find(update: Update, context: BotContext, name: str) -> None:
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_message is not None
    today = context.services.today()
    found = await service.find(context.services, viewer, name, size=PAGE_SIZE)
    if found.total == 0:
        await update.effective_message.reply_text(t("child.not_found", name=name))
    elif found.total == 1:
        await send_card(update, context, found.lines[0].id)
    else:
        rows = [[child_button(line, t, age_on(line.birth_date, today))] for line in found.lines]
        await update.effective_message.reply_text(
            t("child.several", name=name, count=found.total), reply_markup=keyboard(rows)
        )


@CHILD.guard
async def open_card(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    child_id = CHILD_CARD.id(query.data)
    if child_id is None:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    await send_card(update, context, child_id)


async def send_card(update: Update, context: BotContext, child_id: int) -> None:
    """The card, if the viewer may see this child (the use case checks, whatever the button
    said), with the buttons of what they may do with it."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_chat is not None
    card = await service.card(context.services, viewer, child_id)
    if card is None:
        if update.callback_query:
            await update.callback_query.answer(t("child.forbidden"), show_alert=True)
        else:
            await update.effective_chat.send_message(t("child.forbidden"))
        return
    if update.callback_query:
        await update.callback_query.answer()
    today = context.services.today()
    text = render_card(card, t, today) + "\n" + render_visits(card.visits, t)
    buttons: list[list[tuple[str, str]]] = []
    if card.closed is not None:
        pass  # a closed record is read-only: nothing to press
    elif may_edit_children(viewer):
        buttons.append(
            [
                (t("card.edit_colour"), EDIT_CHILD("colour", child_id)),
                (t("card.edit_school"), EDIT_CHILD("school", child_id)),
                (t("card.edit_guardian"), EDIT_CHILD("guardian", child_id)),
            ]
        )
    if card.closed is None and may_pair(viewer):
        row = [(t("card.pair"), PAIR_CHILD(child_id))]
        if card.volunteers:
            row += [(t("card.unpair"), UNPAIR_CHILD(child_id))]
            row += [(t("card.reviewed"), PAIRING_REVIEWED(child_id))]
        buttons.append(row)
    if card.closed is None and may_close(viewer):
        row = [(t("card.close"), CLOSE_CHILD(child_id))]
        if may_move(viewer):
            row.append((t("card.move"), MOVE_CHILD(child_id)))
        buttons.append(row)
    await update.effective_chat.send_message(
        text, reply_markup=keyboard(buttons) if buttons else None
    )


def render_visits(recent: tuple[service.VisitLine, ...], t: Translator) -> str:
    if not recent:
        return t("card.no_visits")
    lines = [t("card.visits")]
    for visit in recent:
        line = f"📅 {t.date(visit.visited_on)} · {visit.visitor} · {t(labels.MODE[visit.mode])}"
        if visit.red_flags:
            line += " ⚠ " + "、".join(t(labels.RED_FLAG[f]) for f in visit.red_flags)
        lines.append(line)
    return "\n".join(lines)


def render_card(card: service.ChildCard, t: Translator, today: date) -> str:
    """The card as the use case gave it: what the viewer may not see is not in it."""
    colour = card.colour
    lines = [
        t(
            "card.title",
            name=card.name,
            gender=t(labels.GENDER[card.gender]),
            age=t("child.age", age=age_on(card.birth_date, today)),
            birth=t.date(card.birth_date),
        ),
        labels.COLOUR_DOT[colour] + " " + t("card.colour", colour=t(labels.COLOUR[colour])),
        t("card.area", area=card.area_path),
    ]
    if card.lunar_birthday is not None:
        lines.append(t("card.lunar_birthday", lunar=str(card.lunar_birthday)))
    if card.detail != Detail.PAIRED and card.category is not None:
        lines.append(t("card.category", category=t(labels.CATEGORY[card.category])))
    if card.id_number:
        lines.append(t("card.id_number", id=card.id_number))
    dash = "—"
    lines.append(t("card.school", school=card.school or dash, schooling=card.schooling or dash))
    lines.append(
        t(
            "card.guardian", name=card.guardian_name or dash,
            relation=card.guardian_relation or dash, phone=card.guardian_phone or dash,
        )
    )  # fmt: skip
    if card.father_work or card.mother_work:
        lines.append(
            t("card.parents", father=card.father_work or dash, mother=card.mother_work or dash)
        )
    if card.detail != Detail.PAIRED:
        lines.append(
            t("card.health", health=card.health or dash, disability=card.disability or dash)
        )
        consent = {None: dash, True: t("common.yes"), False: t("common.no")}[card.consent]
        lines.append(t("card.consent", consent=consent))
    if card.siblings:
        lines.append(t("card.siblings", names="、".join(card.siblings)))
    if card.volunteers:
        for name, since, reviewed in card.volunteers:
            review = t.date(reviewed) if reviewed else dash
            lines.append(t("card.volunteer", name=name, since=t.date(since), reviewed=review))
    elif card.closed is None:
        lines.append(t("card.no_volunteer"))
    for move in card.moves:
        lines.append(
            t("card.moved", day=t.date(move.at.astimezone(t.tz).date()),
              from_village=move.from_path.rsplit("/", 1)[-1],
              to_village=move.to_path.rsplit("/", 1)[-1], by=move.by or t("card.by_system"))
        )  # fmt: skip
    if card.closed is not None:
        closed = card.closed
        lines.insert(1, t("card.closed", day=t.date(closed.on),
                          reason=t(labels.CLOSING_REASON[closed.reason])))  # fmt: skip
        if closed.note:
            lines.insert(2, t("card.closed_note", note=closed.note))
        lines.insert(2, t("card.closed_by", by=closed.by or t("card.by_system")))
    return "\n".join(lines)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CHILDREN.handler(list_children),
        CallbackQueryHandler(turn, pattern=TURN.pattern),
        CallbackQueryHandler(choose_filter, pattern=FILTER.pattern),
        CHILD.handler(find_child),
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
            & filters.REPLY & ReplyTo(_asked_for_a_name),
            CHILD.guard(named_in_reply),
        ),
        CallbackQueryHandler(open_card, pattern=CHILD_CARD.pattern),
    ]
