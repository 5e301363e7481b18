"""The one place an error becomes a sentence for the member and a line in the log.

Slash commands (the tree's handler in app.py), buttons, selects and modals all answer through here:
ephemerally, whether or not the interaction was already acknowledged, never with a traceback or a payload.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.core.storage import StorageError
from bot.discord.checks import Refused
from bot.discord.mentions import NO_MENTIONS

log = logging.getLogger("mle_advisor")
T = TypeVar("T")

AUTOCOMPLETE_WAIT = 1.5
"""Seconds an autocomplete waits for the database before suggesting without it: Discord drops an
autocomplete that isn't answered within 3 s, and another program may hold the database for longer."""


async def or_default(read: Awaitable[T], default: T, within: float = AUTOCOMPLETE_WAIT) -> T:
    """A database read for an autocomplete: its result, or `default` when the database is slow or failing."""
    try:
        return await asyncio.wait_for(read, within)
    except (TimeoutError, StorageError) as exc:
        log.warning("autocomplete without the database: %s", exc or "it did not answer in time")
        return default


def command_name(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return interaction.command.qualified_name
    data: Any = interaction.data or {}
    return str(data.get("name") or data.get("custom_id") or "?") if isinstance(data, dict) else "?"


def explain(interaction: discord.Interaction, error: BaseException) -> str:
    """What to tell the member; logs what the host needs to know, in one line."""
    original = getattr(error, "original", error)
    where = command_name(interaction)
    if isinstance(error, (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)):
        log.warning("a member used /%s, which this version doesn't have (commands need a sync)",
                    getattr(error, "name", None) or where)
        return "This command is gone (I was upgraded). Try `/help` for what I can do now."
    if isinstance(error, Refused):
        return str(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "That command only works in a server, not in DMs."
    if isinstance(error, app_commands.CheckFailure):
        return "You're not allowed to use that here."
    if isinstance(original, StorageError):
        log.error("database problem in %s: %s", where, original, extra={"alert": "storage"})
        return "I can't reach my database right now, so nothing was saved. Please try again later."
    first = str(original).splitlines()[0][:200] if str(original) else ""
    log.error("error in %s (user %s): %s: %s", where, interaction.user.id, type(original).__name__, first,
              exc_info=(type(original), original, original.__traceback__) if log.isEnabledFor(logging.DEBUG) else None)
    return "Something went wrong on my side; it's been logged. Please try again in a moment."


async def tell(interaction: discord.Interaction, text: str) -> None:
    """Tell the member something only they see, whether or not the interaction was answered already."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:  # the interaction may have expired: nothing more we can do
        log.warning("could not answer an interaction: HTTP %s", exc.status)


async def answer(interaction: discord.Interaction, error: BaseException) -> None:
    await tell(interaction, explain(interaction, error))


class SafeView(discord.ui.View):
    """A view whose failures are answered like a slash command's."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item) -> None:
        await answer(interaction, error)


class SafeModal(discord.ui.Modal):
    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await answer(interaction, error)
