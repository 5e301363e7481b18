"""Answering messages: when the bot is mentioned, in DMs, and in the channels listed in settings."""

from __future__ import annotations

import logging
import re

import discord
from discord.ext import commands

from bot.core.reply import Reply
from bot.core.storage import StorageError
from bot.discord import render, where
from bot.discord.app import AdvisorBot

log = logging.getLogger("mle_advisor.conversation")


class Conversation(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    def addressed(self, message: discord.Message) -> bool:
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id:
            return False
        if message.guild is None:
            return True
        own_role = message.guild.self_role  # members often pick the bot's role from the @ menu
        mentioned = me in message.mentions or (own_role is not None and own_role in message.role_mentions)
        return mentioned or message.channel.id in self.bot.server_config(message.guild.id).answer_channel_ids

    def question_text(self, message: discord.Message) -> str:
        me = self.bot.user
        text = message.content
        if me is not None:
            text = re.sub(rf"<@!?{me.id}>", " ", text)
        own_role = message.guild.self_role if message.guild else None
        if own_role is not None:
            text = text.replace(own_role.mention, " ")
        return " ".join(text.split())

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self.addressed(message):
            return
        text = self.question_text(message)
        if not text:
            return await self._reply(message, self.bot.advisor.help_reply())
        retry_after = self.bot.rate_limited(message.guild.id if message.guild else None, message.author.id)
        if retry_after:
            await message.reply(f"Easy there: you can ask again in {retry_after:.0f} s.", mention_author=False,
                                allowed_mentions=render.NO_MENTIONS, delete_after=10)
            return
        try:
            reply = await self.bot.advisor.ask(str(message.author.id), text, where.of_message(message))
        except StorageError as exc:
            log.error("database problem answering message %s: %s", message.id, exc)
            await message.reply("I can't reach my database right now; please try again later.", mention_author=False,
                                allowed_mentions=render.NO_MENTIONS)
            return
        await self._reply(message, reply)

    @staticmethod
    async def _reply(message: discord.Message, reply: Reply) -> None:
        try:
            await message.reply(mention_author=False, **render.message_kwargs(reply))
        except discord.HTTPException as exc:  # deleted message, missing permission: log the status only
            log.warning("could not answer message %s: HTTP %s", message.id, exc.status)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Conversation(bot))
