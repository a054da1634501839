"""The reminder planner, run by a repeating job (workers.jobs): works out today's reminders
(care.reminders) for every volunteer, supervisor and director, bundles each person's into one
message, and plans it into the outbox under a key per person and day, held back during quiet
hours. Running it again, after a restart or on a second instance, plans nothing twice.

The first run of a day plans it and records the day (storage.reminders.record_day); a rerun
that day reads that record and stops. The first run after days that were never planned (the
bot was down) sends the visit reminders and escalations those days missed, once; birthdays and
care dates that passed are not sent late. A run reads only the children that may have a
reminder today (the windows of care.reminders, in SQL), page by page, and writes the messages
in chunks, each in a short transaction of its own: the event loop and the database are never
held for long, so updates keep flowing while it plans.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from care.reminders import (
    CareDate,
    Item,
    Kind,
    birthday_reminders,
    birthday_window,
    bundle,
    care_date_reminders,
    ledger_review_reminders,
    next_birthday,
    release_at,
    visit_reminders_caught_up,
    visit_window,
)
from care.roles import Role, town_of, within
from care.visits import days_overdue
from locales import Translator, labels, mark_plural
from locales import _ as mark
from service.actions import CHECK_IN, PLAN_VISIT, SNOOZE
from service.services import Services
from storage import outbox
from storage import reminders as store
from storage.outbox import Message

BUTTONS_FOR = 4  # children with buttons in one message (the rest: /mychildren)
CHUNK = 2000  # messages planned per transaction
PAUSE_AFTER = 0.005  # seconds of work before the planner lets the event loop run again
TEXT_LIMIT = 4096  # Telegram's longest message, in UTF-16 code units
LINES = {
    Kind.VISIT_ESCALATED: mark_plural("remind.escalated"),
    Kind.VISIT_OVERDUE: mark_plural("remind.overdue"),
    Kind.VISIT_DUE: mark("remind.due"),
    Kind.VISIT_SOON: mark("remind.soon"),
    Kind.VISIT_PLANNED: mark("remind.planned"),
    Kind.BIRTHDAY: mark("remind.birthday"),
    Kind.BIRTHDAY_SOON: mark("remind.birthday_soon"),
    Kind.FESTIVAL: mark("remind.festival"),
    Kind.FESTIVAL_SOON: mark("remind.festival_soon"),
    Kind.LEDGER_REVIEW: mark("remind.ledger_review"),
}
COUNTED = {Kind.VISIT_ESCALATED, Kind.VISIT_OVERDUE}  # their lines say how many days overdue
VISITS = {Kind.VISIT_OVERDUE, Kind.VISIT_DUE, Kind.VISIT_SOON, Kind.VISIT_PLANNED}
SUPERVISED = "supervised"  # an escalation as the child's supervisor sees it


async def plan_today(services: Services) -> int:
    """Plans today's reminder messages; returns how many were new."""
    settings, now = services.settings, services.now()
    today = now.astimezone(settings.tz).date()
    release = release_at(now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz)
    if release.astimezone(settings.tz).date() != today:
        return 0  # the evening's quiet hours: tomorrow morning's run plans tomorrow
    async with services.sessions() as session:
        last = await store.last_planned(session, up_to=today)
    if last == today:
        return 0  # planned already: the same-day rerun
    # Days after the last one planned and before today were missed; none on the first run ever.
    missed_from = None if last is None else last + timedelta(days=1)
    day = _Day(today, None if missed_from == today else missed_from)
    await day.gather(services)
    new = await day.plan(services, release=release, now=now)
    async with services.sessions.begin() as session:
        await store.record_day(session, today, at=now, messages=new, caught_up_from=day.missed_from)
    return new


class _Pauses:
    """Lets the event loop run whenever the planner has worked for PAUSE_AFTER seconds:
    `if pauses.due(): await pauses.take()` between two small pieces of work."""

    def __init__(self) -> None:
        self.until = time.perf_counter() + PAUSE_AFTER

    def due(self) -> bool:
        return time.perf_counter() >= self.until

    async def take(self) -> None:
        await asyncio.sleep(0)
        self.until = time.perf_counter() + PAUSE_AFTER


Row = TypeVar("Row", store.Paired, store.Addressee)
Read = Callable[[AsyncSession, int], Awaitable[tuple[list[Row], int | None]]]


async def _pages(services: Services, read: Read[Row]) -> AsyncIterator[list[Row]]:
    """The pages `read` returns, from its first (0) on: it returns a page and what to pass it
    for the next one (None: that was the last). Each page is read in a short session of its
    own, so other updates get the database in between. (Not read ahead while the caller works:
    the driver's thread needs the interpreter's lock for every row, and waiting for it made
    the whole slower.)"""
    at: int | None = 0
    while at is not None:
        async with services.sessions() as session:
            page, at = await read(session, at)
        yield page


# A day holds tens of thousands of reminders, and each full collection of Python's garbage
# collector walks every container the day keeps while the event loop waits (50,000 lists took
# 60 ms, a dict of 50,000 tuples 30 ms). A dict whose keys and values are plain ints and strings
# is not walked at all: so while it is gathered, each person's reminders are kept as one string,
# a record per reminder (fields: Kind's value, child, date, extra, the child's name, village).
_FIELD, _RECORD = "\x1f", "\x1e"  # ASCII's unit and record separators (taken out of names)


def _record(kind: Kind, child: int | None, on: date, extra: str, name: str, village: str) -> str:
    name, village = (text.replace(_FIELD, " ").replace(_RECORD, " ") for text in (name, village))
    return _FIELD.join((kind.value, str(child or ""), on.isoformat(), extra, name, village))


def _items(records: str) -> tuple[list[Item], dict[int, tuple[str, str]]]:
    """A person's reminders back as Items, and the names and villages of the children."""
    items, children = [], {}
    for record in records.split(_RECORD):
        kind, child, on, extra, name, village = record.split(_FIELD)
        child_id = int(child) if child else None
        items.append(Item(Kind(kind), child_id, date.fromisoformat(on), extra))
        if child_id is not None:
            children[child_id] = (name, village)
    return items, children


@dataclass
class _Day:
    """One day's reminders as they are gathered: each person's, and where their message goes."""

    today: date
    missed_from: date | None  # the first of the missed days before today, if any
    reminders: dict[int, str] = field(default_factory=dict)  # person: records
    chats: dict[int, int] = field(default_factory=dict)  # person: chat id
    locales: dict[int, str] = field(default_factory=dict)  # person: language, if they chose one

    def add(self, person_id: int, chat_id: int, locale: str | None, record: str) -> None:
        found = self.reminders.get(person_id)
        if found is None:
            self.reminders[person_id], self.chats[person_id] = record, chat_id
            if locale:
                self.locales[person_id] = locale
        else:
            self.reminders[person_id] = found + _RECORD + record

    def add_to(self, person: store.Addressee, kind: Kind, on: date, extra: str = "") -> None:
        self.add(person.person_id, person.chat_id, person.locale,
                 _record(kind, None, on, extra, "", ""))  # fmt: skip

    async def gather(self, services: Services) -> None:
        today, settings, pauses = self.today, services.settings, _Pauses()
        async with services.sessions() as session:
            staff = await store.people(session, roles=(Role.DIRECTOR, Role.SUPERVISOR))
            visits, births = visit_window(today, self.missed_from), birthday_window(today)
            children = await store.candidate_children(session, visits, births)
        supervisors = [p for p in staff if p.role == Role.SUPERVISOR]
        of_town: dict[str, list[store.Addressee]] = {}

        async def pairings(
            session: AsyncSession, start: int
        ) -> tuple[list[store.Paired], int | None]:
            end = start + store.PAGE
            found = await store.pairings_of(session, children[start:end])
            return found, (end if end < len(children) else None)

        async for page in _pages(services, pairings):
            for pair in page:
                if pauses.due():
                    await pauses.take()
                town = town_of(pair.area_path)
                if town not in of_town:
                    of_town[town] = [s for s in supervisors if within(s.area_path, town)]
                self.add_pairing(pair, births.admits(pair.birth_date, pair.lunar), of_town[town])
        care_dates = care_date_reminders(today, settings.configured_care_dates)
        if care_dates:  # everyone paired with a child, on a care date and a week before
            async for people in _pages(services, _volunteers):
                for person in people:
                    if pauses.due():
                        await pauses.take()
                    for kind, care, on in care_dates:
                        self.add_to(person, kind, on, care.value)
        for kind in ledger_review_reminders(today):
            for director in (p for p in staff if p.role == Role.DIRECTOR):
                self.add_to(director, kind, today)

    def add_pairing(
        self, pair: store.Paired, birthday: bool, supervisors: list[store.Addressee]
    ) -> None:
        today, child, volunteer = self.today, pair.child_id, pair.volunteer_id
        name, village = pair.child_name, pair.area_path.rsplit("/", 1)[-1]
        if pair.due_on is not None:
            for kind in visit_reminders_caught_up(
                pair.due_on, today, self.missed_from, pair.planned_on, pair.snoozed_until
            ):
                on = (pair.planned_on if kind == Kind.VISIT_PLANNED else None) or pair.due_on
                if pair.reachable:
                    record = _record(kind, child, on, "", name, village)
                    self.add(volunteer, pair.chat_id, pair.locale, record)
                if kind == Kind.VISIT_ESCALATED:
                    record = _record(kind, child, pair.due_on, SUPERVISED, name, village)
                    for s in supervisors:
                        self.add(s.person_id, s.chat_id, s.locale, record)
        if birthday and pair.reachable:  # the window admits it: worth working out
            for kind in birthday_reminders(pair.birth_date, pair.lunar, today):
                on = next_birthday(pair.birth_date, pair.lunar, today)
                self.add(volunteer, pair.chat_id, pair.locale,
                         _record(kind, child, on, "", name, village))  # fmt: skip

    async def plan(self, services: Services, *, release: datetime, now: datetime) -> int:
        """Renders the messages and plans them, a chunk per transaction; returns how many were
        new. A crash in between loses nothing: the day is recorded only after the last chunk,
        and the rerun that plans it again stores each message once (by its key)."""
        settings, day, pauses = services.settings, self.today.isoformat(), _Pauses()
        translators: dict[str, Translator] = {}
        messages: list[Message] = []
        new = 0
        for person_id, records in self.reminders.items():
            if pauses.due():
                await pauses.take()
            items, children = _items(records)
            # most people have one: nothing to order or merge
            todays = items if len(items) == 1 else bundle((person_id, i) for i in items)[person_id]
            locale = self.locales.get(person_id) or settings.default_locale
            t = translators.get(locale) or translators.setdefault(
                locale, services.translator(locale)
            )
            text, buttons = render(t, todays, children, self.today)
            chat_id = self.chats[person_id]
            messages.append(Message(f"remind:{person_id}:{day}", chat_id, text, buttons,
                                    person_id, not_before=release))  # fmt: skip
            if len(messages) == CHUNK:
                new += await _write(services, messages, now)
                messages = []
        return new + (await _write(services, messages, now) if messages else 0)


async def _volunteers(
    session: AsyncSession, after: int
) -> tuple[list[store.Addressee], int | None]:
    return await store.volunteers(session, after=after, limit=store.PAGE)


async def _write(services: Services, messages: list[Message], now: datetime) -> int:
    async with services.sessions.begin() as session:
        added = await outbox.plan(session, messages, now=now)
    if added:
        services.outbox_planned()
    return added


@functools.lru_cache(maxsize=16)
def _fixed(t: Translator, today: date) -> tuple[str, str, str, int]:
    """The parts of a day's messages that are the same for everyone of a language, and the room
    to keep for the line that counts what was left out."""
    title = t("remind.title", day=t.date(today))
    room = TEXT_LIMIT - _units(title) - _units(t.n("remind.more", 10**6, count=10**6)) - 1
    return title, t("remind.plan"), t("remind.snooze"), room


def _units(text: str) -> int:
    """The length of `text` as Telegram counts it (UTF-16 code units: an emoji takes two)."""
    return len(text.encode("utf-16-le")) // 2


def render(
    t: Translator, items: list[Item], children: dict[int, tuple[str, str]], today: date
) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...]]:
    """One person's message of the day. Lines that would make it longer than Telegram takes
    (a supervisor's escalations after an outage) are left out, and counted in its last line."""
    title, plan, snooze, room = _fixed(t, today)
    lines = [title]
    with_buttons: list[int] = []
    for shown, item in enumerate(items):
        name, village = children.get(item.child_id or 0, ("", ""))
        key = (mark_plural("remind.escalated_supervisor") if item.extra == SUPERVISED
               else LINES[item.kind])  # fmt: skip
        festival = t(labels.CARE_DATE[CareDate(item.extra)]) if item.kind in (
            Kind.FESTIVAL, Kind.FESTIVAL_SOON) else ""  # fmt: skip
        late = days_overdue(item.on, today)
        params = dict(name=name, village=village, day=t.date(item.on), days=late,
                      festival=festival)  # fmt: skip
        line = t.n(key, late, **params) if item.kind in COUNTED else t(key, **params)
        room -= _units(line) + 1
        if room < 0:
            lines.append(t.n("remind.more", len(items) - shown, count=len(items) - shown))
            break
        lines.append(line)
        own_child = item.kind in VISITS or (item.kind == Kind.VISIT_ESCALATED and not item.extra)
        if own_child and item.child_id and item.child_id not in with_buttons:
            with_buttons.append(item.child_id)
    rows = tuple(
        (
            (t("mychildren.check_in", name=children[c][0]), CHECK_IN(c)),
            (plan, PLAN_VISIT(c)),
            (snooze, SNOOZE(c)),
        )
        for c in with_buttons[:BUTTONS_FOR]
    )
    return "\n".join(lines), rows
