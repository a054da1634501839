"""The per-update context: who is acting (`viewer`), their translator (`t`), and the services."""

from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from care.roles import Viewer
from locales import Translator
from service.services import Services


class BotContext(CallbackContext[ExtBot[None], dict, dict, dict]):  # type: ignore[type-arg]
    """Filled once per update by toolkit.guard.identify, before any other handler runs."""

    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None  # type: ignore[type-arg]
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.viewer: Viewer | None = None
        self.t: Translator = self.services.translator()

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]  # type: ignore[no-any-return]
