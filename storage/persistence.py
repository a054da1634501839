"""A python-telegram-bot persistence on our database: conversation states and per-user data
(the answers of flows in progress), so a flow half done continues after a restart.

PTB hands changes over in `update_persistence`; they are staged here and written in one
transaction by `flush`, which the bot calls after every update (and PTB at shutdown)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Sessions
from storage.models import ConversationState, UserState
from storage.types import utcnow

UserData = dict[str, Any]


def _upsert(session: AsyncSession, table: type, keys: list[str], values: dict[str, Any]) -> Any:
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite  # type: ignore[union-attr]
    statement = dialect.insert(table).values(**values)
    changes = {k: v for k, v in values.items() if k not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changes)


class DbPersistence(BasePersistence[UserData, dict[Any, Any], dict[Any, Any]]):
    def __init__(self, sessions: Sessions, *, clock: Callable[[], Any] = utcnow) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=60,
        )
        self.sessions, self.clock = sessions, clock
        self._users: dict[int, str | None] = {}  # staged: JSON, or None to delete
        self._conversations: dict[tuple[str, str], int | None] = {}
        self._written: dict[int, str] = {}  # what the database holds, to skip unchanged data

    # -- reading, once at start -------------------------------------------------------------

    async def get_user_data(self) -> dict[int, UserData]:
        async with self.sessions() as session:
            rows = (await session.exec(select(UserState))).all()
        self._written = {row.user_id: row.data for row in rows}
        return {row.user_id: json.loads(row.data) for row in rows}

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self.sessions() as session:
            rows = await session.exec(
                select(ConversationState).where(ConversationState.name == name)
            )
            return {tuple(json.loads(row.key)): row.state for row in rows}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    # -- staging changes ---------------------------------------------------------------------

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        encoded = json.dumps(data, ensure_ascii=False, sort_keys=True)
        if self._written.get(user_id) != encoded:
            self._users[user_id] = encoded

    async def drop_user_data(self, user_id: int) -> None:
        self._users[user_id] = None

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        state = new_state if isinstance(new_state, int) else None
        self._conversations[(name, json.dumps(list(key)))] = state

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

    # -- writing -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Writes what was staged, in one transaction; nothing when nothing changed."""
        if not self._users and not self._conversations:
            return
        users, conversations = self._users, self._conversations
        self._users, self._conversations = {}, {}
        now = self.clock()
        async with self.sessions.begin() as session:
            for user_id, data in users.items():
                if data is None:
                    await session.exec(delete(UserState).where(UserState.user_id == user_id))
                else:
                    values = {"user_id": user_id, "data": data, "updated_at": now}
                    await session.exec(_upsert(session, UserState, ["user_id"], values))
            for (name, key), state in conversations.items():
                where = (ConversationState.name == name, ConversationState.key == key)
                if state is None:
                    await session.exec(delete(ConversationState).where(*where))
                else:
                    values = {"name": name, "key": key, "state": state, "updated_at": now}
                    await session.exec(_upsert(session, ConversationState, ["name", "key"], values))
        for user_id, data in users.items():
            if data is None:
                self._written.pop(user_id, None)
            else:
                self._written[user_id] = data
