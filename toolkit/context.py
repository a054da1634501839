"""The per-update context: who is acting (`viewer`), their translator (`t`), and the services."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from care.roles import Viewer
from locales import Translator
from service.services import Services
from toolkit.limiter import Kind
from toolkit.persistence import UserData


class BotContext(CallbackContext[ExtBot[Kind], UserData, dict[Any, Any], dict[Any, Any]]):
    """Filled once per update by toolkit.guard.identify, before any other handler runs."""

    def __init__(
        self, application: BotApplication, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.viewer: Viewer | None = None
        self.t: Translator = self.services.translator()

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services


# The bot's Application, as bot.py builds it: ContextTypes(context=BotContext, user_data=UserData),
# its bot's calls saying what they are to the one rate limiter (toolkit.limiter.Kind).
# Its context type stays Any: python-telegram-bot types `CallbackContext.application` with an
# unbound type variable in that place, which would not match BotContext.
BotApplication = Application[ExtBot[Kind], Any, UserData, dict[Any, Any], dict[Any, Any], Any]
