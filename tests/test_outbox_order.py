"""The outbox keeps each chat's messages in the order they were planned, even when one of them
has to be tried again; a message held for the morning does not hold back an alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandbox.harness import Sandbox
from sandbox.telegram import ApiError
from storage import outbox
from storage.outbox import Message

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
CHAT = 4242


async def plan(box: Sandbox, *messages: Message) -> None:
    async with box.services.sessions.begin() as session:
        await outbox.plan(session, list(messages), now=box.services.now())


def texts(box: Sandbox) -> list[str]:
    return [m.text for m in box.telegram.chats[CHAT]]


async def test_a_retried_message_is_not_overtaken(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    box.telegram.faults[CHAT] = [ApiError(502, "Bad Gateway")]
    await plan(box, *(Message(f"m{n}", CHAT, f"message {n}") for n in (1, 2, 3)))
    await box.drain()
    assert texts(box) == []  # the first waits for its retry, and the others wait for it
    box.services.now = lambda: NOW + timedelta(seconds=5)
    await box.drain()
    assert texts(box) == ["message 1", "message 2", "message 3"]


async def test_a_message_held_for_the_morning_lets_an_alert_by(box: Sandbox) -> None:
    box.services.now = lambda: NOW
    morning = NOW + timedelta(hours=8)
    await plan(box, Message("reminder", CHAT, "reminder", not_before=morning))
    await plan(box, Message("alert", CHAT, "alert"))
    await box.drain()
    assert texts(box) == ["alert"]
    box.services.now = lambda: morning
    await box.drain()
    assert texts(box) == ["alert", "reminder"]
