"""The per-update context: who is acting (`viewer`), their translator (`t`), and the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, CallbackContext, ExtBot

from care.roles import Viewer
from handlers.viewers import ViewerCache
from locales import Translator
from settings import Settings
from storage import people
from storage.db import Sessions
from storage.types import utcnow


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    now: Callable[[], datetime] = field(default=utcnow)  # tests move this clock
    viewers: ViewerCache = field(default_factory=lambda: ViewerCache(ttl=5.0))
    background: bool = True  # run the outbox sender; tests drive it step by step instead

    def today(self) -> date:
        """Today in the configured time zone: what "due", "overdue" and birthdays count in."""
        return self.now().astimezone(self.settings.tz).date()

    async def load_viewer(self, tg_user_id: int) -> Viewer | None:
        async with self.sessions() as session:
            return await people.viewer(session, tg_user_id)

    def translator(self, locale: str) -> Translator:
        return Translator(locale, self.settings.tz)


class BotContext(CallbackContext[ExtBot[None], dict, dict, dict]):
    """Filled once per update by handlers.guard.identify, before any other handler runs."""

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.viewer: Viewer | None = None
        self.t: Translator = self.services.translator(self.services.settings.default_locale)

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]  # type: ignore[no-any-return]
