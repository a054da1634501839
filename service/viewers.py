"""Who is behind an update, remembered for a few seconds: the guard runs on every update, and
a database read per update would cost more than the rest of a check-in step.

This process forgets a person at once when it changes them (registration, deactivation,
language); another bot instance on the same database sees the change within `ttl` seconds."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from care.roles import Viewer

Load = Callable[[int], Awaitable[Viewer | None]]


class ViewerCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._seen: dict[int, tuple[float, Viewer | None]] = {}

    async def get(self, tg_user_id: int, load: Load) -> Viewer | None:
        now = time.monotonic()
        hit = self._seen.get(tg_user_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        viewer = await load(tg_user_id)
        if self.ttl > 0:
            if len(self._seen) > 50_000:  # a bound, not a policy: forget everyone
                self._seen.clear()
            self._seen[tg_user_id] = (now, viewer)
        return viewer

    def forget(self, tg_user_id: int) -> None:
        self._seen.pop(tg_user_id, None)
