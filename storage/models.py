"""SQLModel tables. Schema changes go through Alembic (storage/migrations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Area(SQLModel, table=True):
    """A node of the area tree; `path` is the whole way down, e.g. 示范县/城关镇/东村."""

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="area.id", index=True)
    name: str = Field(max_length=40)
    level: int
    path: str = Field(max_length=200, unique=True)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tg_user_id: int = Field(sa_column=Column(BigInteger(), unique=True, nullable=False))
    name: str = Field(max_length=40)
    role: str = Field(max_length=16)
    area_id: int = Field(foreign_key="area.id", index=True)
    gender: str = Field(max_length=8)
    locale: str | None = Field(default=None, max_length=8)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    area_id: int = Field(foreign_key="area.id")
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    used_by: int | None = Field(default=None, foreign_key="person.id")


class AuditLog(SQLModel, table=True):
    """Who viewed, changed or exported what. `subject` names a row (`person:12`), never data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    actor_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    action: str = Field(max_length=40)
    subject: str = Field(max_length=60)
    detail: str = Field(default="", max_length=500)
