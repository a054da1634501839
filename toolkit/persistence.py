"""A python-telegram-bot persistence on our database: the flows in progress (each person's
answers so far and conversation states), so a flow half done continues after a restart.

PTB hands changes over in `update_persistence`; they are staged here. After every update the
bot calls `write_soon`: within a few milliseconds one transaction writes every person whose
flows changed meanwhile (one row each, one statement for all), together with the inbox's rows
of the same moment (toolkit.groupcommit: one commit for both). Stopping the
bot writes the rest (`flush`), so a restart loses nothing; a crash loses at most the last few
milliseconds, whose questions are then asked again."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage import flows as table
from storage.types import utcnow
from toolkit.groupcommit import GroupCommit

log = logging.getLogger("carebot.persistence")


class UserData(dict[str, Any]):
    """A person's user_data: flows in progress, JSON values only. PTB deep-copies it for the
    persistence after every update; a copy as JSON text is what is stored anyway, and is
    made in one call instead of a walk over every value."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Snapshot:
        return Snapshot(json.dumps(self, ensure_ascii=False, sort_keys=True))


class Snapshot(str):
    """UserData as JSON text, as PTB hands it to `update_user_data`."""


MARK_KEPT = timedelta(days=1)  # how long an update's id is remembered (Telegram keeps a day)
Flows = dict[str, dict[str, int]]  # flow name -> "chat,user" -> state


def _key(key: ConversationKey) -> str:
    return ",".join(str(part) for part in key)


class DbPersistence(BasePersistence[UserData, dict[Any, Any], dict[Any, Any]]):
    def __init__(
        self, engine: AsyncEngine, writer: GroupCommit, *, clock: Callable[[], Any] = utcnow
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=60,
        )
        self.engine, self.writer, self.clock = engine, writer, clock
        writer.join(self)
        # What the database holds (or will once flushed), per person.
        self._data: dict[int, str] = {}
        self._flows: dict[int, Flows] = defaultdict(dict)
        # the last update of each private chat handled, and when it was
        self._seen: dict[int, tuple[int, datetime]] = {}
        self._dirty: set[int] = set()
        self._loaded = False

    async def _load(self) -> None:
        if self._loaded:
            return
        for user_id, data, conversations, last_update, at in await table.load(self.engine):
            self._data[user_id] = data
            self._flows[user_id] = json.loads(conversations)
            if last_update is not None:
                self._seen[user_id] = (last_update, at)
        self._loaded = True

    # -- reading, once at start -------------------------------------------------------------

    async def get_user_data(self) -> dict[int, UserData]:
        await self._load()
        return {user_id: UserData(json.loads(data)) for user_id, data in self._data.items()}

    async def get_conversations(self, name: str) -> ConversationDict:
        await self._load()
        found: ConversationDict = {}
        for person in self._flows.values():
            for key, state in person.get(name, {}).items():
                found[tuple(int(part) for part in key.split(","))] = state
        return found

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    # -- staging changes ---------------------------------------------------------------------

    async def update_user_data(self, user_id: int, data: UserData | Snapshot) -> None:
        encoded = (
            data
            if isinstance(data, Snapshot)
            else json.dumps(data, ensure_ascii=False, sort_keys=True)
        )
        if self._data.get(user_id) != encoded:
            self._data[user_id] = encoded
            self._dirty.add(user_id)

    async def drop_user_data(self, user_id: int) -> None:
        self._data[user_id] = "{}"
        self._dirty.add(user_id)

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        user_id = int(key[-1])  # keys end with the user (chat, user)
        flows = self._flows[user_id].setdefault(name, {})
        if isinstance(new_state, int):
            flows[_key(key)] = new_state
        else:
            flows.pop(_key(key), None)
        self._dirty.add(user_id)

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    # -- updates delivered again ----------------------------------------------------------

    def handled_before(self, user_id: int, update_id: int) -> bool:
        """Whether this update of the person's private chat was handled already (and its
        effect on their flows stored with it): Telegram delivers again, after a crash, what
        it had handed over but not seen confirmed. Update ids only grow, and a chat's updates
        are handled in order (toolkit.processor). A mark older than a day is ignored: Telegram
        keeps an update for a day at most, and after a week without any it may start the ids
        anew, lower."""
        seen = self._seen.get(user_id)
        return seen is not None and update_id <= seen[0] and self.clock() - seen[1] < MARK_KEPT

    def handled(self, user_id: int, update_id: int) -> None:
        """Records the update as handled: written with the flows it changed, in one row."""
        self._seen[user_id] = (update_id, self.clock())
        self._dirty.add(user_id)

    # -- writing: a part of the bot's group commit (toolkit.groupcommit) ----------------------

    def write_soon(self) -> None:
        """Has what changed written within milliseconds, without waiting for it."""
        if self._dirty:
            self.writer.soon()

    async def flush(self) -> None:
        """Returns once every change staged so far is in the database."""
        if self._dirty:
            await self.writer.now()

    def take(self) -> list[dict[str, Any]] | None:
        users, self._dirty = self._dirty, set()
        if not users:
            return None
        now = self.clock()
        rows = []
        for user_id in sorted(users):
            flows = {name: keys for name, keys in self._flows[user_id].items() if keys}
            rows.append(
                {"user_id": user_id, "data": self._data.get(user_id, "{}"),
                 "conversations": json.dumps(flows, sort_keys=True),
                 "last_update": self._seen.get(user_id, (None, now))[0],
                 "updated_at": now}
            )  # fmt: skip
        return rows

    async def write(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
        await table.write(connection, rows)

    def give_back(self, rows: list[dict[str, Any]], error: BaseException) -> None:
        # Written again from what they hold then (changed meanwhile or not).
        self._dirty |= {int(row["user_id"]) for row in rows}
