"""Answers given by replying to a question of the bot (Telegram's ForceReply): a command that
needs an argument asks for it, and the reply, whenever it comes, is taken as that argument.
Nothing is kept between the two: the question the reply points to says what it answers."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Message
from telegram.ext.filters import MessageFilter


class ReplyTo(MessageFilter):
    """Messages that reply to a question `asked(message)` recognises."""

    def __init__(self, asked: Callable[[Message], bool]) -> None:
        super().__init__()
        self.asked = asked

    def filter(self, message: Message) -> bool:
        return self.asked(message)
