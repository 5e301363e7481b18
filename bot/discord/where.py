"""Where a Discord interaction or message happened, as the core's Place: the server (or a DM), the
channel or thread, and whether others will see the answer."""

from __future__ import annotations

import discord

from bot.core.place import Place


def of_interaction(interaction: discord.Interaction, *, public: bool = True) -> Place:
    channel = interaction.channel_id or 0
    if interaction.guild_id is None:
        return Place.dm(channel)
    return Place.server(interaction.guild_id, channel, public=public, whisper=True)


def of_message(message: discord.Message) -> Place:
    if message.guild is None:
        return Place.dm(message.channel.id)
    return Place.server(message.guild.id, message.channel.id, public=True)
