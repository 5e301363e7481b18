"""Keeping the knowledge current: /kb reload, check, stats, gaps, and reloading when files change.

Every /kb command is for moderators (MODERATOR_ROLE or Manage Server), checked by the bot itself.
A reload validates the whole folder first and swaps the new knowledge in at once; on any problem the
bot keeps answering from the last good knowledge and reports the problems as file:line.
"""

from __future__ import annotations

import asyncio
import logging
import time

import discord
from discord.ext import commands, tasks

from bot.core.knowledge import Problem, check_knowledge, fingerprint
from bot.core.reply import Reply
from bot.discord import render
from bot.discord.app import AdvisorBot
from bot.discord.checks import ModeratorGroup

log = logging.getLogger("mle_advisor.knowledge")
SHOWN_PROBLEMS = 15


def problems_text(problems: tuple[Problem, ...] | list[Problem]) -> str:
    lines = [f"`{p}`" for p in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        lines.append(f"…and {len(problems) - SHOWN_PROBLEMS} more (run `mle-advisor kb check` for all)")
    return "\n".join(lines)


class Moderation(commands.Cog):
    kb = ModeratorGroup(name="kb", description="Moderators: manage the knowledge files")

    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot
        self.last_reload: float | None = None
        self._failed_fingerprint: tuple | None = None

    async def cog_load(self) -> None:
        seconds = self.bot.settings.kb_watch_seconds
        if seconds > 0:
            self.watch.change_interval(seconds=seconds)
            self.watch.start()

    async def cog_unload(self) -> None:
        self.watch.cancel()

    async def reload(self, reason: str) -> Reply:
        result = await self.bot.advisor.reload()
        self.last_reload = time.time()
        if result.ok:
            self._failed_fingerprint = None
            counts = ", ".join(f"{n} {k}" for k, n in result.knowledge.counts().items())  # type: ignore[union-attr]
            log.info("knowledge reloaded (%s): %s", reason, counts)
            return Reply("Knowledge reloaded", f"Now answering from: {counts}.", kind="info")
        self._failed_fingerprint = await asyncio.to_thread(fingerprint, self.bot.advisor.knowledge.directory)
        log.warning("knowledge reload (%s) refused, kept the previous knowledge:\n%s", reason,
                    "\n".join(str(p) for p in result.problems))
        body = (f"{len(result.problems)} problem(s); I kept answering from the previous knowledge.\n\n"
                + problems_text(result.problems))
        return Reply("Reload refused", body, kind="error")

    @tasks.loop(seconds=2)
    async def watch(self) -> None:
        """Reload when a knowledge file is edited, added or removed (same validation as /kb reload)."""
        advisor = self.bot.advisor
        current = await asyncio.to_thread(fingerprint, advisor.knowledge.directory)
        if current != advisor.knowledge.fingerprint and current != self._failed_fingerprint:
            await self.reload("files changed")

    @watch.error
    async def watch_error(self, error: BaseException) -> None:
        log.error("the knowledge watcher stopped: %s", error)

    @kb.command(name="reload", description="Validate the knowledge files and switch to them")
    async def kb_reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await render.send(interaction, await self.reload(f"/kb reload by {interaction.user.id}"), ephemeral=True)

    @kb.command(name="check", description="Validate the knowledge files without switching")
    async def kb_check(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        problems = await asyncio.to_thread(check_knowledge, self.bot.advisor.knowledge.directory)
        if problems:
            reply = Reply("Knowledge has problems", problems_text(problems), kind="error")
        else:
            reply = Reply("Knowledge is valid", "Every file loads and validates. `/kb reload` to switch now.", kind="info")
        await render.send(interaction, reply, ephemeral=True)

    @kb.command(name="stats", description="What the knowledge holds, and how the last reload went")
    async def kb_stats(self, interaction: discord.Interaction) -> None:
        advisor = self.bot.advisor
        kb = advisor.knowledge
        lines = [f"• {n} {kind}" for kind, n in kb.counts().items()]
        lines.append(f"• {len(kb.files)} files, loaded in {kb.load_seconds * 1000:.0f} ms")
        if self.last_reload:
            lines.append(f"• last reload <t:{int(self.last_reload)}:R>")
        if advisor.last_reload_error:
            lines.append("\n**The last reload failed**; still answering from the previous knowledge:\n"
                         + problems_text(advisor.last_reload_error))
        await render.send(interaction, Reply("Knowledge stats", "\n".join(lines), kind="info"), ephemeral=True)

    @kb.command(name="gaps", description="Questions I couldn't answer or that got 👎, most frequent first")
    async def kb_gaps(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        gaps = await self.bot.advisor.storage.gaps(str(interaction.guild_id), limit=20)
        if not gaps:
            reply = Reply("No gaps", "Every question so far was answered, and none got a 👎.", kind="info")
        else:
            lines = []
            for gap in gaps:
                why = ", ".join(w for w, n in (("unanswered", gap.unanswered), ("👎", gap.unhelpful)) if n)
                lines.append(f"• **{gap.times}×** {render.clip(discord.utils.escape_markdown(gap.question), 150)} ({why})")
            reply = Reply("What members asked that I couldn't answer well", "\n".join(lines), kind="info")
        await render.send(interaction, reply, ephemeral=True)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Moderation(bot))
