"""A fake Telegram: the Bot API side of every chat, in memory.

It answers the Bot API methods the bot uses, keeps each chat's messages (so edits and button
presses work on what the person actually sees), and keeps updates for `getUpdates` as Telegram
does: pending until a call with a higher `offset` confirms them, so a bot killed after fetching
gets them again. It can fail as Telegram fails: per chat or method (`faults`,
`method_faults`), or for a while (`outage`: 5xx, flood waits, answers that come too late).
The tests, `bot.py simulate` and the benchmarks reach it in-process (sandbox.request.FakeRequest);
a bot started with `run` reaches it over HTTP (sandbox.server).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

BOT_ID = 7000000001
BOT_USERNAME = "CarePairingBot"
JSON = dict[str, Any]


@dataclass
class Sent:
    """A message the bot sent, as the chat shows it now (edits applied)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: JSON | None = None
    document: JSON | None = None
    edits: int = 0
    deleted: bool = False
    protected: bool = False  # not to be forwarded or saved (protect_content)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass(frozen=True)
class Shown:
    """A text a chat showed: a message sent, or a message's new text after an edit."""

    chat_id: int
    message_id: int
    text: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class ApiCall:
    method: str
    params: JSON
    at: float = field(default_factory=time.monotonic)


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> JSON:
        """The error as the Bot API answers it."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class NoAnswer(Exception):
    """The call gets no answer in time: the client times out. `applied`: Telegram did it
    anyway (the message is in the chat), or dropped it before doing anything."""

    def __init__(self, applied: bool) -> None:
        super().__init__("no answer" + (" (applied)" if applied else ""))
        self.applied = applied


class Fault(StrEnum):
    """How Telegram fails during an outage."""

    BAD_GATEWAY = "502"  # an error status, nothing done
    FLOOD = "429"  # Too Many Requests with retry_after, nothing done
    LATE = "late"  # done, but answered too late: the client times out
    LOST = "lost"  # dropped before doing anything, never answered: the client times out


# The methods that change a chat: an outage without `methods` fails these.
CHANGING = ("send", "edit", "answer", "delete", "copy", "forward")


@dataclass
class Outage:
    fault: Fault
    until: float  # time.monotonic()
    methods: frozenset[str] | None = None  # None: every method that changes a chat
    retry_after: int = 1  # seconds, for a flood wait

    def covers(self, method: str, now: float) -> bool:
        if now >= self.until:
            return False
        return method in self.methods if self.methods is not None else method.startswith(CHANGING)


class FakeTelegram:
    # Update ids only grow, for a bot, whatever happens to it: every fake of one process (a
    # test's bot and the "restarted" one that follows it) draws from the same sequence.
    _update_ids = itertools.count(1)

    def __init__(self, *, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self.bot = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Care Pairing",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[ApiCall] = []
        self.unknown: list[ApiCall] = []
        self.chats: dict[int, list[Sent]] = defaultdict(list)
        # every message sent or edited, in order: what one update changed, without reading
        # whole chats (they grow long in the benchmarks)
        self.changes: list[Sent] = []
        # every text a chat showed, in order: each message sent and each edit of a text
        # (`changes` holds the messages as they are now)
        self.shown: list[Shown] = []
        self._by_id: dict[tuple[int, int], Sent] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        # Updates not yet confirmed by a getUpdates whose offset is above their id, oldest first
        self.pending: list[JSON] = []
        self.handed_out: dict[int, int] = defaultdict(int)  # update id -> times returned
        self._arrival = asyncio.Event()
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile and downloads
        # failures to play, per chat: the next send to that chat raises the first one queued
        self.faults: dict[int, list[Exception]] = defaultdict(list)
        # failures to play per Bot API method, whatever the chat (e.g. answerCallbackQuery)
        self.method_faults: dict[str, list[Exception]] = defaultdict(list)
        self.blocked: set[int] = set()  # people who blocked the bot
        # Telegram failing for a while (`outage`), and each call that failed so
        self.outages: list[Outage] = []
        self.failed: list[tuple[ApiCall, Fault]] = []
        # Told of every call before it is done (False) and after (True); raising NoAnswer
        # before drops it (the tests kill the bot's process here, at a chosen moment).
        self.on_call: Callable[[ApiCall, bool], None] | None = None
        # Telegram's limits, when enforced: 30 messages in any second, one a second per chat,
        # 20 a minute per group
        self.enforce_limits = False
        self.floods = 0
        self.on_send: Callable[[int], object] | None = None  # told of each message sent
        self._sends: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = defaultdict(deque)  # 20 a minute each
        # what people sent, per chat (message id -> update content), until deleted
        self.from_people: dict[int, dict[int, JSON]] = defaultdict(dict)
        self._message_ids = itertools.count(1000)
        self.webhook: JSON = {}  # what setWebhook was given (its secret included)

    # -- the Telegram side: what people do ---------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def push(self, update: JSON) -> None:
        """An update for the bot: pending until a getUpdates confirms it."""
        self.pending.append(update)
        self._arrival.set()
        self._arrival = asyncio.Event()

    def outage(
        self,
        fault: Fault,
        seconds: float,
        *,
        methods: Sequence[str] | None = None,
        retry_after: int = 1,
    ) -> Outage:
        """From now on, for `seconds`, `methods` (default: every method that changes a chat)
        fail as `fault` says."""
        outage = Outage(
            fault,
            time.monotonic() + seconds,
            frozenset(methods) if methods is not None else None,
            retry_after,
        )
        self.outages.append(outage)
        return outage

    def _outage(self, method: str) -> Outage | None:
        now = time.monotonic()
        return next((o for o in reversed(self.outages) if o.covers(method, now)), None)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def message(self, chat_id: int, message_id: int) -> Sent | None:
        found = self._by_id.get((chat_id, message_id))
        if found is not None:
            return found
        # a chat handed over from another fake (a restart in the tests)
        return next((m for m in self.chats[chat_id] if m.message_id == message_id), None)

    # -- the Bot API side: what the bot does -------------------------------------------------

    async def call(self, method: str, params: JSON) -> Any:
        """Answers one Bot API call; raises ApiError as Telegram would answer an error, and
        NoAnswer for a call that is never answered in time."""
        call = ApiCall(method, params)
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call, False)
        outage = self._outage(method)
        if outage is not None and outage.fault != Fault.LATE:
            self.failed.append((call, outage.fault))
            if outage.fault == Fault.BAD_GATEWAY:
                raise ApiError(502, "Bad Gateway")
            if outage.fault == Fault.FLOOD:
                wait = outage.retry_after
                raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
            raise NoAnswer(applied=False)
        result = await self._apply(call)
        if self.on_call is not None:
            self.on_call(call, True)
        if outage is not None:  # LATE: done, and the answer never arrives in time
            self.failed.append((call, outage.fault))
            raise NoAnswer(applied=True)
        return result

    async def _apply(self, call: ApiCall) -> Any:
        method, params = call.method, call.params
        if self.method_faults[method]:
            raise self.method_faults[method].pop(0)
        if method.startswith("send") and "chat_id" in params:
            chat_id = int(params["chat_id"])
            if chat_id in self.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if self.faults[chat_id]:
                raise self.faults[chat_id].pop(0)
            if self.enforce_limits:
                self._check_limits(chat_id)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self.unknown.append(call)
            raise ApiError(404, f"Not Found: method {method} is not in the fake")
        return await handler(params)

    def upload(self, file_id: str, content: bytes) -> None:
        """A file a person sent; the bot can getFile and download it."""
        self.files[file_id] = content

    def download(self, file_path: str) -> bytes:
        """The content behind a `file_path` that getFile returned (documents/<file_id>)."""
        file_id = file_path.rsplit("/", 1)[-1]
        if file_id not in self.files:
            raise ApiError(404, "Not Found: file")
        return self.files[file_id]

    async def _api_getFile(self, p: JSON) -> JSON:
        file_id = str(p["file_id"])
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}",
        }

    def _check_limits(self, chat_id: int) -> None:
        now = time.monotonic()
        while self._sends and now - self._sends[0] >= 1.0:
            self._sends.popleft()
        too_fast = now - self._chat_last.get(chat_id, -10.0) < 1.0
        group = self._group_sends[chat_id] if chat_id < 0 else None
        while group and now - group[0] >= 60.0:
            group.popleft()
        if len(self._sends) >= 30 or too_fast or (group is not None and len(group) >= 20):
            self.floods += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._sends.append(now)
        self._chat_last[chat_id] = now
        if self.on_send is not None:
            self.on_send(chat_id)
        if group is not None:
            group.append(now)

    async def _api_getMe(self, _p: JSON) -> JSON:
        return self.bot

    async def _api_deleteWebhook(self, _p: JSON) -> bool:
        self.webhook = {}
        return True

    async def _api_setWebhook(self, p: JSON) -> bool:
        self.webhook = {k: v for k, v in p.items() if k != "certificate"}
        return True

    async def _api_getWebhookInfo(self, _p: JSON) -> JSON:
        url = str(self.webhook.get("url", ""))
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_getUpdates(self, p: JSON) -> list[JSON]:
        """As Telegram: an offset confirms (forgets) every update below it; a negative one
        keeps the last -offset updates. Returns the pending updates from the offset on, up to
        `limit`, waiting up to `timeout` seconds for at least one. An update stays pending,
        and is returned again, until confirmed."""
        timeout = float(p.get("timeout") or 0)
        offset = int(p.get("offset") or 0)
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        if offset < 0:
            self.pending = self.pending[offset:]
        elif offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            arrival = self._arrival
            batch = [u for u in self.pending if u["update_id"] >= offset][:limit]
            left = deadline - time.monotonic()
            if batch or left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrival.wait(), left)
        for update in batch:
            self.handed_out[update["update_id"]] += 1
        return batch

    def _chat(self, chat_id: int) -> JSON:
        kind = "private" if chat_id > 0 else "group"
        return {"id": chat_id, "type": kind}

    def _store(self, chat_id: int, sent: Sent) -> JSON:
        self.chats[chat_id].append(sent)
        self._by_id[chat_id, sent.message_id] = sent
        self.changes.append(sent)
        self.shown.append(Shown(chat_id, sent.message_id, sent.text))
        result: JSON = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.bot,
            "text": sent.text,
        }
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            result["reply_markup"] = sent.reply_markup  # Telegram echoes inline keyboards only
        if sent.document:
            result.pop("text")
            result["document"] = {k: v for k, v in sent.document.items() if k != "content"}
            result["caption"] = sent.text
        return result

    async def _api_sendMessage(self, p: JSON) -> JSON:
        text = str(p.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        chat_id = int(p["chat_id"])
        sent = Sent(chat_id, self.next_message_id(), text, p.get("reply_markup"))
        sent.protected = p.get("protect_content") in (True, "true", "True")
        return self._store(chat_id, sent)

    async def _api_sendDocument(self, p: JSON) -> JSON:
        chat_id = int(p["chat_id"])
        doc = p.get("document") or {}
        caption = str(p.get("caption", ""))
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        document = {
            "file_id": f"doc{self.next_message_id()}",
            "file_unique_id": "u",
            "file_name": doc.get("file_name", "file"),
            "file_size": len(doc.get("content", b"")),
        }
        sent = Sent(chat_id, self.next_message_id(), caption, p.get("reply_markup"), document)
        sent.protected = p.get("protect_content") in (True, "true", "True")
        sent.document = {**document, "content": doc.get("content", b"")}
        return self._store(chat_id, sent)

    def _edited(self, p: JSON) -> Sent:
        chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
        sent = self.message(chat_id, message_id)
        if sent is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return sent

    async def _api_editMessageText(self, p: JSON) -> JSON:
        sent = self._edited(p)
        text, markup = str(p.get("text", "")), p.get("reply_markup")
        if text == sent.text and markup == sent.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        if text != sent.text:
            self.shown.append(Shown(sent.chat_id, sent.message_id, text))
        sent.text, sent.reply_markup, sent.edits = text, markup, sent.edits + 1
        self.changes.append(sent)
        return {**self._plain(sent)}

    async def _api_editMessageReplyMarkup(self, p: JSON) -> JSON:
        sent = self._edited(p)
        sent.reply_markup, sent.edits = p.get("reply_markup"), sent.edits + 1
        self.changes.append(sent)
        return {**self._plain(sent)}

    def _plain(self, sent: Sent) -> JSON:
        result: JSON = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self._chat(sent.chat_id),
            "from": self.bot,
            "text": sent.text,
        }
        if sent.reply_markup:
            result["reply_markup"] = sent.reply_markup
        return result

    async def _api_deleteMessage(self, p: JSON) -> bool:
        return await self._api_deleteMessages({**p, "message_ids": [p["message_id"]]})

    async def _api_deleteMessages(self, p: JSON) -> bool:
        chat_id, ids = int(p["chat_id"]), {int(i) for i in p["message_ids"]}
        for sent in self.chats[chat_id]:
            sent.deleted = sent.deleted or sent.message_id in ids
        self.chats[chat_id] = [m for m in self.chats[chat_id] if not m.deleted]
        for message_id in ids:
            self.from_people[chat_id].pop(message_id, None)
            self._by_id.pop((chat_id, message_id), None)
        return True

    async def _api_answerCallbackQuery(self, _p: JSON) -> bool:
        return True

    async def _api_sendChatAction(self, _p: JSON) -> bool:
        return True

    @staticmethod
    def _scope_key(p: JSON) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        where = f"{scope['type']}:{scope.get('chat_id', '')}"
        return where, str(p.get("language_code") or "")

    async def _api_setMyCommands(self, p: JSON) -> bool:
        self.commands[self._scope_key(p)] = list(p.get("commands") or [])
        return True

    async def _api_deleteMyCommands(self, p: JSON) -> bool:
        self.commands.pop(self._scope_key(p), None)
        return True

    def chat_commands(self, chat_id: int) -> list[str]:
        """The command menu a private chat shows (its own scope, else the default)."""
        own = self.commands.get((f"chat:{chat_id}", ""))
        chosen = own if own is not None else self.commands.get(("default:", ""), [])
        return [c["command"] for c in chosen]
