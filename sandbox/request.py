"""A python-telegram-bot BaseRequest that talks to the in-memory FakeTelegram."""

from __future__ import annotations

import json
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from sandbox.telegram import ApiError, FakeTelegram, NoAnswer


class FakeRequest(BaseRequest):
    def __init__(self, telegram: FakeTelegram) -> None:
        self.telegram = telegram

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if method == "GET":  # a file download: <file url><token>/documents/<file_id>
            try:
                return 200, self.telegram.download(url)
            except ApiError as exc:
                return exc.status, json.dumps(exc.body()).encode()
        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if request_data and request_data.contains_files:
            for name, (file_name, content, _mime) in _files(request_data).items():
                params[name] = {"file_name": file_name, "content": content}
        try:
            result = await self.telegram.call(api_method, params)
        except ApiError as exc:
            return exc.status, json.dumps(exc.body()).encode()
        except NoAnswer as exc:  # what the HTTP client raises when no answer comes in time
            raise TimedOut(f"Timed out ({'applied' if exc.applied else 'dropped'})") from exc
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _files(request_data: RequestData) -> dict[str, tuple[str, bytes, str]]:
    files: dict[str, tuple[str, bytes, str]] = {}
    for name, part in request_data.multipart_data.items():
        file_name, content, mime = part[0], part[1], part[2] if len(part) > 2 else ""
        if hasattr(content, "read"):
            content = content.read()
        files[name] = (str(file_name), bytes(content), str(mime))
    return files
