"""One Settings object, read from the environment and a `.env` file (pydantic-settings)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

from care.cases import Ladder
from care.children import DEFAULT_VISIT_INTERVALS, Colour
from care.reminders import CareDate
from care.uploads import MB, SheetLimits
from care.visits import YEARLY_MINIMUM, VisitRule
from locales import LOCALES

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/care.db"
_LIMITS = SheetLimits()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, description="from @BotFather; `run` only")
    bot_username: str | None = Field(
        default=None, description="the bot's @username without @, for invite links from the CLI"
    )
    database_url: str = DEFAULT_DATABASE_URL
    bot_api_base_url: str = "https://api.telegram.org/bot"
    bot_api_file_url: str = "https://api.telegram.org/file/bot"
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    invite_ttl_days: int = Field(default=7, ge=1, le=90)
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    alert_chat_id: int | None = Field(
        default=None, description="group chat that gets the minimum of every urgent alert"
    )
    care_dates: dict[str, list[date]] = Field(
        default_factory=dict,
        description='JSON, e.g. {"winter_holiday": ["2027-01-23"], "term_start": ["2027-02-22"]}',
    )
    # Days between visits per risk colour (JSON; colours left out keep their default) and the
    # visits a child gets at least in a year. Due dates are recomputed on start when these
    # differ from those the stored ones were computed with (service.follow).
    visit_intervals: dict[Colour, int] = Field(
        default_factory=lambda: dict(DEFAULT_VISIT_INTERVALS),
        description='JSON, e.g. {"red": 7, "yellow": 15, "blue": 30, "green": 30}',
    )
    yearly_minimum_visits: int = Field(default=YEARLY_MINIMUM, ge=0, le=366)
    escalate_after_minutes: int = Field(default=10, ge=1)
    alert_chat_after_minutes: int = Field(default=30, ge=1)
    repeat_alert_minutes: int = Field(default=30, ge=1)
    # What a ledger upload may be (care.uploads.SheetLimits, whose defaults these are); a file
    # past one is refused whole. A bot downloads files of 20 MB at most.
    ledger_max_file_mb: float = Field(default=_LIMITS.max_file_bytes / MB, gt=0)
    ledger_max_unpacked_mb: float = Field(default=_LIMITS.max_unpacked_bytes / MB, gt=0)
    ledger_max_rows: int = Field(default=_LIMITS.max_rows, ge=2)
    ledger_max_columns: int = Field(default=_LIMITS.max_columns, ge=7, le=16_384)
    ledger_max_shared_strings_mb: float = Field(default=_LIMITS.max_shared_strings_bytes / MB, gt=0)
    # Webhook mode (`run --webhook`): Telegram posts updates to WEBHOOK_URL, which a reverse
    # proxy forwards to WEBHOOK_LISTEN:WEBHOOK_PORT/WEBHOOK_PATH; every request must carry
    # WEBHOOK_SECRET in Telegram's secret-token header.
    webhook_url: str | None = Field(default=None, description="public https URL of the webhook")
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = "telegram"
    webhook_secret: SecretStr | None = Field(
        default=None, description="1-256 characters of A-Z a-z 0-9 _ -"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="text lines, or one JSON object per line"
    )
    # Operations: a Prometheus endpoint served by `run` when a port is given (off by default).
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = Field(default="127.0.0.1", description="0.0.0.0: reachable from outside")

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        text = value.get_secret_value() if value else None
        if text is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", text):
            raise ValueError("1 to 256 characters of A-Z a-z 0-9 _ - (Telegram's rule)")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("bot_api_base_url", "bot_api_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return value

    @field_validator("care_dates")
    @classmethod
    def _known_care_dates(cls, value: dict[str, list[date]]) -> dict[str, list[date]]:
        unknown = set(value) - {c.value for c in CareDate}
        if unknown:
            raise ValueError(
                f"unknown care dates {sorted(unknown)}; known: {[c.value for c in CareDate]}"
            )
        return value

    @field_validator("visit_intervals")
    @classmethod
    def _interval_days(cls, value: dict[Colour, int]) -> dict[Colour, int]:
        wrong = sorted(colour.value for colour, days in value.items() if not 1 <= days <= 366)
        if wrong:
            raise ValueError(f"days between visits must be 1 to 366 (not so for {wrong})")
        return {**DEFAULT_VISIT_INTERVALS, **value}

    @field_validator("bot_username")
    @classmethod
    def _strip_at(cls, value: str | None) -> str | None:
        return value.lstrip("@") or None if value else None

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def configured_care_dates(self) -> dict[CareDate, list[date]]:
        return {CareDate(name): days for name, days in self.care_dates.items()}

    @cached_property
    def sheet_limits(self) -> SheetLimits:
        return SheetLimits(
            max_file_bytes=int(self.ledger_max_file_mb * MB),
            max_unpacked_bytes=int(self.ledger_max_unpacked_mb * MB),
            max_rows=self.ledger_max_rows,
            max_columns=self.ledger_max_columns,
            max_shared_strings_bytes=int(self.ledger_max_shared_strings_mb * MB),
        )

    @cached_property
    def visit_rule(self) -> VisitRule:
        return VisitRule(self.visit_intervals, self.yearly_minimum_visits)

    @cached_property
    def ladder(self) -> Ladder:
        return Ladder(
            higher_after=timedelta(minutes=self.escalate_after_minutes),
            alert_chat_after=timedelta(minutes=self.alert_chat_after_minutes),
            repeat_every=timedelta(minutes=self.repeat_alert_minutes),
        )


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


def load_settings(**overrides: Any) -> Settings:  # any value: pydantic validates each
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{name}: {first['msg']}") from None
    except PydanticSettingsError as exc:  # e.g. VISIT_INTERVALS or CARE_DATES not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1).upper() if field else "settings"
        raise SettingsError(f"{name}: not valid JSON") from None
