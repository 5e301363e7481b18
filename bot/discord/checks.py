"""Who may manage the knowledge: checked on the server side, hinted to Discord as well.

`moderators_only` puts both on a command or a command group at once: Discord's `default_permissions`
(Manage Server), which only hides the command by default and can be changed by any admin, and the
runtime check, which the bot enforces whatever a server's integration settings say: Manage Server, or
the role named in MODERATOR_ROLE (by name or id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

T = TypeVar("T")


class NotModerator(app_commands.CheckFailure):
    def __init__(self, role: str | None) -> None:
        needed = f"the {role} role or Manage Server" if role else "the Manage Server permission"
        super().__init__(f"Only moderators can do that: it needs {needed}.")


def is_moderator(member: discord.abc.User, role: str | None) -> bool:
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    if role:
        return any(r.name == role or str(r.id) == role for r in member.roles)
    return False


def check_moderator(interaction: discord.Interaction) -> bool:
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage
    role = interaction.client.settings.moderator_role  # type: ignore[attr-defined]
    if not is_moderator(interaction.user, role):
        raise NotModerator(role)
    return True


def moderators_only() -> Callable[[T], T]:
    """For a command: the runtime check plus the Manage Server hint, guild only."""

    def decorate(command: T) -> T:
        command = app_commands.check(check_moderator)(command)  # type: ignore[arg-type]
        command = app_commands.default_permissions(manage_guild=True)(command)  # type: ignore[arg-type]
        return app_commands.guild_only()(command)  # type: ignore[return-value]

    return decorate


class ModeratorGroup(app_commands.Group):
    """For a group (like /kb): the same check on every subcommand, the same hint on the group."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(default_permissions=discord.Permissions(manage_guild=True), guild_only=True, **kwargs)  # type: ignore[arg-type]

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return check_moderator(interaction)
