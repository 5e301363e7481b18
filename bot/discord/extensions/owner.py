"""For the bot's owner (the application's owner in the Developer Portal, checked by the bot): /sync to
push the slash commands here or everywhere, /status to see how the running bot is doing."""

from __future__ import annotations

import time
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.format import code_lines
from bot.core.reply import Reply
from bot.discord import render
from bot.discord.app import AdvisorBot, problems
from bot.discord.checks import Refused


class NotOwner(Refused):
    def __init__(self) -> None:
        super().__init__("Only the bot's owner can do that.")


async def _owner_only(interaction: discord.Interaction) -> bool:
    if not await interaction.client.is_owner(interaction.user):  # type: ignore[attr-defined]
        raise NotOwner
    return True


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h {rest // 60} min" if days else f"{hours} h {rest // 60} min"


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

    @app_commands.command(name="status", description="Owner: how the running bot is doing")
    @app_commands.default_permissions(administrator=True)
    @app_commands.check(_owner_only)
    async def status(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        kb = bot.advisor.knowledge
        latency = bot.latency * 1000 if bot.latency == bot.latency else float("nan")  # NaN before the first heartbeat
        reload = f"<t:{int(bot.last_reload)}:R>" if bot.last_reload else "not since start"
        problem = ("\n**The last knowledge reload failed**: still answering from the previous knowledge."
                   if bot.advisor.last_reload_error else "")
        lines = [
            f"**Up for** {_duration(time.time() - bot.started_at)} · **gateway latency** {latency:.0f} ms",
            f"**Servers** {len(bot.guilds)} · **message content intent** {'on' if bot.intents.message_content else 'off'}",
            f"**Knowledge** {', '.join(f'{n} {k}' for k, n in kb.counts().items())}; "
            f"{sum(1 for o in kb.overrides.values() if o.body is not None)} item(s) edited by moderators; "
            f"last reload {reload}{problem}",
            f"**Database** {bot.storage.path} · {bot.storage.size_bytes() / 2**20:.1f} MiB",
            "**Last problems logged**:",
        ]
        lines.append(code_lines(list(problems.lines)) if problems.lines else "none")
        await render.send(interaction, Reply("Status", "\n".join(lines), kind="info"), ephemeral=True)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Owner(bot))
