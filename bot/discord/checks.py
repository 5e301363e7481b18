"""Who may do what: checked by the bot itself on every interaction, hinted to Discord as well.

`moderators_only` / `ModeratorGroup` put both on a command or a group at once: Discord's
`default_permissions` (Manage Server), which only hides the command by default and can be changed by any
admin, and the runtime check, which the bot enforces whatever a server's integration settings say:
the member is in the server the command runs in, and has Manage Server or the moderator role, compared by
id, never by name (anyone who may create a role could copy a name). The role comes from the server's
own setting (/config), else MODERATOR_ROLE_ID.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from bot.core.ratelimit import AUTOCOMPLETE, FREE, QUESTION

T = TypeVar("T")


class Refused(app_commands.CheckFailure):
    """A check that failed with a message for the member (the error handler shows it as it is)."""


class TooManyQuestions(Refused):
    """One rate bucket per member for every way of asking (see RateLimiter)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Easy there: you can ask again in {retry_after:.0f} s.")
        self.retry_after = retry_after


def rate_limit(interaction: discord.Interaction) -> bool:
    """A question's cost from the member's allowance; small talk typed into /ask ("thanks!") is free."""
    client = interaction.client
    question = getattr(interaction.namespace, "question", None)
    free = isinstance(question, str) and client.advisor.is_small_talk(question)  # type: ignore[attr-defined]
    wait = client.rate_limited(interaction.guild_id, interaction.user.id, FREE if free else QUESTION)  # type: ignore[attr-defined]
    if wait:
        raise TooManyQuestions(wait)
    return True


def autocomplete_allowed(interaction: discord.Interaction) -> bool:
    """Typing in an autocomplete costs a small part of a question: a member over their allowance gets no
    suggestions until it refills, and nobody can keep the bot matching for others."""
    return not interaction.client.rate_limited(interaction.guild_id, interaction.user.id, AUTOCOMPLETE)  # type: ignore[attr-defined]


class NotModerator(Refused):
    def __init__(self, has_role: bool) -> None:
        needed = "the server's moderator role or the Manage Server permission" if has_role else "the Manage Server permission"
        super().__init__(f"Only moderators can do that: it needs {needed}.")


class NotAdmin(Refused):
    def __init__(self) -> None:
        super().__init__("Only the server's admins can do that: it needs the Manage Server permission.")


def _member_here(interaction: discord.Interaction) -> discord.Member:
    """The member who used the command, as a member of the server it runs in (never a DM, never a user
    whose membership Discord didn't send)."""
    guild_id = interaction.guild_id
    member = interaction.user
    if guild_id is None:
        raise app_commands.NoPrivateMessage
    if not isinstance(member, discord.Member) or member.guild.id != guild_id:
        raise NotModerator(False)
    return member


def is_moderator(member: discord.Member, role_id: int | None) -> bool:
    if member.guild_permissions.manage_guild:
        return True
    return role_id is not None and any(r.id == role_id for r in member.roles)


def moderator_role(interaction: discord.Interaction) -> int | None:
    """This server's moderator role id: its own setting, else MODERATOR_ROLE_ID."""
    return interaction.client.server_config(interaction.guild_id).moderator_role_id  # type: ignore[attr-defined]


def check_moderator(interaction: discord.Interaction) -> bool:
    member = _member_here(interaction)
    role_id = moderator_role(interaction)
    if not is_moderator(member, role_id):
        raise NotModerator(role_id is not None)
    return True


def check_admin(interaction: discord.Interaction) -> bool:
    member = _member_here(interaction)
    if not member.guild_permissions.manage_guild:
        raise NotAdmin
    return True


def moderators_only() -> Callable[[T], T]:
    """For a command: the runtime check plus the Manage Server hint, server only."""

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


class AdminGroup(app_commands.Group):
    """For /config: Manage Server, checked by the bot on every subcommand."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(default_permissions=discord.Permissions(manage_guild=True), guild_only=True, **kwargs)  # type: ignore[arg-type]

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return check_admin(interaction)
