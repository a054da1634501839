"""Simulated people: they send messages and press buttons in the fake Telegram, and read what
the bot answered. The tests, `bot.py simulate` and the benchmarks all talk through them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.telegram import JSON, FakeTelegram, Sent

Deliver = Callable[[JSON], Awaitable[None]]


class SimPerson:
    """One Telegram user. `chat_id` defaults to their private chat (the same id)."""

    def __init__(
        self,
        telegram: FakeTelegram,
        deliver: Deliver,
        *,
        user_id: int,
        first_name: str,
        language_code: str | None = "zh-hans",
        chat_id: int | None = None,
    ) -> None:
        self.telegram, self.deliver = telegram, deliver
        self.user_id, self.first_name, self.language_code = user_id, first_name, language_code
        self.chat_id = chat_id if chat_id is not None else user_id
        self.last_update: JSON = {}  # as delivered, to deliver it again (Telegram may)

    # -- what the person sees ----------------------------------------------------------------

    @property
    def inbox(self) -> list[Sent]:
        return self.telegram.chats[self.chat_id]

    @property
    def last(self) -> Sent:
        if not self.inbox:
            raise AssertionError(f"chat {self.chat_id} has no message from the bot")
        return self.inbox[-1]

    def in_group(self, group_chat_id: int) -> SimPerson:
        """The same person, writing in a group chat."""
        return SimPerson(
            self.telegram,
            self.deliver,
            user_id=self.user_id,
            first_name=self.first_name,
            language_code=self.language_code,
            chat_id=group_chat_id,
        )

    # -- what the person does ----------------------------------------------------------------

    def _user(self) -> JSON:
        user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _chat(self) -> JSON:
        if self.chat_id > 0:
            return {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        return {"id": self.chat_id, "type": "group", "title": "Village group"}

    def _message(self, **content: Any) -> JSON:
        message_id = self.telegram.next_message_id()
        self.telegram.from_people[self.chat_id][message_id] = content
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self._user(),
            **content,
        }

    async def _send(self, **update: Any) -> list[Sent]:
        """Delivers the update; returns the messages it made or edited in this chat (and did
        not delete), oldest first."""
        mark = len(self.telegram.changes)
        self.last_update = {"update_id": self.telegram.next_update_id(), **update}
        await self.deliver(self.last_update)
        changed = {
            m.message_id: m
            for m in self.telegram.changes[mark:]
            if m.chat_id == self.chat_id and not m.deleted
        }
        return [changed[message_id] for message_id in sorted(changed)]

    async def send(self, text: str) -> list[Sent]:
        """Sends text; a leading /command is marked as a bot command, as Telegram does."""
        content: JSON = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._send(message=self._message(**content))

    async def edit(self, message_id: int, text: str) -> list[Sent]:
        """Edits one of the person's own earlier messages (Telegram sends it as an update)."""
        edited = {**self._message(text=text), "message_id": message_id,
                  "edit_date": int(time.time())}  # fmt: skip
        return await self._send(edited_message=edited)

    async def reply(self, text: str, to: Sent) -> list[Sent]:
        """Sends text as a reply to one of the bot's messages (as a ForceReply asks)."""
        quoted: JSON = {
            "message_id": to.message_id, "date": int(time.time()), "chat": self._chat(),
            "from": self.telegram.bot, "text": to.text,
        }  # fmt: skip
        return await self._send(message=self._message(text=text, reply_to_message=quoted))

    async def send_sticker(self) -> list[Sent]:
        sticker = {
            "file_id": "sticker1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._send(message=self._message(sticker=sticker))

    async def send_photo(self) -> list[Sent]:
        photo = [{"file_id": "photo1", "file_unique_id": "p1", "width": 90, "height": 90}]
        return await self._send(message=self._message(photo=photo))

    async def send_voice(self, seconds: int = 5) -> list[Sent]:
        voice = {"file_id": f"voice{self.telegram.next_message_id()}", "file_unique_id": "v",
                 "duration": seconds}  # fmt: skip
        return await self._send(message=self._message(voice=voice))

    async def send_location(self, latitude: float, longitude: float) -> list[Sent]:
        location = {"latitude": latitude, "longitude": longitude}
        return await self._send(message=self._message(location=location))

    async def send_document(self, file_name: str, content: bytes = b"") -> list[Sent]:
        file_id = f"file{self.telegram.next_message_id()}"
        self.telegram.upload(file_id, content)
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": file_name,
            "file_size": len(content),
        }
        return await self._send(message=self._message(document=document))

    async def press(self, label_or_data: str, message: Sent | None = None) -> list[Sent]:
        """Presses the button with this label (or callback data) on `message` (default: the
        newest message that has it)."""
        candidates = [message] if message else reversed(self.inbox)
        for sent in candidates:
            for label, data in sent.buttons:
                if label_or_data in (label, data):
                    return await self.press_data(data, sent)
        shown = [b for m in self.inbox[-3:] for b in m.buttons]
        raise AssertionError(f"no button {label_or_data!r}; recent buttons: {shown}")

    async def press_data(self, data: str, message: Sent) -> list[Sent]:
        """Presses a button with any callback data, real or forged, on `message`."""
        shown: JSON = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self.telegram.bot,
            "text": message.text,
        }
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            shown["reply_markup"] = message.reply_markup
        query = {
            "id": str(self.telegram.next_update_id()),
            "from": self._user(),
            "chat_instance": str(self.chat_id),
            "message": shown,
            "data": data,
        }
        return await self._send(callback_query=query)
