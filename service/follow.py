"""Keeping every child's due date by the configured visit rule: when the intervals
(VISIT_INTERVALS) differ from those the stored due dates were computed with, every due date
is recomputed, in one transaction, when the bot starts; and a child without a due date (a
row written by hand) gets one then, so that none is missing from /overdue's states."""

from __future__ import annotations

import logging

from service.services import Services
from storage import due

log = logging.getLogger("carebot.follow")


async def apply_visit_rule(services: Services) -> int | None:
    """Recomputes every child's due date if the configured intervals are not those applied;
    returns how many children were recomputed (None: nothing to do)."""
    rule = services.settings.visit_rule
    async with services.sessions.begin() as session:
        missing = await due.fill_missing(session, rule=rule)
        if missing:
            log.warning("%d children had no due date: given one", missing)
        if await due.applied_intervals(session) == rule.intervals_key():
            return None
        done = await due.recompute_all(session, rule)
    log.info("visit intervals now %s: due dates of %d children recomputed",
             rule.intervals_key(), done)  # fmt: skip
    return done
