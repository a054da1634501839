"""The outbox: messages that must not be lost, planned in the transaction of the fact that
causes them, claimed by one sender at a time, marked sent once."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, inspect, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import insert_for
from storage.models import Outbox

# A claimed message is its sender's for this long: longer than a message waits in the limiter
# (a group's twentieth message in a minute waits up to a minute). The one active instance frees
# every lease when it starts, so a crash does not hold messages back for this long.
LEASE = timedelta(minutes=5)
_JSON = json.JSONEncoder(ensure_ascii=False)  # built once (json.dumps with options builds one)


@dataclass(frozen=True)
class Message:
    key: str  # idempotency: planning the same message twice stores it once
    chat_id: int
    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    person_id: int | None = None
    case_id: int | None = None
    not_before: datetime | None = None


async def plan(session: AsyncSession, messages: list[Message], *, now: datetime) -> int:
    """Adds the messages not planned yet; returns how many were new."""
    if not messages:
        return 0
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        return await _plan_in_sqlite(connection, messages, now)
    rows = [
        {
            "key": m.key, "chat_id": m.chat_id, "text": m.text, "person_id": m.person_id,
            "case_id": m.case_id, "buttons": _JSON.encode(m.buttons),
            "created_at": now, "next_attempt_at": m.not_before or now, "attempts": 0,
        }
        for m in messages
    ]  # fmt: skip
    statement = (
        insert_for(session, Outbox)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Outbox.id)
    )
    # Core on the session's connection: the ORM's bulk insert costs more than the SQL (a day's
    # reminders are tens of thousands of rows)
    result = await connection.execute(statement, rows)
    return len(result.all())


_SQLITE_PLAN = (
    "INSERT INTO outbox (key, chat_id, text, person_id, case_id, buttons, created_at,"
    " next_attempt_at, attempts, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '')"
    " ON CONFLICT (key) DO NOTHING"
)


async def _plan_in_sqlite(
    connection: AsyncConnection, messages: list[Message], now: datetime
) -> int:
    """The same rows through the driver's executemany: SQLAlchemy's work per row cost twice
    SQLite's, and a day's reminders are tens of thousands of rows. The times are converted by
    the column's own type for this dialect, once per distinct time. SQLite counts the rows it
    added (ON CONFLICT DO NOTHING adds none)."""
    dialect = connection.dialect
    time_type = inspect(Outbox).columns["next_attempt_at"].type
    to_sql = time_type.dialect_impl(dialect).bind_processor(dialect)
    converted: dict[datetime, Any] = {}

    def at(moment: datetime) -> Any:
        if moment not in converted:
            converted[moment] = to_sql(moment) if to_sql else moment
        return converted[moment]

    rows = [
        (m.key, m.chat_id, m.text, m.person_id, m.case_id, _JSON.encode(m.buttons), at(now),
         at(m.not_before or now))
        for m in messages
    ]  # fmt: skip
    result = await connection.exec_driver_sql(_SQLITE_PLAN, rows)
    return result.rowcount


async def plan_to_send(
    connection: AsyncConnection, message: Message, *, now: datetime
) -> Outbox | None:
    """Plans one message and, when nothing is ahead of it in its chat, claims it for sending at
    once, in one transaction of two statements (Core: a reply to every save comes here).
    Returns the claimed row; None when it was planned before or waits for its turn."""
    ahead = await connection.scalar(_ahead_in_chat(), {"chat_id": message.chat_id, "now": now})
    claimed = None if ahead or message.not_before else now + LEASE
    row = Outbox(
        key=message.key, chat_id=message.chat_id, text=message.text,
        person_id=message.person_id, case_id=message.case_id,
        buttons=json.dumps(message.buttons, ensure_ascii=False), created_at=now,
        next_attempt_at=message.not_before or now, attempts=0, claimed_until=claimed,
    )  # fmt: skip
    statement = (
        insert_for(connection, Outbox)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Outbox.id)
    )
    values = row.model_dump(exclude={"id", "sent_at", "message_id", "failed_at"})
    row.id = (await connection.execute(statement, values)).scalar_one_or_none()
    return row if row.id is not None and claimed is not None else None


def _blocks_its_chat(message: Any, now: Any) -> Any:
    """A message that later ones of its chat must wait for: not sent, not given up, and due,
    in flight or waiting to be tried again. Only one held back and never tried (a reminder
    kept for the morning) lets later ones by."""
    return and_(
        col(message.sent_at).is_(None),
        col(message.failed_at).is_(None),
        (col(message.next_attempt_at) <= now) | (col(message.error) != ""),
    )


@functools.cache
def _ahead_in_chat() -> Any:
    """Whether the chat has a message that a new one must wait for (see claim)."""
    return (
        select(Outbox.id)
        .where(
            col(Outbox.chat_id) == bindparam("chat_id"),
            _blocks_its_chat(Outbox, bindparam("now")),
        )
        .limit(1)
    )


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, chat_id: int | None = None
) -> list[Outbox]:
    """Due messages, leased to the caller so no other sender (process) sends them too.

    A chat's messages go out in the order they were planned: a message waits while an earlier
    one of its chat is due, being sent, or waiting to be tried again (so "resolved" never
    overtakes "acknowledged"). Only a message held back and never tried (a reminder kept for
    the morning) lets later ones by: an alert does not wait for the quiet hours to end.
    `chat_id`: only that chat's (its next message, then)."""
    ahead = aliased(Outbox)
    earlier_pending = (
        select(ahead.id)
        .where(
            ahead.chat_id == Outbox.chat_id,
            col(ahead.id) < col(Outbox.id),
            _blocks_its_chat(ahead, now),
        )
        .exists()
    )
    due = (
        select(Outbox.id)
        .where(
            col(Outbox.sent_at).is_(None),
            col(Outbox.failed_at).is_(None),
            col(Outbox.next_attempt_at) <= now,
            (col(Outbox.claimed_until).is_(None)) | (col(Outbox.claimed_until) < now),
            ~earlier_pending,
            *([col(Outbox.chat_id) == chat_id] if chat_id is not None else []),
        )
        .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.exec(due))
    if not ids:
        return []
    await session.exec(
        update(Outbox).where(col(Outbox.id).in_(ids)).values(claimed_until=now + LEASE)
    )
    rows = await session.exec(
        select(Outbox).where(col(Outbox.id).in_(ids)).order_by(col(Outbox.id))
    )
    return list(rows)


async def release_leases(session: AsyncSession) -> None:
    """Frees every lease: called by the one active instance on start, so what a process that
    died had claimed goes out at once instead of when its lease would have run out."""
    await session.exec(
        update(Outbox)
        .where(col(Outbox.sent_at).is_(None), col(Outbox.claimed_until).is_not(None))
        .values(claimed_until=None)
    )


async def sent(
    connection: AsyncConnection, *, outbox_id: int, message_id: int, now: datetime
) -> None:
    """Marks a message sent, right after Telegram took it (Core: every message comes here)."""
    await connection.execute(
        _SENT, {"outbox_id": outbox_id, "message_id": message_id, "sent_at": now}
    )


_SENT = (
    update(Outbox)
    .where(col(Outbox.id) == bindparam("outbox_id"))
    .values(sent_at=bindparam("sent_at"), message_id=bindparam("message_id"), claimed_until=None)
)


async def later(
    session: AsyncSession, *, outbox_id: int, at: datetime, error: str, attempt: bool
) -> None:
    """Try again at `at` (a flood wait is not an attempt; a network error is)."""
    values: dict[str, Any] = {"next_attempt_at": at, "claimed_until": None, "error": error}
    if attempt:
        values["attempts"] = Outbox.attempts + 1
    await session.exec(update(Outbox).where(col(Outbox.id) == outbox_id).values(**values))


async def failed(session: AsyncSession, *, outbox_id: int, now: datetime, error: str) -> None:
    await session.exec(
        update(Outbox)
        .where(col(Outbox.id) == outbox_id)
        .values(failed_at=now, claimed_until=None, error=error)
    )


async def pending_for_case(
    session: AsyncSession, *, case_id: int, round_key: str
) -> tuple[int, int]:
    """(delivered, still pending) alerts to people (not the alert chat) of one round."""
    rows = await session.exec(
        select(Outbox.sent_at, Outbox.failed_at).where(
            col(Outbox.case_id) == case_id,
            col(Outbox.key).startswith(round_key),
            col(Outbox.person_id).is_not(None),
        )
    )
    delivered = pending = 0
    for sent_at, failed_at in rows:
        if sent_at is not None:
            delivered += 1
        elif failed_at is None:
            pending += 1
    return delivered, pending
