"""Answering messages: mentions, DMs, answer channels (with the threads under them and the posts of a
forum set as an answer channel), and the "Ask MLE Advisor" message menu.

Every way of asking counts against the same rate per member (AdvisorBot.rate_limited). Answers are
replies that ping nobody; the message menu credits the member whose message it answers, by name and
without a ping.
"""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.ratelimit import FREE, QUESTION
from bot.core.reply import Reply
from bot.discord import render, where
from bot.discord.app import AdvisorBot, answer_ephemerally
from bot.discord.checks import TooManyQuestions

log = logging.getLogger("mle_advisor.conversation")


class Conversation(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Ask MLE Advisor", callback=self.ask_about_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    # --- which messages are for the bot ----------------------------------------------------------------

    def in_answer_channel(self, message: discord.Message) -> bool:
        """A message in an answer channel, in a thread under one, or the opening message of a post in a
        forum that is one (later messages in a post are answered only when they mention the bot)."""
        channels = self.bot.server_config(message.guild.id if message.guild else None).answer_channel_ids
        channel = message.channel
        if channel.id in channels:
            return True
        if isinstance(channel, discord.Thread) and channel.parent_id in channels:
            parent = channel.parent
            if isinstance(parent, discord.ForumChannel) or getattr(parent, "type", None) == discord.ChannelType.forum:
                return message.id == channel.id  # the post's first message
            return True
        return False

    def addressed(self, message: discord.Message) -> bool:
        me = self.bot.user
        if me is None or message.author.bot or message.webhook_id:
            return False
        if message.guild is None:
            return True
        own_role = message.guild.self_role  # members often pick the bot's role from the @ menu
        mentioned = me in message.mentions or (own_role is not None and own_role in message.role_mentions)
        return mentioned or self.in_answer_channel(message)

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
        guild_id = message.guild.id if message.guild else None
        free = not text or self.bot.advisor.is_small_talk(text)  # help and small talk cost no question
        retry_after = self.bot.rate_limited(guild_id, message.author.id, FREE if free else QUESTION)
        if retry_after:
            if free or not self.bot.first_refusal(guild_id, message.author.id):
                return  # a flood: said once already (or chatter past the flood guard), so stay quiet
            try:
                await message.reply(f"Easy there: you can ask again in {retry_after:.0f} s.", mention_author=False,
                                    allowed_mentions=render.NO_MENTIONS, delete_after=10)
            except discord.HTTPException as exc:
                log.warning("could not answer message %s: HTTP %s", message.id, exc.status)
            return
        if not text:
            return await self._reply(message, self.bot.advisor.help_reply())
        reply = await self.bot.advisor.ask(str(message.author.id), text, where.of_message(message))
        await self._reply(message, reply, solved_by=message.author.id if self.opens_forum_post(message) else None)

    @staticmethod
    def opens_forum_post(message: discord.Message) -> bool:
        """The first message of a post in a forum channel (the post and its first message share an id)."""
        channel = message.channel
        if not isinstance(channel, discord.Thread) or message.id != channel.id:
            return False
        parent = channel.parent
        return isinstance(parent, discord.ForumChannel) or getattr(parent, "type", None) == discord.ChannelType.forum

    @staticmethod
    async def _reply(message: discord.Message, reply: Reply, *, content: str | None = None,
                     solved_by: int | None = None) -> None:
        """A public answer, with 🗑 for the member it answers (and moderators), and on a forum post's
        first message a "Solved" button for the post's author (and moderators)."""
        kwargs = render.message_kwargs(reply, owner=message.author.id, solved_by=solved_by)
        try:
            await message.reply(content=content, mention_author=False, **kwargs)
        except discord.HTTPException as exc:  # deleted message, missing permission: log the status only
            log.warning("could not answer message %s: HTTP %s", message.id, exc.status)

    # --- the message menu ----------------------------------------------------------------------------

    async def ask_about_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Answer someone's message as a reply to it: the text is their question, asked by them (their
        background counts, named only if they said it publicly); the rate is the invoker's."""
        text = " ".join(message.content.split())
        free = not text or self.bot.advisor.is_small_talk(text)
        wait = self.bot.rate_limited(interaction.guild_id, interaction.user.id, FREE if free else QUESTION)
        if wait:
            raise TooManyQuestions(wait)
        if not text:
            await answer_ephemerally(interaction, "That message has no text I could answer.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        place = where.of_message(message)
        # Asked by someone else: a member who asked to be forgotten is not remembered again by it.
        reply = await self.bot.advisor.ask(str(message.author.id), text, place, by_them=interaction.user.id == message.author.id)
        credit = f"Answering {message.author.mention}'s question (asked for by {interaction.user.mention})."
        try:
            await message.reply(content=credit, mention_author=False,
                                **render.message_kwargs(reply, owner=message.author.id))
        except discord.HTTPException as exc:
            log.warning("could not answer message %s from the menu: HTTP %s", message.id, exc.status)
            await interaction.followup.send("I couldn't post the answer there (missing permission?).", ephemeral=True)
            return
        await interaction.followup.send("Answered below their message.", ephemeral=True)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Conversation(bot))
