"""/forget-me: after a confirm button, every stored trace of the member is deleted."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import render
from bot.discord.app import AdvisorBot
from bot.discord.views import ConfirmForget


class Privacy(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    @app_commands.command(name="forget-me", description="Erase everything I remember about you")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "This erases your background, your progress, the questions you asked and your 👍/👎, everywhere. Sure?",
            view=ConfirmForget.prompt(interaction.user.id),
            ephemeral=True,
            allowed_mentions=render.NO_MENTIONS,
        )


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Privacy(bot))
