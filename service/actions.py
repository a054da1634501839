"""Actions a message offers on its buttons: a short prefix and a few parts, at most 64 bytes
(Telegram's limit for callback data; a web front end would use them as links). Each prefix is
declared once, as an `Action`, with its builder and its parser side by side; two declarations
of one prefix fail at import. Never trusted: whoever handles an action checks role and area
again, whatever its parts claim.

The actions below are shared across layers: use cases put them on the messages they plan
(alerts, reminders, the reply to a save) and a flow or a command handles them. An action that
one chat module both offers and handles is declared in that module."""

from __future__ import annotations

import re
from typing import ClassVar

LIMIT = 64  # bytes


class Action:
    _declared: ClassVar[set[str]] = set()

    def __init__(self, prefix: str) -> None:
        clash = [p for p in Action._declared if f"{p}:".startswith(f"{prefix}:")
                 or f"{prefix}:".startswith(f"{p}:")]  # fmt: skip
        if clash:
            raise ValueError(f"action prefix {prefix!r} clashes with {clash[0]!r}")
        Action._declared.add(prefix)
        self.prefix = prefix
        self.pattern = rf"^{re.escape(prefix)}:"  # for CallbackQueryHandler

    def __call__(self, *parts: str | int) -> str:
        """The callback data for these parts."""
        data = ":".join((self.prefix, *map(str, parts)))
        if len(data) * 4 > LIMIT and len(data.encode()) > LIMIT:  # at most 4 bytes a character
            raise ValueError(f"callback data over {LIMIT} bytes for {self.prefix!r}")
        return data

    def parts(self, data: str | None) -> list[str] | None:
        """The parts of `data`, or None when it is not this action's."""
        if data is None or not data.startswith(f"{self.prefix}:"):
            return None
        return data[len(self.prefix) + 1 :].split(":")

    def ids(self, data: str | None, count: int = 1) -> list[int] | None:
        """Exactly `count` whole numbers, or None (a forged or stale button)."""
        parts = self.parts(data)
        if parts is None or len(parts) != count or not all(p.isdigit() for p in parts):
            return None
        return [int(p) for p in parts]

    def id(self, data: str | None) -> int | None:
        found = self.ids(data)
        return found[0] if found else None

    def value(self, data: str | None) -> str | None:
        """The single part after the prefix (may itself hold colons)."""
        return None if data is None or self.parts(data) is None else data[len(self.prefix) + 1 :]


CHECK_IN = Action("cin")  # cin:<child>: start a check-in for this child
REPORT_FROM_VISIT = Action("urg")  # urg:<visit>: an urgent report pre-filled from a check-in
CASE_ACK = Action("case:ack")  # case:ack:<case>: "I'm handling it"
CASE_OPEN = Action("case:open")  # case:open:<case>: the case's private view
CASE_RESOLVE = Action("case:res")  # case:res:<case>: resolve with an outcome
PLAN_VISIT = Action("vp:plan")  # vp:plan:<child>: plan a visit date
SNOOZE = Action("vp:snz")  # vp:snz:<child>: snooze the reminders of a child
EDIT_CHILD = Action("ce")  # ce:<colour|school|guardian>:<child>: edit a field of a child
PAIR_CHILD = Action("pair:child")  # pair:child:<child>: pair (or reassign) this child
UNPAIR_CHILD = Action("unp:child")  # unp:child:<child>: end a pairing of this child
PAIRING_REVIEWED = Action("pr:review")  # pr:review:<child>: this year's pairing review done
CLOSE_CHILD = Action("close:child")  # close:child:<child>: close the record (read-only)
MOVE_CHILD = Action("move:child")  # move:child:<child>: move the child to another village
