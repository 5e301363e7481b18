"""/sync for the bot's owner: push the slash commands to this server or everywhere, on demand."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.app import AdvisorBot


async def _owner_only(interaction: discord.Interaction) -> bool:
    if not await interaction.client.is_owner(interaction.user):  # type: ignore[attr-defined]
        raise app_commands.CheckFailure("Only the bot's owner can sync commands.")
    return True


class Owner(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    @app_commands.command(name="sync", description="Owner: register the slash commands here or globally")
    @app_commands.describe(scope="here: this server, now; global: every server (can take an hour)")
    @app_commands.default_permissions(administrator=True)
    @app_commands.check(_owner_only)
    async def sync(self, interaction: discord.Interaction, scope: Literal["here", "global"] = "here") -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope == "here":
            if interaction.guild is None:
                raise app_commands.NoPrivateMessage
            self.bot.tree.copy_global_to(guild=interaction.guild)
            synced = await self.bot.tree.sync(guild=interaction.guild)
        else:
            synced = await self.bot.tree.sync()
        await interaction.followup.send(f"Synced {len(synced)} commands ({scope}).", ephemeral=True)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Owner(bot))
