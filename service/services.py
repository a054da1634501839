"""What every use case works with: the settings, the database, the clock, who is who, and a
way to tell the outbox's sender that there is something to send. No Telegram here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from care.roles import Viewer
from locales import Translator
from service.viewers import ViewerCache
from settings import Settings
from storage import people
from storage.db import Sessions
from storage.models import Outbox
from storage.types import utcnow


async def _wait_for_sender(_key: str, _chat_id: int, _claimed: Outbox | None) -> None:
    return None


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    now: Callable[[], datetime] = field(default=utcnow)  # tests move this clock
    viewers: ViewerCache = field(default_factory=lambda: ViewerCache(ttl=5.0))
    background: bool = True  # run the outbox sender; tests drive it step by step instead
    # Called after a use case planned outbox messages: the sender wakes up (set by the worker).
    outbox_planned: Callable[[], None] = field(default=lambda: None)
    # Delivers a planned message now, by its key and chat, or the row already claimed for it
    # (set by the sender); what fails is left to the sender's retries. Without a sender, the
    # message waits for one.
    deliver_now: Callable[[str, int, Outbox | None], Awaitable[None]] = field(
        default=_wait_for_sender
    )

    def today(self) -> date:
        """Today in the configured time zone: what "due", "overdue" and birthdays count in."""
        return self.now().astimezone(self.settings.tz).date()

    async def load_viewer(self, tg_user_id: int) -> Viewer | None:
        async with self.sessions() as session:
            return await people.viewer(session, tg_user_id)

    def translator(self, locale: str | None = None) -> Translator:
        """The catalogs in `locale`, else the configured default language."""
        return Translator(locale or self.settings.default_locale, self.settings.tz)
