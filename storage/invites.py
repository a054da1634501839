"""Invites: created by the CLI or a supervisor, used once by `/start <code>`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.invites import InviteState, hash_code, new_code
from care.roles import Role
from storage import audit
from storage.models import Invite


async def issue(
    session: AsyncSession,
    *,
    role: Role,
    area_id: int,
    created_by: int | None,
    expires_at: datetime,
) -> str:
    """Creates an invite (audited) and returns its code: shown once, stored only hashed."""
    code = new_code()
    invite = Invite(
        code_hash=hash_code(code),
        role=role.value,
        area_id=area_id,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(invite)
    await session.flush()
    audit.record(
        session,
        actor_id=created_by,
        action="invite",
        subject=f"invite:{invite.id}",
        detail=f"role={role.value} area={area_id}",
    )
    return code


async def check(
    session: AsyncSession, *, code_hash: str, now: datetime
) -> tuple[InviteState, Invite | None]:
    invite = (await session.exec(select(Invite).where(Invite.code_hash == code_hash))).first()
    if invite is None:
        return InviteState.UNKNOWN, None
    if invite.used_at is not None:
        return InviteState.USED, invite
    if invite.expires_at <= now:
        return InviteState.EXPIRED, invite
    return InviteState.VALID, invite


async def consume(session: AsyncSession, *, invite_id: int, person_id: int, now: datetime) -> bool:
    """Marks the invite used, once: of two racing registrations only one gets True."""
    result = await session.exec(
        update(Invite)
        .where(col(Invite.id) == invite_id, col(Invite.used_at).is_(None))
        .where(col(Invite.expires_at) > now)
        .values(used_at=now, used_by=person_id)
    )
    return result.rowcount == 1
