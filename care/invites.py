"""Invite codes: random, single use, expiring; only a hash is ever stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum


class InviteState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


CODE_BYTES = 18  # 144 bits; urlsafe base64 gives 24 characters, within deep-link limits


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def looks_like_code(text: str) -> bool:
    """Deep-link payloads may only hold A-Z a-z 0-9 _ - and at most 64 characters."""
    return 0 < len(text) <= 64 and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in text)


def expiry(now: datetime, ttl_days: int) -> datetime:
    return now + timedelta(days=ttl_days)
