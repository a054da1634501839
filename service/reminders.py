"""The reminder planner, run by a repeating job (workers.jobs): works out today's reminders
(care.reminders) for every volunteer, supervisor and director, bundles each person's into one
message, and plans it into the outbox under a key per person and day, held back during quiet
hours. Running it again, after a restart or on a second instance, plans nothing twice."""

from __future__ import annotations

from datetime import date

from care.reminders import (
    CareDate,
    Item,
    Kind,
    birthday_reminders,
    bundle,
    care_date_reminders,
    ledger_review_reminders,
    next_birthday,
    release_at,
    visit_reminders,
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
        paired = await store.pairings(session)
        everyone = await store.people(
            session, roles=(Role.VOLUNTEER, Role.DIRECTOR, Role.SUPERVISOR)
        )
    people = {p.person_id: p for p in everyone}
    supervisors = [p for p in everyone if p.role == Role.SUPERVISOR]
    items: list[tuple[int, Item]] = []
    children: dict[int, tuple[str, str]] = {}  # id -> name, village
    volunteers: set[int] = set()
    for pair in paired:
        children[pair.child_id] = (pair.child_name, pair.area_path.rsplit("/", 1)[-1])
        volunteers.add(pair.volunteer_id)
        if pair.due_on is not None:
            for kind in visit_reminders(pair.due_on, today, pair.planned_on, pair.snoozed_until):
                on = pair.planned_on if kind == Kind.VISIT_PLANNED else pair.due_on
                items.append((pair.volunteer_id, Item(kind, pair.child_id, on or pair.due_on)))
                if kind == Kind.VISIT_ESCALATED:
                    town = town_of(pair.area_path)
                    items += [
                        (s.person_id, Item(kind, pair.child_id, pair.due_on, SUPERVISED))
                        for s in supervisors
                        if within(s.area_path, town)
                    ]
        for kind in birthday_reminders(pair.birth_date, pair.lunar, today):
            on = next_birthday(pair.birth_date, pair.lunar, today)
            items.append((pair.volunteer_id, Item(kind, pair.child_id, on)))
    for kind, care, on in care_date_reminders(today, settings.configured_care_dates):
        items += [(v, Item(kind, None, on, care.value)) for v in sorted(volunteers)]
    for kind in ledger_review_reminders(today):
        items += [
            (d.person_id, Item(kind, None, today)) for d in everyone if d.role == Role.DIRECTOR
        ]
    messages = []
    for person_id, todays in bundle(i for i in items if i[0] in people).items():
        person = people[person_id]
        t = services.translator(person.locale or settings.default_locale)
        text, buttons = render(t, todays, children, today)
        messages.append(
            Message(f"remind:{person_id}:{today.isoformat()}", person.chat_id, text, buttons,
                    person_id, not_before=release)
        )  # fmt: skip
    async with services.sessions.begin() as session:
        new = await outbox.plan(session, messages, now=now)
    if new:
        services.outbox_planned()
    return new


def render(
    t: Translator, items: list[Item], children: dict[int, tuple[str, str]], today: date
) -> tuple[str, tuple[tuple[tuple[str, str], ...], ...]]:
    lines = [t("remind.title", day=t.date(today))]
    with_buttons: list[int] = []
    for item in items:
        name, village = children.get(item.child_id or 0, ("", ""))
        key = (mark_plural("remind.escalated_supervisor") if item.extra == SUPERVISED
               else LINES[item.kind])  # fmt: skip
        festival = t(labels.CARE_DATE[CareDate(item.extra)]) if item.kind in (
            Kind.FESTIVAL, Kind.FESTIVAL_SOON) else ""  # fmt: skip
        late = days_overdue(item.on, today)
        params = dict(name=name, village=village, day=t.date(item.on), days=late,
                      festival=festival)  # fmt: skip
        lines.append(t.n(key, late, **params) if item.kind in COUNTED else t(key, **params))
        own_child = item.kind in VISITS or (item.kind == Kind.VISIT_ESCALATED and not item.extra)
        if own_child and item.child_id and item.child_id not in with_buttons:
            with_buttons.append(item.child_id)
    rows = tuple(
        (
            (t("mychildren.check_in", name=children[c][0]), CHECK_IN(c)),
            (t("remind.plan"), PLAN_VISIT(c)),
            (t("remind.snooze"), SNOOZE(c)),
        )
        for c in with_buttons[:BUTTONS_FOR]
    )
    return "\n".join(lines), rows
