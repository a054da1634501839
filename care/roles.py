"""Roles, what each may do, and the area tree rules. Pure: no Telegram, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from care.text import visible


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    DIRECTOR = "director"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Level(IntEnum):
    """Depth in the area tree: county (县/区) > town (镇/街道) > village (村/社区)."""

    COUNTY = 1
    TOWN = 2
    VILLAGE = 3


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"


INVITING_ROLES = (Role.SUPERVISOR, Role.ADMIN)
MAX_NAME_LENGTH = 40


def invitable_roles(inviter: Role) -> list[Role]:
    """Roles an inviter may hand out: none above their own."""
    if inviter not in INVITING_ROLES:
        return []
    return [role for role in Role if role.rank <= inviter.rank]


def role_fits_level(role: Role, level: Level) -> bool:
    """A children's director works for one village; other roles may sit at any level."""
    return level == Level.VILLAGE if role == Role.DIRECTOR else True


def can_manage(actor: Role, target: Role) -> bool:
    """Deactivating someone needs a higher role; admins may manage other admins."""
    return actor == Role.ADMIN or (actor in INVITING_ROLES and actor.rank > target.rank)


class AreaPathError(ValueError):
    """The area path is empty, has an empty part, or is deeper than village."""


def split_area_path(path: str) -> list[str]:
    """`示范县/城关镇/东村` → ["示范县", "城关镇", "东村"]; accepts ／ and spaces."""
    parts = [part.strip() for part in path.replace("／", "/").strip().strip("/").split("/")]
    if not parts or any(not part for part in parts) or len(parts) > len(Level):
        raise AreaPathError(path)
    if any(len(part) > MAX_NAME_LENGTH for part in parts):
        raise AreaPathError(path)
    return parts


def town_of(path: str) -> str:
    """The town (镇/街道) of an area path: `示范县/城关镇/东村` → `示范县/城关镇`."""
    return "/".join(path.split("/")[: Level.TOWN])


def within(path: str, ancestor: str) -> bool:
    """Is the area at `path` the area `ancestor` or below it?"""
    return path == ancestor or path.startswith(ancestor + "/")


@dataclass(frozen=True)
class Viewer:
    """The registered, active person behind an update: whose rights every action is checked on."""

    person_id: int
    tg_user_id: int
    name: str
    role: Role
    area_id: int
    area_path: str
    locale: str | None

    def at_least(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def sees(self, area_path: str) -> bool:
        return within(area_path, self.area_path)


def clean_name(text: str) -> str | None:
    """A person's display name: trimmed, single-spaced, printable, 1–40 characters."""
    name = " ".join(visible(text).split())
    if not name or len(name) > MAX_NAME_LENGTH or name.startswith("/"):
        return None
    if any(not ch.isprintable() for ch in name):
        return None
    return name
