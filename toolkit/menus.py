"""What each role sees: the `/help` text and the per-chat command menu, both derived from the
declared commands (toolkit.commands). The main menu is toolkit.main_menu."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from care.roles import Role
from locales import Translator, labels
from toolkit.commands import menu_for


def help_text(role: Role | None, t: Translator) -> str:
    if role is None:
        return t("help.guest")
    lines = [t("help.title", role=t(labels.ROLE[role]))]
    lines += [f"/{c.name} — {t(c.label)}" for c in menu_for(role)]
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
        commands = [BotCommand(c.name, t(c.label)) for c in menu_for(role)]
        await bot.set_my_commands(commands, scope=scope)
    except TelegramError:
        # A menu is a convenience: /help still works, so a failure here must not stop the flow.
        return


async def set_default_menu(bot: Bot, t: Translator) -> None:
    commands = [BotCommand(c.name, t(c.label)) for c in menu_for(None)]
    await bot.set_my_commands(commands, scope=BotCommandScopeDefault())
