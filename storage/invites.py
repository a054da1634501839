"""Invites: created by the CLI or a supervisor, used once by `/start <code>`, revoked by hand
or with their issuer; and the failed codes of each account, kept for a minute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from care.invites import InviteState, hash_code, hint_of, may_issue, new_code, state_of
from care.roles import Role
from storage import audit
from storage.models import Area, Invite, InviteFailure, Person


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
        code_hint=hint_of(code),
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
    """The invite of a code and whether it can be used, its issuer's rights included (one
    query): an invite dies when its issuer is deactivated or could no longer issue it."""
    issuer, issuer_area = aliased(Person), aliased(Area)
    row = (
        await session.exec(
            select(Invite, Area.path, issuer, issuer_area.path)
            .join(Area, col(Area.id) == Invite.area_id)
            .outerjoin(issuer, col(issuer.id) == Invite.created_by)
            .outerjoin(issuer_area, col(issuer_area.id) == issuer.area_id)
            .where(Invite.code_hash == code_hash)
        )
    ).first()
    if row is None:
        return InviteState.UNKNOWN, None
    invite, area_path, by, by_area = row
    issuer_ok = invite.created_by is None or (
        by is not None
        and by.active
        and by_area is not None
        and may_issue(Role(by.role), by_area, Role(invite.role), area_path)
    )
    state = state_of(
        used=invite.used_at is not None,
        revoked=invite.revoked_at is not None,
        expires_at=invite.expires_at,
        now=now,
        issuer_may_issue=issuer_ok,
    )
    return state, invite


async def consume(session: AsyncSession, *, invite_id: int, person_id: int, now: datetime) -> bool:
    """Marks the invite used, once: of two racing registrations (or a registration and a
    revocation) only one gets its way."""
    result = await session.exec(
        update(Invite)
        .where(
            col(Invite.id) == invite_id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
        )
        .where(col(Invite.expires_at) > now)
        .values(used_at=now, used_by=person_id)
    )
    return result.rowcount == 1


def _outstanding(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Not used, not revoked, not expired."""
    return (
        col(Invite.used_at).is_(None),
        col(Invite.revoked_at).is_(None),
        col(Invite.expires_at) > now,
    )


@dataclass(frozen=True)
class Outstanding:
    """An invite as /invites shows it."""

    invite: Invite
    area_path: str
    issuer_name: str | None  # None: the server's command line


async def outstanding_page(
    session: AsyncSession,
    *,
    issued_by: int,
    or_within: str | None,
    now: datetime,
    offset: int,
    limit: int,
) -> tuple[list[Outstanding], int]:
    """Unused, unrevoked, unexpired invites issued by `issued_by` (and, with `or_within`, every
    such invite for an area within that path, whoever issued it), newest first."""
    mine = col(Invite.created_by) == issued_by
    if or_within is not None:
        below = (col(Area.path) == or_within) | col(Area.path).startswith(
            or_within + "/", autoescape=True
        )
        mine = mine | below
    where = (*_outstanding(now), mine)
    total = (
        await session.exec(
            select(func.count())
            .select_from(Invite)
            .join(Area, col(Area.id) == Invite.area_id)
            .where(*where)
        )
    ).one()
    rows = await session.exec(
        select(Invite, Area.path, Person.name)
        .join(Area, col(Area.id) == Invite.area_id)
        .outerjoin(Person, col(Person.id) == Invite.created_by)
        .where(*where)
        .order_by(col(Invite.created_at).desc(), col(Invite.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return [Outstanding(invite, path, name) for invite, path, name in rows], total


async def get(session: AsyncSession, invite_id: int) -> Outstanding | None:
    """An invite with its area's path and its issuer's name (whatever its state)."""
    row = (
        await session.exec(
            select(Invite, Area.path, Person.name)
            .join(Area, col(Area.id) == Invite.area_id)
            .outerjoin(Person, col(Person.id) == Invite.created_by)
            .where(Invite.id == invite_id)
        )
    ).first()
    return Outstanding(row[0], row[1], row[2]) if row else None


async def revoke(session: AsyncSession, *, invite_id: int, by: int, now: datetime) -> bool:
    """Revokes an invite not used or revoked yet; False when it was (nothing written)."""
    result = await session.exec(
        update(Invite)
        .where(
            col(Invite.id) == invite_id,
            col(Invite.used_at).is_(None),
            col(Invite.revoked_at).is_(None),
        )
        .values(revoked_at=now, revoked_by=by)
    )
    return result.rowcount == 1


async def revoke_issued_by(
    session: AsyncSession, *, issuer_id: int, by: int | None, now: datetime
) -> list[int]:
    """Revokes every outstanding invite of an issuer (who is leaving); their ids."""
    revoked = await session.exec(
        update(Invite)
        .where(col(Invite.created_by) == issuer_id, *_outstanding(now))
        .values(revoked_at=now, revoked_by=by)
        .returning(col(Invite.id))
    )
    return sorted(row[0] for row in revoked)


async def failures_since(
    session: AsyncSession, *, tg_user_id: int, since: datetime
) -> list[datetime]:
    """The moments an account's codes failed, since `since`."""
    query = select(InviteFailure.at).where(
        InviteFailure.tg_user_id == tg_user_id, col(InviteFailure.at) > since
    )
    return list(await session.exec(query))


async def record_failure(
    session: AsyncSession, *, tg_user_id: int, now: datetime, forget_before: datetime
) -> None:
    """Records a failed code of an account, and forgets everyone's failures that no longer
    count (so the table holds about a minute of them)."""
    await session.exec(delete(InviteFailure).where(col(InviteFailure.at) <= forget_before))
    session.add(InviteFailure(tg_user_id=tg_user_id, at=now))
    await session.flush()
