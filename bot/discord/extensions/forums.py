"""Help forums, as python-discord runs theirs: the bot's answer to a post's first message has a "Solved"
button (views.Solved) for the post's author and moderators, which tags the post and closes it; and once
an hour, posts in a server's forum answer channels that have had no message for the server's
`forum_idle_days` (/config forum-idle, default FORUM_IDLE_DAYS) are closed with a note saying why. A
member who writes in a closed post opens it again (Discord does that by itself).

Each process looks only at the servers it serves, so with several processes every post is looked at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import discord
from discord.ext import commands, tasks

from bot.discord.app import AdvisorBot
from bot.discord.render import NO_MENTIONS
from bot.discord.views import close_post

log = logging.getLogger("mle_advisor.forums")


class Forums(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.idle.start()

    async def cog_unload(self) -> None:
        self.idle.cancel()

    @tasks.loop(hours=1)
    async def idle(self) -> None:
        try:
            closed = await self.close_idle_posts()
            if closed:
                log.info("closed %d idle forum post(s)", closed)
        except Exception as exc:  # the job must keep running: log and try again next hour
            log.error("closing idle forum posts failed (will try again): %s: %s", type(exc).__name__, str(exc)[:200])

    @idle.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()

    async def close_idle_posts(self, now: datetime | None = None) -> int:
        """Close every open post, in the forum answer channels of the servers this process serves, whose
        last message is older than that server's idle setting. How many were closed."""
        now = now or datetime.now(UTC)
        closed = 0
        for guild in self.bot.guilds:
            config = self.bot.server_config(guild.id)
            if not config.forum_idle_days:
                continue
            cutoff = now - timedelta(days=config.forum_idle_days)
            for channel_id in sorted(config.answer_channel_ids):
                forum = guild.get_channel(channel_id)
                if not isinstance(forum, discord.ForumChannel):
                    continue
                for post in forum.threads:
                    if post.archived or post.locked:
                        continue
                    last = discord.utils.snowflake_time(post.last_message_id or post.id)
                    if last >= cutoff:
                        continue
                    try:
                        await post.send(f"Closing this post: no message for {config.forum_idle_days:g} days. Write in it "
                                        "to open it again.", allowed_mentions=NO_MENTIONS)
                        if await close_post(post, solved=False, reason=f"idle for {config.forum_idle_days:g} days"):
                            closed += 1
                        else:
                            log.warning("could not close idle forum post %s: the bot needs Manage Threads", post.id)
                    except discord.HTTPException as exc:
                        log.warning("could not close idle forum post %s: HTTP %s", post.id, exc.status)
        return closed


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Forums(bot))
