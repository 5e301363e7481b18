"""Whom the bot's messages may ping: nobody, unless a message says otherwise. Its own module because
both the renderer and the error handler send messages, and neither should import the other for it."""

import discord

NO_MENTIONS = discord.AllowedMentions.none()
