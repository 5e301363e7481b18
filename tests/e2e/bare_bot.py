"""A bare discord.py bot for `make bench`: the same slash commands as the advisor (/ask, /step, /next,
/topics), each answered with a fixed text and nothing else. The anchor for the advisor's own cost.

    python -m tests.e2e.bare_bot API_BASE GATEWAY_URL      (DISCORD_TOKEN and DEV_GUILD_ID from the environment)
"""

from __future__ import annotations

import os
import sys

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from tests.e2e.run_bot_against import record_gc_pauses

ANSWER = "A fixed answer of about the length of a short reply, with **some** markdown in it. " * 4


class Bare(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="ask", description="Ask")
        async def ask(interaction: discord.Interaction, question: str) -> None:
            await interaction.response.send_message(ANSWER)

        @self.tree.command(name="step", description="A step")
        async def step(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(ANSWER)

        @self.tree.command(name="next", description="Next")
        async def next_(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(ANSWER)

        @self.tree.command(name="topics", description="Topics")
        async def topics(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(ANSWER)

    async def setup_hook(self) -> None:
        guild = discord.Object(id=int(os.environ["DEV_GUILD_ID"]))
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)


if __name__ == "__main__":
    discord.http.Route.BASE = sys.argv[1]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
    record_gc_pauses()
    Bare().run(os.environ["DISCORD_TOKEN"], log_handler=None)
