"""The fake Telegram over HTTP, for `python bot.py run` with BOT_API_BASE_URL pointing here:
the bot's real HTTP client, polling and all, talks to it as it would to api.telegram.org.
Loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.telegram import ApiError, FakeTelegram, NoAnswer

MAX_BODY = 20 * 1024 * 1024
HOLD = 120.0  # seconds a call without an answer keeps its connection, if the client waits


def _value(raw: str) -> Any:
    """Form fields carry nested objects (reply_markup, scope…) as JSON strings."""
    if raw[:1] in "{[":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            assert isinstance(payload, bytes)  # decode=True: a form field's bytes (or None)
            file_name = part.get_filename()
            if file_name is not None:
                params[str(name)] = {"file_name": file_name, "content": payload}
            else:
                params[str(name)] = _value(payload.decode())
        return params
    return {k: _value(v) for k, v in parse_qsl(body.decode(), keep_blank_values=True)}


class BotApiServer:
    """`async with BotApiServer(telegram) as server:` serves http://127.0.0.1:<port>/bot<token>."""

    def __init__(
        self,
        telegram: FakeTelegram,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
    ) -> None:
        self.telegram, self.host, self.port = telegram, host, port
        self.token = token  # when given, another token is refused as Telegram refuses it
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def __aenter__(self) -> BotApiServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:  # long polls in flight
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                _method, target, _version = request_line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = line.decode().partition(":")
                    headers[key.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length > MAX_BODY:
                    break
                body = await reader.readexactly(length) if length else b""
                try:
                    status, answer = await self._answer(target, headers, body)
                except NoAnswer:
                    # Too late: the connection stays silent until the client gives up on it
                    # (its read time out) and closes it, which it sees as a time out.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reader.read(), HOLD)
                    break
                payload = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            # the server closing (a long poll in flight): end quietly, as asyncio's stream
            # callback of Python 3.11 reports a cancelled handler as an error
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    def _file(self, target: str) -> tuple[int, bytes, str]:
        try:
            return 200, self.telegram.download(urlsplit(target).path), "application/octet-stream"
        except ApiError as exc:
            return exc.status, json.dumps(exc.body()).encode(), "application/json"

    async def _answer(
        self, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        path = urlsplit(target).path
        method = path.rsplit("/", 1)[-1]
        if not path.startswith("/bot") or "/" not in path[4:]:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if self.token is not None and path[4:].split("/", 1)[0] != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        try:
            params = parse_body(headers.get("content-type", ""), body)
            result = await self.telegram.call(method, params)
        except ApiError as exc:
            return exc.status, exc.body()
        return 200, {"ok": True, "result": result}
