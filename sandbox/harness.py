"""The real Application on the fake Telegram: started, fed updates, stopped. Used by the tests,
`bot.py simulate` and the benchmarks."""

from __future__ import annotations

from types import TracebackType

from telegram import Update

from bot import build_application
from sandbox.people import SimPerson
from sandbox.request import FakeRequest
from sandbox.telegram import JSON, FakeTelegram
from service.services import Services
from settings import Settings
from toolkit.limiter import Limiter


class Sandbox:
    # The length of Telegram's second for the rate limiter: real in the simulator and the
    # benchmarks; the tests shorten it (tests/conftest.py), as their people type at machine
    # speed and would otherwise wait on the per-chat limit at every step.
    limits_unit = 1.0

    def __init__(self, settings: Settings, *, services: Services | None = None) -> None:
        self.telegram = FakeTelegram()
        self.application = build_application(
            settings, request=FakeRequest(self.telegram), services=services,
            limiter=Limiter(unit=self.limits_unit),
        )  # fmt: skip
        self.services: Services = self.application.bot_data["services"]
        self.services.background = False  # tests send the outbox with `drain`

    async def __aenter__(self) -> Sandbox:
        await self.application.initialize()
        # `async with application` runs neither post_init nor post_shutdown: run them here.
        assert self.application.post_init is not None
        await self.application.post_init(self.application)
        await self.application.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.application.stop()
        assert self.application.post_stop is not None
        await self.application.post_stop(self.application)
        await self.application.shutdown()
        assert self.application.post_shutdown is not None
        await self.application.post_shutdown(self.application)

    async def deliver(self, update: JSON) -> None:
        """As the bot's updater and update fetcher do: through the inbox, then the update
        processor; returns once the update is handled (or dropped as seen before)."""
        application = self.application
        parsed = Update.de_json(update, application.bot)
        for new in await application.bot_data["inbox"].accept([parsed]):
            await application.update_processor.process_update(new, application.process_update(new))

    async def drain(self) -> None:
        """Sends every due message of the outbox, as the sender's loop would."""
        await self.application.bot_data["sender"].drain()

    def person(
        self, user_id: int, first_name: str = "Test", language_code: str | None = "zh-hans"
    ) -> SimPerson:
        return SimPerson(
            self.telegram,
            self.deliver,
            user_id=user_id,
            first_name=first_name,
            language_code=language_code,
        )
