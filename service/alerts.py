"""Alerts for hazard reports: each round of the ladder rendered for its recipients (in their
language, with the least that lets them act) and planned into the outbox; the due rounds
planned by a short repeating job (workers.jobs). Sending is the sender's (workers.sender)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from care.cases import Audience, Situation, Step, case_number
from locales import _ as mark
from locales import labels
from service.actions import CASE_ACK, CASE_OPEN
from service.services import Services
from storage import cases, outbox
from storage.models import Case
from storage.outbox import Message


def number_of(services: Services, case: Case) -> str:
    """The case number people say on the phone (year of the report in our time zone)."""
    assert case.id is not None
    return case_number(case.id, case.created_at.astimezone(services.settings.tz))


def round_key(case_id: int, round_: int) -> str:
    return f"case:{case_id}:r{round_}:"


async def plan_round(
    session: AsyncSession,
    services: Services,
    *,
    case: Case,
    area_path: str,
    round_: int,
    missed_from: int | None = None,
) -> int:
    """Plans the alerts of one round (idempotent); returns how many recipients it has. With
    nobody to reach, the next round is due at once: an alert that reaches no one escalates.
    `missed_from`: the first of the rounds missed while the bot was down, which this one
    stands for (it reaches everyone they would have reached, once)."""
    assert case.id is not None
    settings, now = services.settings, services.now()
    step = settings.ladder.step(round_)
    first = round_ if missed_from is None else missed_from
    number = number_of(services, case)
    village = area_path.rsplit("/", 1)[-1]
    situation = labels.SITUATION[Situation(case.situation)]
    prefix = round_key(case.id, round_)
    messages: list[Message] = []
    for who in settings.ladder.audiences(first, round_):
        if who == Audience.ALERT_CHAT:  # the minimum: number, situation, village; no names
            chat = settings.alert_chat_id
            if chat is not None and case.urgent:
                t = services.translator(settings.default_locale)
                key = mark("alert.chat") if round_ < Step.ALERT_CHAT else mark("alert.chat_late")
                text = t(key, number=number, situation=t(situation), village=village)
                messages.append(Message(f"{prefix}chat:{chat}", chat, text, case_id=case.id))
            continue
        for person in await cases.audience(session, area_path=area_path, who=who):
            t = services.translator(person.locale or settings.default_locale)
            key = mark("alert.urgent") if case.urgent else mark("alert.report")
            if round_ > 0:
                key = mark("alert.escalated")
            text = t(key, number=number, situation=t(situation), village=village,
                     time=t.datetime(case.created_at))  # fmt: skip
            buttons = (
                (
                    (t("alert.ack"), CASE_ACK(case.id)),
                    (t("alert.open"), CASE_OPEN(case.id)),
                ),
            )
            messages.append(
                Message(f"{prefix}chat:{person.chat_id}", person.chat_id, text, buttons,
                        person.person_id, case.id)
            )  # fmt: skip
    await outbox.plan(session, _unique(messages), now=now)
    people = [m for m in messages if m.person_id is not None]
    cases.event(session, case_id=case.id, kind="alerted", person_id=None,
                detail=f"round={round_} recipients={len(people)}")  # fmt: skip
    if not people and step < Step.ALERT_CHAT:  # nobody to reach in this round: go higher now
        await cases.escalate_now(session, case_id=case.id, now=now)
    return len(people)


def _unique(messages: list[Message]) -> list[Message]:
    """One alert per chat and round, whichever audiences the person is in."""
    first: dict[str, Message] = {}
    for message in messages:
        first.setdefault(message.key, message)
    return list(first.values())


async def escalate_due(services: Services) -> int:
    """Plans every round that is due; each exactly once, whoever else runs this too."""
    now = services.now()
    planned = 0
    async with services.sessions() as session:
        due = await cases.due_rounds(session, now=now)
    for case_id, last in due:
        async with services.sessions.begin() as session:
            found = await cases.with_area(session, case_id)
            if found is None:
                continue
            case, path = found
            ladder = services.settings.ladder
            target = ladder.latest_due(case.created_at, last, now)
            following = ladder.due(case.created_at, target + 1)
            if not await cases.advance(session, case_id=case_id, from_round=last,
                                       to_round=target, next_at=max(following, now)):  # fmt: skip
                continue  # another instance planned it
            cases.event(session, case_id=case_id, kind="escalated", person_id=None,
                        detail=f"round={target}")  # fmt: skip
            await plan_round(session, services, case=case, area_path=path, round_=target,
                             missed_from=last + 1)  # fmt: skip
            planned += 1
    if planned:
        services.outbox_planned()
    return planned


def first_round_due(services: Services, case: Case) -> datetime | None:
    return services.settings.ladder.due(case.created_at, 1) if case.urgent else None
