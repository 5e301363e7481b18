"""A member's own data: /my-data shows it (and attaches it as JSON), /forget-me erases it after a
confirm button; and the daily retention sweep deletes questions, feedback and conversation context older
than each server's retention period (/config retention, default RETENTION_DAYS).

Split into several processes, every process runs the sweep, but each place is claimed in the database
for the day first, so it is swept once; the settings are read afresh from the database for the sweep
(another process may have served a /config since this one started).
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import replace
from datetime import UTC, datetime

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.core import mydata
from bot.core.storage import DM, LEGACY, LOCAL, StorageError
from bot.discord import render
from bot.discord.app import AdvisorBot
from bot.discord.views import ConfirmForget

log = logging.getLogger("mle_advisor.privacy")
MAX_NAME_LOOKUPS = 10
"""Servers /my-data asks Discord to name (the rest of the member's servers are in this process's cache)."""


class Privacy(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.retention.start()

    async def cog_unload(self) -> None:
        self.retention.cancel()

    @app_commands.command(name="forget-me", description="Erase what I remember about you, here or everywhere")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        here = "this server" if interaction.guild_id is not None else "our DMs"
        await interaction.response.send_message(
            "This erases your background, your progress, the questions you asked, your 👍/👎 and what we last "
            f"talked about.\n• **Only {here}**: what you did in {here}; other servers and DMs keep theirs.\n"
            "• **Everywhere**: all of it, in every server and in DMs.\nSure? Pick one:",
            view=ConfirmForget.prompt(interaction.user.id, str(interaction.guild_id) if interaction.guild_id else DM),
            ephemeral=True,
            allowed_mentions=render.NO_MENTIONS,
        )

    async def server_names(self, ids: list[str]) -> dict[str, str]:
        """Names of these servers: from this process's cache, else asked of Discord (a server served by
        another process's shards); one Discord no longer shows the bot is left out (the bot left it)."""
        names: dict[str, str] = {}
        asked = 0
        for place in ids:
            if not place.isdigit():
                continue
            guild = self.bot.get_guild(int(place))
            if guild is not None:
                names[place] = guild.name
            elif asked < MAX_NAME_LOOKUPS:
                asked += 1
                try:
                    names[place] = (await self.bot.fetch_guild(int(place), with_counts=False)).name
                except discord.HTTPException:  # 403/404: not in it any more
                    pass
        return names

    @app_commands.command(name="my-data", description="See everything I store about you (only you see it)")
    async def my_data(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply, data = await self.bot.advisor.my_data(str(interaction.user.id), self.server_names)
        limit = getattr(interaction, "filesize_limit", 0) or mydata.DEFAULT_LIMIT  # this server's upload limit
        packed = await asyncio.to_thread(mydata.pack, {"user_id": str(interaction.user.id), **data},
                                         min(limit, mydata.DEFAULT_LIMIT * 4))
        if packed.note:
            reply = replace(reply, body=f"{reply.body}\n\n{packed.note}")
        kwargs = render.message_kwargs(reply)
        kwargs["file"] = discord.File(io.BytesIO(packed.content), filename=packed.filename)
        await interaction.followup.send(ephemeral=True, **kwargs)

    @tasks.loop(hours=24)
    async def retention(self) -> None:
        """Delete what is older than each place's retention period; a failure is logged and retried tomorrow."""
        try:
            removed = 0
            storage = self.bot.storage
            if storage.shared:
                await self.bot.servers.load()
            today = datetime.now(UTC).date().isoformat()
            reference = await storage.retention_clock()  # one reference for the whole sweep
            for place in await storage.places():
                if storage.shared and not await storage.claim("retention", f"{place} {today}"):
                    continue  # swept today already, by this process or another
                guild = int(place) if place not in (DM, LOCAL, LEGACY) and place.isdigit() else None
                removed += await self.bot.storage.purge(place, self.bot.server_config(guild).retention_days,
                                                         reference=reference)
            if removed:
                log.info("retention: deleted %d old question, feedback and context rows", removed)
        except StorageError as exc:
            log.error("retention sweep failed, will try again tomorrow: %s", exc, extra={"alert": "storage"})


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Privacy(bot))
