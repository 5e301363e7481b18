"""/config: a server's admins (Manage Server, checked by the bot) change this server's settings from
Discord. Each change is saved in the database and takes effect at once; a setting left alone follows the
bot's .env default.
"""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.config import ConfigError, ServerConfig
from bot.core.reply import Reply
from bot.discord import render
from bot.discord.app import AdvisorBot
from bot.discord.checks import AdminGroup

log = logging.getLogger("mle_advisor.config")

Setting = Literal["answer channels", "moderator role", "question rate", "log channel", "retention", "forum idle"]
_RESET = {"answer channels": ("answer_channel_ids",), "moderator role": ("moderator_role_id",),
          "question rate": ("question_rate", "question_per"), "log channel": ("log_channel_id",),
          "retention": ("retention_days",), "forum idle": ("forum_idle_days",)}


def describe(config: ServerConfig, own: set[str], guild: discord.Guild | None) -> str:
    def mark(key: str) -> str:
        return "" if key in own else " *(default)*"

    channels = ", ".join(f"<#{c}>" for c in sorted(config.answer_channel_ids)) or "none (mentions and DMs only)"
    role = f"<@&{config.moderator_role_id}>" if config.moderator_role_id else "none (Manage Server only)"
    log_channel = f"<#{config.log_channel_id}>" if config.log_channel_id else "none"
    lines = [
        f"**Answer channels** (every message, threads and forum posts too): {channels}{mark('answer_channel_ids')}",
        f"**Moderator role** (may use /kb): {role}{mark('moderator_role_id')}",
        f"**Question rate**: a burst of {config.question_rate} per member, refilled at {config.question_rate} every "
        f"{config.question_per:g} s (hello, thanks and help are free){mark('question_rate')}",
        f"**Moderators' log channel** (knowledge changes): {log_channel}{mark('log_channel_id')}",
        f"**Questions kept for**: {config.retention_days:g} days, then deleted{mark('retention_days')}",
        "**Idle forum posts** (in forum answer channels): "
        + (f"closed after {config.forum_idle_days:g} days without a message" if config.forum_idle_days else "never closed")
        + mark("forum_idle_days"),
    ]
    return "\n".join(lines)


class Admin(commands.Cog):
    config = AdminGroup(name="config", description="Admins: this server's settings for MLE Advisor")
    channels = app_commands.Group(name="answer-channels", description="Channels where every message is answered",
                                  parent=config)

    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    async def _set(self, interaction: discord.Interaction, changes: dict[str, object], what: str) -> None:
        guild_id = interaction.guild_id
        assert guild_id is not None  # AdminGroup is guild only and checked
        await interaction.response.defer(ephemeral=True, thinking=True)  # acknowledged before the database
        try:  # all or nothing: validated whole, then written in one transaction
            await self.bot.servers.set_many(guild_id, changes, by=str(interaction.user.id))
        except ConfigError as exc:
            await render.send(interaction, Reply("Not changed", f"{exc}.", kind="error"), ephemeral=True)
            return
        log.info("server %s: %s changed by %s", guild_id, what, interaction.user.id)
        config = self.bot.server_config(guild_id)
        body = f"Saved, and in effect now.\n\n{describe(config, self.bot.servers.overridden(guild_id), interaction.guild)}"
        if "answer_channel_ids" in changes and config.answer_channel_ids and not self.bot.intents.message_content:
            body += ("\n\n⚠️ I can't read messages in answer channels yet: the bot's host must enable the Message Content "
                     "intent in the Developer Portal and restart me. Mentions work meanwhile.")
        await render.send(interaction, Reply("Settings", body, kind="info"), ephemeral=True)

    @config.command(name="show", description="This server's settings")
    async def show(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id
        config = self.bot.server_config(guild_id)
        body = describe(config, self.bot.servers.overridden(guild_id or 0), interaction.guild)
        body += "\n\nChange one with `/config …`; `/config reset` goes back to the default."
        await render.send(interaction, Reply("Settings", body, kind="info"), ephemeral=True)

    @channels.command(name="add", description="Answer every message in this channel (and its threads or forum posts)")
    @app_commands.describe(channel="A text or forum channel")
    async def channel_add(self, interaction: discord.Interaction,
                          channel: discord.TextChannel | discord.ForumChannel) -> None:
        current = set(self.bot.server_config(interaction.guild_id).answer_channel_ids)
        await self._set(interaction, {"answer_channel_ids": sorted(current | {channel.id})}, "answer channels")

    @channels.command(name="remove", description="Stop answering every message in this channel")
    @app_commands.describe(channel="A channel that is an answer channel now")
    async def channel_remove(self, interaction: discord.Interaction,
                             channel: discord.TextChannel | discord.ForumChannel) -> None:
        current = set(self.bot.server_config(interaction.guild_id).answer_channel_ids)
        await self._set(interaction, {"answer_channel_ids": sorted(current - {channel.id})}, "answer channels")

    @config.command(name="moderator-role", description="The role whose members may use /kb (besides Manage Server)")
    @app_commands.describe(role="The moderators' role")
    async def moderator_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        await self._set(interaction, {"moderator_role_id": role.id}, "moderator role")

    @config.command(name="rate", description="How many questions a member may ask, and per how many seconds")
    @app_commands.describe(questions="Questions (1-100)", seconds="Per this many seconds (1-86400)")
    async def rate(self, interaction: discord.Interaction, questions: app_commands.Range[int, 1, 100],
                   seconds: app_commands.Range[int, 1, 86400]) -> None:
        await self._set(interaction, {"question_rate": questions, "question_per": seconds}, "question rate")

    @config.command(name="log-channel", description="Where knowledge changes made from this server are posted")
    @app_commands.describe(channel="A text channel only moderators can read")
    async def log_channel(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await self._set(interaction, {"log_channel_id": channel.id}, "log channel")

    @config.command(name="retention", description="How many days questions and feedback are kept before deletion")
    @app_commands.describe(days="Days (1-3650)")
    async def retention(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 3650]) -> None:
        await self._set(interaction, {"retention_days": days}, "retention")

    @config.command(name="forum-idle", description="Close posts in forum answer channels after this many idle days")
    @app_commands.describe(days="Days without a message (0: never close them)")
    async def forum_idle(self, interaction: discord.Interaction, days: app_commands.Range[int, 0, 365]) -> None:
        await self._set(interaction, {"forum_idle_days": days}, "forum idle")

    @config.command(name="reset", description="Put a setting back to the bot's default")
    @app_commands.describe(setting="The setting")
    async def reset(self, interaction: discord.Interaction, setting: Setting) -> None:
        await self._set(interaction, dict.fromkeys(_RESET[setting]), f"{setting} (reset)")


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Admin(bot))
