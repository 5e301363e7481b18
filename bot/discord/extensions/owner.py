"""For the bot's owner (the application's owner in the Developer Portal, checked by the bot): /sync to
push the slash commands here or everywhere, /status to see how the running bot is doing — every process
of it: each one writes a heartbeat (shards, start, gateway latency, last problem) to the database every
HEARTBEAT_SECONDS, and /status lists them all."""

from __future__ import annotations

import logging
import time
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.core.format import code_lines
from bot.core.reply import Reply
from bot.core.storage import Heartbeat, StorageError
from bot.discord import render
from bot.discord.app import AdvisorBot, problems
from bot.discord.checks import Refused

log = logging.getLogger("mle_advisor.owner")
HEARTBEAT_SECONDS = 15.0


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


def _process_line(beat: Heartbeat) -> str:
    shards = ",".join(map(str, beat.shards)) or "all"
    latency = f"{beat.latency_ms:.0f} ms" if beat.latency_ms is not None else "not connected"
    state = "" if beat.seen_ago < 3 * HEARTBEAT_SECONDS else f" · **silent for {_duration(beat.seen_ago)}**"
    error = f" · last problem: {beat.last_error[:120]}" if beat.last_error else ""
    return (f"`{beat.process}` shards {shards} · up {_duration(time.time() - beat.started_at)} · {latency}"
            f"{state}{error}")


class Owner(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.heartbeat.start()

    async def cog_unload(self) -> None:
        self.heartbeat.cancel()

    @tasks.loop(seconds=HEARTBEAT_SECONDS)
    async def heartbeat(self) -> None:
        bot = self.bot
        latency = bot.latency * 1000 if bot.latency == bot.latency and bot.latency != float("inf") else None
        shards = bot.settings.my_shards if bot.settings.sharded else []
        try:
            await bot.storage.beat(bot.process_name, shards, bot.started_at, latency,
                                   problems.lines[-1] if problems.lines else "")
        except StorageError as exc:
            log.warning("could not write this process's heartbeat: %s", exc)

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
            f"{sum(1 for p in kb.paths.values() if kb.overlay and p.is_relative_to(kb.overlay))} edited file(s); "
            f"last reload {reload}{problem}",
            f"**Database** {bot.storage.where} · {bot.storage.size_bytes() / 2**20:.1f} MiB",
        ]
        if bot.settings.sharded:
            try:
                beats = await bot.storage.heartbeats()
            except StorageError as exc:
                beats, lines = [], [*lines, f"**Processes**: cannot read the heartbeats ({exc})"]
            if beats:
                lines.append(f"**Processes** ({len(beats)}; {bot.settings.shard_count} shards in all):")
                lines.extend(f"• {_process_line(b)}" for b in beats)
        lines.append("**Last problems logged**:")
        lines.append(code_lines(list(problems.lines)) if problems.lines else "none")
        await render.send(interaction, Reply("Status", "\n".join(lines), kind="info"), ephemeral=True)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Owner(bot))
