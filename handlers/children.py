"""Looking children up in chat: `/children` (pages and filters), `/child NAME`, the card.
What a card shows depends on the viewer (care.access); every view is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from care.access import Detail, child_scope, detail_for, may_edit_children, may_pair
from care.children import Category, Colour, LunarBirthday, age_on
from care.idcard import mask_id
from care.roles import Gender, Role
from care.visits import Mode, RedFlag
from locales import Translator, labels
from locales import _ as mark
from service.actions import (
    CHILD_CARD,
    EDIT_CHILD,
    PAIR_CHILD,
    PAIRING_REVIEWED,
    UNPAIR_CHILD,
    Action,
)
from storage import audit, visits
from storage import children as store
from storage.models import Visit
from toolkit.commands import Command
from toolkit.context import BotContext
from toolkit.guard import guarded
from toolkit.keyboards import child_label, keyboard, pager

PAGE_SIZE = 10
CATEGORIES = list(Category)


@dataclass(frozen=True)
class Listing:
    """A page of `/children` and its filters, carried in callback data (`chl:p:v:c:k`)."""

    page: int = 0
    village_id: int = 0  # 0: all villages
    category: int = -1  # index in CATEGORIES; -1: all
    colour: str = "-"

    def data(self, **change: int | str) -> str:
        state = {**self.__dict__, **change}
        return "chl:{page}:{village_id}:{category}:{colour}".format(**state)

    @classmethod
    def parse(cls, data: str) -> Listing | None:
        try:
            _, page, village, category, colour = data.split(":")
            listing = cls(int(page), int(village), int(category), colour)
        except ValueError:
            return None
        valid_colour = colour == "-" or colour in Colour.__members__.values()
        if listing.page < 0 or not -1 <= listing.category < len(CATEGORIES) or not valid_colour:
            return None
        return listing

    def where(self, name: str | None = None) -> store.ChildFilter:
        return store.ChildFilter(
            village_id=self.village_id or None,
            category=CATEGORIES[self.category].value if self.category >= 0 else None,
            colour=None if self.colour == "-" else self.colour,
            name=name,
        )


def child_button(line: store.ChildLine, t: Translator, today_age: int) -> tuple[str, str]:
    return child_label(line, t, today_age), CHILD_CARD(line.id)


CHILDREN = Command("children", Role.DIRECTOR, mark("cmd.children"), menu=3)
CHILD = Command("child", Role.VOLUNTEER, mark("cmd.child"), menu=8)
TURN = Action("chl")  # chl:<page>:<village>:<category>:<colour>
FILTER = Action("chf")  # chf:<v|c|k>:<page>:<village>:<category>:<colour>


async def list_children(update: Update, context: BotContext) -> None:
    await _show(update, context, Listing())


@guarded(Role.DIRECTOR)
async def turn(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
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
    async with context.services.sessions() as session:
        lines, total = await store.page(
            session, child_scope(viewer), listing.where(),
            offset=listing.page * PAGE_SIZE, limit=PAGE_SIZE,
        )  # fmt: skip
    rows = [[child_button(line, t, age_on(line.birth_date, today))] for line in lines]
    pages = max(1, -(-total // PAGE_SIZE))
    nav = pager("x", listing.page, pages, t("common.previous"), t("common.next"))
    if nav:
        rows.append([(label, listing.data(page=int(d.split(":")[1]))) for label, d in nav])
    rows.append(
        [
            (t("children.filter_village"), f"chf:v:{listing.data(page=0)[4:]}"),
            (t("children.filter_category"), f"chf:c:{listing.data(page=0)[4:]}"),
            (t("children.filter_colour"), f"chf:k:{listing.data(page=0)[4:]}"),
        ]
    )
    text = t(
        "children.title", area=viewer.area_path, count=total, page=listing.page + 1, pages=pages
    )
    if total == 0:
        text += "\n" + t("children.none")
    if update.callback_query:
        await update.callback_query.edit_message_text(text, reply_markup=keyboard(rows))
    else:
        await update.effective_chat.send_message(text, reply_markup=keyboard(rows))


@guarded(Role.DIRECTOR)
async def choose_filter(update: Update, context: BotContext) -> None:
    """`chf:<v|c|k>:<listing>`: the choices of one filter, each leading back to the list."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.viewer is not None
    kind, _, rest = query.data[4:].partition(":")
    listing = Listing.parse("chl:" + rest)
    if listing is None or kind not in "vck" or not kind:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    t = context.t
    options: list[tuple[str, str]] = []
    if kind == "v":
        async with context.services.sessions() as session:
            villages = await store.villages_in(session, context.viewer.area_path)
        options = [(t("children.all"), listing.data(village_id=0))] + [
            (v.path.split("/", 1)[-1], listing.data(village_id=v.id or 0)) for v in villages[:60]
        ]
    elif kind == "c":
        options = [(t("children.all"), listing.data(category=-1))] + [
            (t(labels.CATEGORY[c]), listing.data(category=i)) for i, c in enumerate(CATEGORIES)
        ]
    else:
        options = [(t("children.all"), listing.data(colour="-"))] + [
            (f"{labels.COLOUR_DOT[c]} {t(labels.COLOUR[c])}", listing.data(colour=c.value))
            for c in Colour
        ]
    await query.answer()
    await query.edit_message_text(
        t("children.choose_filter"), reply_markup=keyboard([[o] for o in options])
    )


async def find_child(update: Update, context: BotContext) -> None:
    """`/child NAME`: one match shows the card, several a choice, none says so."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_message is not None
    name = " ".join(context.args or []).strip()[:40]
    if not name:
        await update.effective_message.reply_text(t("child.usage"))
        return
    today = context.services.today()
    async with context.services.sessions() as session:
        lines, total = await store.page(
            session, child_scope(viewer), store.ChildFilter(name=name), offset=0, limit=PAGE_SIZE
        )
    if total == 0:
        await update.effective_message.reply_text(t("child.not_found", name=name))
    elif total == 1:
        await send_card(update, context, lines[0].id)
    else:
        rows = [[child_button(line, t, age_on(line.birth_date, today))] for line in lines]
        await update.effective_message.reply_text(
            t("child.several", name=name, count=total), reply_markup=keyboard(rows)
        )


@guarded(Role.VOLUNTEER)
async def open_card(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    try:
        child_id = int(query.data.removeprefix("chc:"))
    except ValueError:
        await query.answer(context.t("common.stale_button"), show_alert=True)
        return
    await send_card(update, context, child_id)


async def send_card(update: Update, context: BotContext, child_id: int) -> None:
    """The card, if the viewer may see this child (checked here, whatever the button said)."""
    viewer, t = context.viewer, context.t
    assert viewer is not None and update.effective_chat is not None
    async with context.services.sessions.begin() as session:
        allowed = await store.visible(session, child_scope(viewer), child_id)
        card = await store.card(session, child_id) if allowed else None
        recent = await visits.history(session, child_id) if card is not None else []
        if card is not None:
            audit.record(
                session, actor_id=viewer.person_id, action="child_view", subject=f"child:{child_id}"
            )
    if card is None:
        if update.callback_query:
            await update.callback_query.answer(t("child.forbidden"), show_alert=True)
        else:
            await update.effective_chat.send_message(t("child.forbidden"))
        return
    if update.callback_query:
        await update.callback_query.answer()
    today = context.services.today()
    text = render_card(card, detail_for(viewer), t, today) + "\n" + render_visits(recent, t)
    buttons: list[list[tuple[str, str]]] = []
    if may_edit_children(viewer):
        buttons.append(
            [
                (t("card.edit_colour"), EDIT_CHILD("colour", child_id)),
                (t("card.edit_school"), EDIT_CHILD("school", child_id)),
                (t("card.edit_guardian"), EDIT_CHILD("guardian", child_id)),
            ]
        )
    if may_pair(viewer):
        row = [(t("card.pair"), PAIR_CHILD(child_id))]
        if card.volunteers:
            row += [(t("card.unpair"), UNPAIR_CHILD(child_id))]
            row += [(t("card.reviewed"), PAIRING_REVIEWED(child_id))]
        buttons.append(row)
    await update.effective_chat.send_message(
        text, reply_markup=keyboard(buttons) if buttons else None
    )


def render_visits(recent: list[tuple[Visit, str]], t: Translator) -> str:
    if not recent:
        return t("card.no_visits")
    lines = [t("card.visits")]
    for visit, visitor in recent:
        line = f"📅 {t.date(visit.visited_on)} · {visitor} · {t(labels.MODE[Mode(visit.mode)])}"
        flags = [RedFlag(f) for f in visit.red_flags.split(",") if f]
        if flags:
            line += " ⚠ " + "、".join(t(labels.RED_FLAG[f]) for f in flags)
        lines.append(line)
    return "\n".join(lines)


def render_card(card: store.Card, detail: Detail, t: Translator, today: object) -> str:
    child = card.child
    gender = Gender(child.gender)
    colour = Colour(child.colour)
    lines = [
        t(
            "card.title",
            name=child.name,
            gender=t(labels.GENDER[gender]),
            age=t("child.age", age=age_on(child.birth_date, today)),  # type: ignore[arg-type]
            birth=t.date(child.birth_date),
        ),
        labels.COLOUR_DOT[colour] + " " + t("card.colour", colour=t(labels.COLOUR[colour])),
        t("card.area", area=card.area_path),
    ]
    if child.lunar_month and child.lunar_day:
        lunar = LunarBirthday(child.lunar_month, child.lunar_day, child.lunar_leap)
        lines.append(t("card.lunar_birthday", lunar=str(lunar)))
    if detail != Detail.PAIRED:
        lines.append(t("card.category", category=t(labels.CATEGORY[Category(child.category)])))
        if child.id_number:
            shown = child.id_number if detail == Detail.FULL else mask_id(child.id_number)
            lines.append(t("card.id_number", id=shown))
    dash = "—"
    lines.append(t("card.school", school=child.school or dash, schooling=child.schooling or dash))
    lines.append(
        t(
            "card.guardian", name=child.guardian_name or dash,
            relation=child.guardian_relation or dash, phone=child.guardian_phone or dash,
        )
    )  # fmt: skip
    if child.father_work or child.mother_work:
        lines.append(
            t("card.parents", father=child.father_work or dash, mother=child.mother_work or dash)
        )
    if detail != Detail.PAIRED:
        lines.append(
            t("card.health", health=child.health or dash, disability=child.disability or dash)
        )
        consent = {None: dash, True: t("common.yes"), False: t("common.no")}[child.consent]
        lines.append(t("card.consent", consent=consent))
    if card.siblings:
        lines.append(t("card.siblings", names="、".join(name for _, name in card.siblings)))
    if card.volunteers:
        for _pid, name, since, reviewed in card.volunteers:
            review = t.date(reviewed) if reviewed else dash
            lines.append(t("card.volunteer", name=name, since=t.date(since), reviewed=review))
    else:
        lines.append(t("card.no_volunteer"))
    return "\n".join(lines)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        CHILDREN.handler(list_children),
        CallbackQueryHandler(turn, pattern=TURN.pattern),
        CallbackQueryHandler(choose_filter, pattern=FILTER.pattern),
        CHILD.handler(find_child),
        CallbackQueryHandler(open_card, pattern=CHILD_CARD.pattern),
    ]
