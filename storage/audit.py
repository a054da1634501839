"""The audit log: who viewed, changed or exported what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditLog


def record(
    session: AsyncSession, *, actor_id: int | None, action: str, subject: str, detail: str = ""
) -> None:
    """Added to the caller's transaction, so the entry stands or falls with the change."""
    session.add(AuditLog(actor_id=actor_id, action=action, subject=subject, detail=detail))


async def record_many(
    connection: AsyncConnection,
    *,
    actor_id: int | None,
    entries: Sequence[tuple[str, str, str]],
    at: datetime,
) -> None:
    """Many (subject, action, detail) entries in one statement (a ledger import, a check-in),
    on the connection of the caller's transaction."""
    if entries:
        rows = [
            {"actor_id": actor_id, "subject": subject, "action": action, "detail": detail, "at": at}
            for subject, action, detail in entries
        ]
        await connection.execute(insert(AuditLog), rows)


async def entries(session: AsyncSession, *, subject: str | None = None) -> list[AuditLog]:
    query = select(AuditLog).order_by(col(AuditLog.id))
    if subject is not None:
        query = query.where(AuditLog.subject == subject)
    return list(await session.exec(query))
