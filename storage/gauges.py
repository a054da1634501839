"""What the metrics endpoint reads from the database on each scrape: the outbox's backlog
and the urgent reports nobody has taken yet. A few aggregates over indexed columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.cases import Status
from storage.models import Case, Outbox


@dataclass(frozen=True)
class Gauges:
    outbox_unsent: int  # planned, not sent and not given up (held for the morning included)
    outbox_oldest_wait: float  # seconds the longest-waiting due message has waited; 0: none
    urgent_unacknowledged: int  # urgent reports still open: nobody took them yet
    urgent_oldest_age: float  # seconds since the oldest of them was filed; 0: none


def _seconds(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


async def read(session: AsyncSession, now: datetime) -> Gauges:
    # A message waits from its planned time (a reminder held for the morning counts from the
    # morning) and, once it has been tried, from its creation: a retry moves its next attempt
    # on, and a message that keeps failing must still look old. Held ones not due yet: None.
    waiting_since: Any = case(
        (col(Outbox.attempts) > 0, col(Outbox.created_at)),
        (col(Outbox.next_attempt_at) <= now, col(Outbox.next_attempt_at)),
    )
    unsent = and_(col(Outbox.sent_at).is_(None), col(Outbox.failed_at).is_(None))
    outbox = (await session.exec(select(func.count(), func.min(waiting_since)).where(unsent))).one()
    open_urgent = and_(col(Case.status) == Status.OPEN, col(Case.urgent).is_(True))
    cases = (
        await session.exec(select(func.count(), func.min(col(Case.created_at))).where(open_urgent))
    ).one()
    return Gauges(
        outbox_unsent=int(outbox[0]),
        outbox_oldest_wait=_seconds(now, outbox[1]),
        urgent_unacknowledged=int(cases[0]),
        urgent_oldest_age=_seconds(now, cases[1]),
    )
