"""Which commands each role has: the `/help` text and the per-chat command menu."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from care.roles import Role
from handlers import labels
from locales import Translator
from locales import _ as mark

# (command, description key); a role has its own commands and those of the roles below it.
COMMANDS: dict[Role, list[tuple[str, str]]] = {
    Role.VOLUNTEER: [
        ("urgent", mark("cmd.urgent")),
        ("report", mark("cmd.report")),
        ("checkin", mark("cmd.checkin")),
        ("mychildren", mark("cmd.mychildren")),
        ("help", mark("cmd.help")),
        ("language", mark("cmd.language")),
        ("cancel", mark("cmd.cancel")),
        ("child", mark("cmd.child")),
    ],
    Role.DIRECTOR: [
        ("cases", mark("cmd.cases")),
        ("overdue", mark("cmd.overdue")),
        ("children", mark("cmd.children")),
        ("addchild", mark("cmd.addchild")),
    ],
    Role.SUPERVISOR: [
        ("invite", mark("cmd.invite")),
        ("people", mark("cmd.people")),
        ("export", mark("cmd.export")),
        ("pair", mark("cmd.pair")),
        ("unpair", mark("cmd.unpair")),
        ("unpaired", mark("cmd.unpaired")),
    ],
    Role.ADMIN: [],
}
GUEST_COMMANDS = [("start", mark("cmd.start")), ("help", mark("cmd.help"))]


def commands_for(role: Role) -> list[tuple[str, str]]:
    return [c for r in Role if r.rank <= role.rank for c in COMMANDS[r]]


def help_text(role: Role | None, t: Translator) -> str:
    if role is None:
        return t("help.guest")
    lines = [t("help.title", role=t(labels.ROLE[role]))]
    lines += [f"/{command} — {t(key)}" for command, key in commands_for(role)]
    if role.rank >= Role.SUPERVISOR.rank:
        lines += ["", t("help.import_hint")]
    return "\n".join(lines)


async def set_menu(bot: Bot, *, chat_id: int, role: Role | None, t: Translator) -> None:
    """The menu button shows exactly the commands of the person's role, in their language."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if role is None:
            await bot.delete_my_commands(scope=scope)
            return
        commands = [BotCommand(c, t(key)) for c, key in commands_for(role)]
        await bot.set_my_commands(commands, scope=scope)
    except TelegramError:
        # A menu is a convenience: /help still works, so a failure here must not stop the flow.
        return


async def set_default_menu(bot: Bot, t: Translator) -> None:
    commands = [BotCommand(c, t(key)) for c, key in GUEST_COMMANDS]
    await bot.set_my_commands(commands, scope=BotCommandScopeDefault())
