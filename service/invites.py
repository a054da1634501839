"""Invites, issued, listed, revoked and redeemed. There is one way to issue one, whoever asks:
the command line on the server (the very first admin), a supervisor or an admin in chat, the
simulator, the tests. Redeeming registers the person and uses up the invite in one
transaction, so nobody is ever half-registered.

An invite lives only as long as its issuer could still issue it: deactivating the issuer
revokes their outstanding invites in the same transaction (service.people), and every check
of a code looks at the issuer's role, area and active flag again. Codes that open nothing are
counted per Telegram account in the database (`invite_failure`, a minute of them), logged
without the code, and after a few in a minute the account's further tries are refused without
looking at the code."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from care.invites import (
    FAILURE_WINDOW,
    FAILURES_ALLOWED,
    InviteState,
    expiry,
    hash_code,
    looks_like_code,
    masked,
    may_issue,
    retry_in,
)
from care.roles import (
    INVITING_ROLES,
    AreaPathError,
    Gender,
    Level,
    Role,
    Viewer,
    invitable_roles,
    role_fits_level,
)
from service.services import Services
from storage import areas, audit, invites, people
from storage.models import Area, Invite, Person

log = logging.getLogger("carebot.invites")
PAGE_SIZE = 8  # invites per page of /invites, each with its button


class Refusal(StrEnum):
    ROLE = "role"  # a role above the issuer's own
    AREA = "area"  # an area outside the issuer's own
    LEVEL = "level"  # a director needs a village


class Refused(Exception):
    def __init__(self, why: Refusal) -> None:
        super().__init__(why.value)
        self.why = why


@dataclass(frozen=True)
class Issued:
    code: str  # shown once; only its hash is stored
    role: Role
    area_path: str
    expires_at: datetime


async def issue(
    services: Services,
    *,
    role: Role,
    issuer: Viewer | None,
    area_id: int | None = None,
    area_path: str | None = None,
) -> Issued:
    """An invite for `role` in an area. A person (`issuer`) names an area of theirs by id; the
    server's command line (no issuer) names it by path and creates what is missing. Raises
    Refused, or AreaPathError for a malformed path."""
    async with services.sessions.begin() as session:
        area: Area | None
        if issuer is None:
            area = await areas.ensure_path(session, area_path or "")
        else:
            area = await areas.get(session, area_id) if area_id is not None else None
        if area is None:
            raise Refused(Refusal.AREA)
        if issuer is not None and not may_issue(issuer.role, issuer.area_path, role, area.path):
            wrong_role = role not in invitable_roles(issuer.role)
            raise Refused(Refusal.ROLE if wrong_role else Refusal.AREA)
        if not role_fits_level(role, Level(area.level)):
            raise Refused(Refusal.LEVEL)
        expires = expiry(services.now(), services.settings.invite_ttl_days)
        assert area.id is not None
        code = await invites.issue(
            session,
            role=role,
            area_id=area.id,
            created_by=issuer.person_id if issuer else None,
            expires_at=expires,
        )
    return Issued(code, role, area.path, expires)


@dataclass(frozen=True)
class AreaChoice:
    area: Area
    below: list[Area]  # a page of the areas right below it
    total: int  # how many areas are below it in all


async def area_choice(
    services: Services, issuer: Viewer, area_id: int, *, offset: int, limit: int
) -> AreaChoice | None:
    """An area `issuer` may hand out invites for, with a page of the areas below it; None for
    an area outside their own (whatever a button claimed)."""
    async with services.sessions() as session:
        area = await areas.get(session, area_id)
        if area is None or area.id is None or not issuer.sees(area.path):
            return None
        below, total = await areas.children_page(
            session, parent_id=area.id, offset=offset, limit=limit
        )
    return AreaChoice(area, below, total)


@dataclass(frozen=True)
class Slowed:
    """Too many wrong codes from this account lately: the code was not even looked at."""

    retry_in: int  # seconds


async def check(services: Services, code: str, *, tg_user_id: int) -> Invite | InviteState | Slowed:
    """The invite a code opens, or why not; nothing is written but the failure count. A code
    that opens nothing is counted against the account that sent it (and logged, without the
    code); after FAILURES_ALLOWED of them within FAILURE_WINDOW, the account's further tries are
    refused unchecked (Slowed) until the oldest leaves the window. The count is a table, not
    this process's memory: every instance sees it, a restart keeps it."""
    now = services.now()
    async with services.sessions.begin() as session:
        recent = await invites.failures_since(
            session, tg_user_id=tg_user_id, since=now - FAILURE_WINDOW
        )
        wait = retry_in(recent, now)
        if wait is not None:
            return Slowed(wait)
        state, invite = InviteState.UNKNOWN, None
        if looks_like_code(code):
            state, invite = await invites.check(session, code_hash=hash_code(code), now=now)
        if state == InviteState.VALID and invite is not None:
            return invite
        await invites.record_failure(
            session, tg_user_id=tg_user_id, now=now, forget_before=now - FAILURE_WINDOW
        )
    failures = len(recent) + 1
    log.warning("invite code refused (%s) for account %s: %d in the last minute",
                state.value, tg_user_id, failures)  # fmt: skip
    if failures == FAILURES_ALLOWED:
        log.warning("account %s slowed down: %d refused invite codes within a minute",
                    tg_user_id, failures)  # fmt: skip
    return state


class _Taken(Exception):
    """Rolls the registration back: the invite was used or revoked meanwhile."""


@dataclass(frozen=True)
class Registration:
    tg_user_id: int
    code_hash: str
    name: str
    gender: Gender
    locale: str


async def redeem(services: Services, new: Registration) -> Person | InviteState:
    """Registers the person and uses up the invite, or says why the invite cannot be used."""
    now = services.now()
    try:
        async with services.sessions.begin() as session:
            state, invite = await invites.check(session, code_hash=new.code_hash, now=now)
            if state != InviteState.VALID or invite is None:
                return state
            person = await people.upsert(
                session, tg_user_id=new.tg_user_id, name=new.name, role=Role(invite.role),
                area_id=invite.area_id, gender=new.gender, locale=new.locale,
            )  # fmt: skip
            assert invite.id is not None and person.id is not None
            used = await invites.consume(session, invite_id=invite.id, person_id=person.id, now=now)
            if not used:
                raise _Taken
            audit.record(session, actor_id=person.id, action="register",
                         subject=f"person:{person.id}")  # fmt: skip
    except _Taken:  # used or revoked a moment ago; nothing was written: say which
        async with services.sessions() as session:
            state, _ = await invites.check(session, code_hash=new.code_hash, now=now)
        return state if state != InviteState.VALID else InviteState.USED
    finally:
        services.viewers.forget(new.tg_user_id)
    return person


# -- outstanding invites: /invites ---------------------------------------------------------------


def may_list(actor: Viewer) -> bool:
    return actor.role in INVITING_ROLES


def may_revoke(actor: Viewer, issued_by: int | None, area_path: str) -> bool:
    """One's own invites; an admin also anyone's (the command line's too) for an area within
    their own, as they may deactivate anyone there once registered."""
    if not may_list(actor):
        return False
    return issued_by == actor.person_id or (actor.role == Role.ADMIN and actor.sees(area_path))


@dataclass(frozen=True)
class InviteLine:
    invite_id: int
    code: str  # masked: the first characters only
    role: Role
    area_path: str
    expires_at: datetime
    issuer: str | None  # who issued it, when not the actor ("" for the command line)


@dataclass(frozen=True)
class InvitePage:
    lines: list[InviteLine]
    total: int
    page: int
    pages: int


class Denied(StrEnum):
    """Why /invites or a revocation was refused."""

    UNKNOWN = "unknown"  # no such invite
    FORBIDDEN = "forbidden"  # not the actor's to revoke
    USED = "used"  # someone registered with it already


async def outstanding(services: Services, actor: Viewer, number: int) -> InvitePage | Denied:
    """A page of the invites the actor may revoke that can still be used, newest first (the
    last page, for a page past the end: a revocation may have emptied it)."""
    if not may_list(actor):
        return Denied.FORBIDDEN
    within = actor.area_path if actor.role == Role.ADMIN else None
    async with services.sessions() as session:
        rows, total = await _page(services, session, actor, within, max(0, number))
        pages = max(1, -(-total // PAGE_SIZE))
        if number >= pages and total:
            number = pages - 1
            rows, total = await _page(services, session, actor, within, number)
    return InvitePage([_line(actor, row) for row in rows], total, max(0, number), pages)


async def _page(
    services: Services, session: AsyncSession, actor: Viewer, within: str | None, number: int
) -> tuple[list[invites.Outstanding], int]:
    return await invites.outstanding_page(
        session, issued_by=actor.person_id, or_within=within, now=services.now(),
        offset=number * PAGE_SIZE, limit=PAGE_SIZE,
    )  # fmt: skip


def _line(actor: Viewer, row: invites.Outstanding) -> InviteLine:
    invite = row.invite
    assert invite.id is not None  # read back from the database
    mine = invite.created_by == actor.person_id
    return InviteLine(
        invite_id=invite.id, code=masked(invite.code_hint), role=Role(invite.role),
        area_path=row.area_path, expires_at=invite.expires_at,
        issuer=None if mine else (row.issuer_name or ""),
    )  # fmt: skip


async def target(services: Services, actor: Viewer, invite_id: int) -> InviteLine | Denied:
    """An invite the actor may revoke, for the "are you sure?" question."""
    async with services.sessions() as session:
        found = await invites.get(session, invite_id)
    if found is None:
        return Denied.UNKNOWN
    if not may_revoke(actor, found.invite.created_by, found.area_path):
        return Denied.FORBIDDEN
    if found.invite.used_at is not None:
        return Denied.USED
    return _line(actor, found)


@dataclass(frozen=True)
class Revoked:
    invite_id: int
    code: str  # masked
    changed: bool  # False: revoked or expired already (nothing written)


async def revoke(services: Services, actor: Viewer, invite_id: int) -> Revoked | Denied:
    """Revokes an invite the actor may revoke (audited); nobody can register with it after."""
    now = services.now()
    async with services.sessions.begin() as session:
        found = await invites.get(session, invite_id)
        if found is None:
            return Denied.UNKNOWN
        invite = found.invite
        if not may_revoke(actor, invite.created_by, found.area_path):
            return Denied.FORBIDDEN
        if invite.used_at is None and invite.revoked_at is None and invite.expires_at > now:
            if not await invites.revoke(session, invite_id=invite_id, by=actor.person_id, now=now):
                await session.refresh(invite)  # a registration or another revocation won the row
            else:
                audit.record(session, actor_id=actor.person_id, action="revoke_invite",
                             subject=f"invite:{invite_id}")  # fmt: skip
                return Revoked(invite_id, masked(invite.code_hint), changed=True)
        if invite.used_at is not None:
            return Denied.USED
    return Revoked(invite_id, masked(invite.code_hint), changed=False)


__all__ = ["AreaPathError", "Issued", "Refusal", "Refused", "Registration", "Slowed", "check",
           "issue", "outstanding", "redeem", "revoke"]  # fmt: skip
