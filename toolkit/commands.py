"""Commands, each declared once beside its handler: name, the least role that may use it,
its description (a catalog key) and its place in the menu. The guard, the per-role command
menus, `/help` and the registration of the handler are all derived from the declaration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from telegram.ext import CommandHandler

from care.roles import Role
from toolkit.guard import Callback, guarded


@dataclass(frozen=True)
class Command:
    name: str
    role: Role | None  # the least role; None: anyone, registered or not
    label: str  # catalog key of the description in the menu and in /help
    menu: int | None = None  # place in the menu (smaller first); None: not in the menu
    guest: bool = False  # also in the menu of people not registered (/start, /help)

    declared: ClassVar[dict[str, Command]] = {}

    def __post_init__(self) -> None:
        if self.name in Command.declared:
            raise ValueError(f"/{self.name} is declared twice")
        Command.declared[self.name] = self

    def handler(self, callback: Callback) -> CommandHandler[Any, Any]:
        """The command's handler: people below its role are refused before `callback` runs."""
        return CommandHandler(self.name, self.guard(callback))

    def guard(self, callback: Callback) -> Callback:
        """The same check for the buttons and steps that belong to this command."""
        return guarded(self.role)(callback) if self.role is not None else callback


def menu_for(role: Role | None) -> list[Command]:
    """The commands in the menu and /help of a role (its own and those of the roles below),
    or of someone not registered (role None)."""
    if role is None:
        shown = [c for c in Command.declared.values() if c.guest]
    else:
        shown = [
            c
            for c in Command.declared.values()
            if c.menu is not None and (c.role is None or c.role.rank <= role.rank)
        ]
    return sorted(shown, key=_menu_place)


def _menu_place(command: Command) -> tuple[int, int]:
    rank = command.role.rank if command.role is not None else Role.VOLUNTEER.rank
    return rank, command.menu or 0
