"""Invite codes: random, single use, expiring, revocable; only a hash is ever stored (and the
first few characters, so the issuer can tell their invites apart). An invite lives only as
long as its issuer could still issue it. Wrong codes slow an account down."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from care.roles import Role, invitable_roles, within


class InviteState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"  # withdrawn by hand, or its issuer may no longer issue it


CODE_BYTES = 18  # 144 bits; urlsafe base64 gives 24 characters, within deep-link limits
HINT_LENGTH = 4  # characters kept in clear: 24 of the 144 bits, enough to tell invites apart

# Wrong codes: after this many within the window, an account's further tries are refused
# unchecked until the oldest of them leaves the window.
FAILURES_ALLOWED = 5
FAILURE_WINDOW = timedelta(minutes=1)


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def hint_of(code: str) -> str:
    return code.strip()[:HINT_LENGTH]


def masked(hint: str) -> str:
    """The short form of a code shown after issuing: `Ab3x••••` (never the whole code)."""
    return f"{hint}••••"


def looks_like_code(text: str) -> bool:
    """Deep-link payloads may only hold A-Z a-z 0-9 _ - and at most 64 characters."""
    return 0 < len(text) <= 64 and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in text)


def expiry(now: datetime, ttl_days: int) -> datetime:
    return now + timedelta(days=ttl_days)


def may_issue(issuer_role: Role, issuer_area: str, role: Role, area_path: str) -> bool:
    """An inviter hands out roles up to their own, for areas within their own."""
    return role in invitable_roles(issuer_role) and within(area_path, issuer_area)


def state_of(
    *,
    used: bool,
    revoked: bool,
    expires_at: datetime,
    now: datetime,
    issuer_may_issue: bool,
) -> InviteState:
    """Whether an invite can still be used. `issuer_may_issue`: its issuer is active and could
    issue it today (always True for the server's command line, which has no issuer)."""
    if used:
        return InviteState.USED
    if revoked or not issuer_may_issue:
        return InviteState.REVOKED
    if expires_at <= now:
        return InviteState.EXPIRED
    return InviteState.VALID


def retry_in(failures: Iterable[datetime], now: datetime) -> int | None:
    """Whole seconds until an account with these failed codes may try again; None: now."""
    recent = sorted(at for at in failures if at > now - FAILURE_WINDOW)
    if len(recent) < FAILURES_ALLOWED:
        return None
    frees_at = recent[-FAILURES_ALLOWED] + FAILURE_WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))
