"""Saving what a person confirmed while the database is briefly away (restarting, failing
over, locked): the save waits and tries again, the person is told once that it is being
saved, and only after a bounded wait are they asked to press again, with their answers kept.
Nothing is half written meanwhile: each try is one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.error import TelegramError

from storage.db import unavailable
from toolkit.context import BotContext

T = TypeVar("T")
log = logging.getLogger("carebot.saving")
PATIENCE = 60.0  # seconds a save keeps trying before the person is asked to press again
FIRST_WAIT, LONGEST_WAIT = 0.5, 5.0


class NotSaved(Exception):
    """The database stayed away for the whole wait; nothing was written."""


async def patiently(update: Update, context: BotContext, save: Callable[[], Awaitable[T]]) -> T:
    """`save()`, tried again while the database is unavailable, for up to PATIENCE seconds."""
    loop = asyncio.get_running_loop()
    deadline, wait, told = loop.time() + PATIENCE, FIRST_WAIT, False
    while True:
        try:
            return await save()
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("database unavailable during a save: %s", type(error).__name__)
            if loop.time() + wait > deadline:
                raise NotSaved from error
            if not told:
                told = True
                await _say(update, context.t("save.waiting"))
            await asyncio.sleep(wait)
            wait = min(LONGEST_WAIT, wait * 2)


async def _say(update: Update, text: str) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await chat.send_message(text)
    except TelegramError as error:  # the save goes on; the reply will say how it went
        log.warning("could not say the save is waiting: %s", type(error).__name__)


async def quietly(call: Awaitable[Any]) -> None:
    """A Bot API call after the record is saved: if Telegram fails it, the record stands and
    the reply still comes through the outbox, so the person gets no apology for it."""
    try:
        await call
    except TelegramError as error:
        log.warning("after a save, a Bot API call failed: %s", type(error).__name__)
