"""/kb: moderators keep the knowledge current from Discord, and the bot picks up edited files by itself.

Every /kb command is for moderators (the server's moderator role, or Manage Server), checked by the bot
itself; commands that change the knowledge also need the server to be allowed to edit it (the knowledge
is shared by every server the bot is in: KB_EDIT_GUILD_IDS, or the only server). Changes go through the
core's editor (bot/core/editing.py): validated whole, stored per item in the database together with their
history entry (one transaction), and in effect at once.

With a shared database (PostgreSQL, several processes), each process hears of a new change at once
(LISTEN/NOTIFY) and also polls every SYNC_SECONDS (a listener does not survive a dropped connection),
then reloads: the edits are read from the database, so there is nothing else to copy.

The watcher looks every KB_WATCH_SECONDS at the shipped files and at the latest change in the database
(so a change made by `mle-advisor kb` or another process is picked up): a change is validated and
swapped in, or refused with the previous knowledge kept. It survives any error (logged, shown in /kb
stats) and fingerprints the files before reading them, so a save that was half written when read is
read again.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.core import compose, heap, yamlfile
from bot.core.editing import EditError, resolve_topic, visible_summary
from bot.core.format import quote_user_text
from bot.core.knowledge import KnowledgeError
from bot.core.reply import Reply
from bot.core.storage import StorageError
from bot.discord import errors, render
from bot.discord.app import AdvisorBot
from bot.discord.checks import ModeratorGroup, autocomplete_allowed
from bot.discord.kb_views import (
    EntryModal,
    GapsView,
    by_name,
    check_may_edit,
    open_editor,
    problems_text,
    report,
    run_change,
    teach,
)

log = logging.getLogger("mle_advisor.knowledge")
SYNC_SECONDS = 5.0


class Moderation(commands.Cog):
    kb = ModeratorGroup(name="kb", description="Moderators: keep the knowledge current")

    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot
        self._refused: tuple | None = None  # files as they were when a reload was last refused
        self.watch_problem: tuple[float, str] | None = None

    async def cog_load(self) -> None:
        seconds = self.bot.settings.kb_watch_seconds
        if seconds > 0:
            self.watch.change_interval(seconds=seconds)
            self.watch.start()
        if self.bot.storage.shared:
            self.sync.start()

    async def cog_unload(self) -> None:
        self.watch.cancel()
        self.sync.cancel()

    # --- other processes' edits (shared database) ---------------------------------------------------------

    def _heard(self, change_id: int) -> None:
        if change_id > self.bot.advisor.knowledge.change_id:
            asyncio.get_running_loop().create_task(self.catch_up(f"change {change_id} from another process"))

    async def catch_up(self, reason: str) -> None:
        """Reload when a change was recorded (here or by another process) after the knowledge in use."""
        try:
            if await self.bot.storage.kb_last_change() != self.bot.advisor.knowledge.change_id:
                await self.reload(reason)
        except Exception as exc:  # a dropped connection: the next poll tries again
            log.warning("could not apply other processes' knowledge changes (will retry): %s",
                        " ".join(str(exc).split())[:200])

    @tasks.loop(seconds=SYNC_SECONDS)
    async def sync(self) -> None:
        await self.bot.storage.listen_changes(self._heard)  # (again, if the listening connection dropped)
        await self.catch_up("changes found by the periodic check")

    # --- reloading --------------------------------------------------------------------------------------

    async def reload(self, reason: str) -> Reply:
        result = await self.bot.advisor.reload()
        self.bot.last_reload = time.time()
        if result.ok:
            self._refused = None
            heap.settle()  # the new knowledge joins the long-lived objects the collector skips
            self.bot.alerts.resolved("reload")
            counts = ", ".join(f"{n} {k}" for k, n in result.knowledge.counts().items())  # type: ignore[union-attr]
            log.info("knowledge reloaded (%s): %s", reason, counts)
            return Reply("Knowledge reloaded", f"Now answering from: {counts}.", kind="info")
        self._refused = (result.fingerprint, await self._last_change())  # a file still being written differs next time
        log.warning("knowledge reload (%s) refused, kept the previous knowledge: %d problem(s), first: %s", reason,
                    len(result.problems), result.problems[0] if result.problems else "?")
        await self.bot.alerts.report("reload", f"{len(result.problems)} problem(s) ({reason}); still answering from "
                                     f"the previous knowledge. First: {result.problems[0] if result.problems else '?'}")
        body = (f"{len(result.problems)} problem(s); I kept answering from the previous knowledge.\n\n"
                + problems_text(result.problems))
        return Reply("Reload refused", body, kind="error")

    @tasks.loop(seconds=2)
    async def watch(self) -> None:
        """Reload when a knowledge file is edited, added or removed (same validation as /kb reload)."""
        try:
            advisor = self.bot.advisor
            current = (await asyncio.to_thread(advisor.fingerprint), await advisor.storage.kb_last_change())
            loaded = (advisor.knowledge.fingerprint, advisor.knowledge.change_id)
            if current != loaded and current != self._refused:
                await self.reload("files changed" if current[0] != loaded[0] else f"change #{current[1]} recorded")
            self.watch_problem = None
        except Exception as exc:  # the watcher must never stop: log it, show it, keep watching
            message = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            if self.watch_problem is None or self.watch_problem[1] != message:
                log.error("the knowledge watcher hit a problem (it keeps watching): %s", message, extra={"alert": "watcher"})
            self.watch_problem = (time.time(), message)

    async def _last_change(self) -> int | None:
        try:
            return await self.bot.storage.kb_last_change()
        except StorageError:
            return None

    # --- looking ---------------------------------------------------------------------------------------

    @kb.command(name="reload", description="Validate the knowledge files and switch to them")
    async def kb_reload(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await render.send(interaction, await self.reload(f"/kb reload by {interaction.user.id}"), ephemeral=True)

    @kb.command(name="check", description="Validate the knowledge files without switching")
    async def kb_check(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await self.bot.editor.load()
            problems: tuple = ()
        except KnowledgeError as exc:
            problems = exc.problems
        if problems:
            reply = Reply("Knowledge has problems", problems_text(problems), kind="error")
        else:
            reply = Reply("Knowledge is valid", "Every file loads and validates. `/kb reload` to switch now.", kind="info")
        await render.send(interaction, reply, ephemeral=True)

    @kb.command(name="stats", description="What the knowledge holds, what this server asked, and how reloads went")
    async def kb_stats(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        advisor = self.bot.advisor
        kb = advisor.knowledge
        lines = [f"• {n} {kind}" for kind, n in kb.counts().items()]
        edited = sum(1 for o in kb.overrides.values() if o.body is not None)
        lines.append(f"• {len(kb.files)} files, {edited} item(s) edited or added by moderators "
                     f"(`/kb info` shows one), loaded in {kb.load_seconds * 1000:.0f} ms")
        if self.bot.last_reload:
            lines.append(f"• last reload <t:{int(self.bot.last_reload)}:R>")
        if advisor.last_reload_error:
            lines.append("\n**The last reload failed**; still answering from the previous knowledge:\n"
                         + problems_text(advisor.last_reload_error))
        if self.watch_problem:
            lines.append(f"\n**The file watcher hit a problem** <t:{int(self.watch_problem[0])}:R> (it keeps watching): "
                         f"{quote_user_text(self.watch_problem[1], 200)}")
        place = str(interaction.guild_id)
        usage = [await self.bot.storage.usage(place, days) for days in (7, 30)]
        lines.append("\n**This server**")
        lines += compose.usage_lines(kb, usage)
        await render.send(interaction, Reply("Knowledge stats", "\n".join(lines), kind="info"), ephemeral=True)

    @kb.command(name="gaps", description="Questions I couldn't answer or that got 👎 here, most frequent first")
    async def kb_gaps(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        gaps = await self.bot.advisor.gaps(str(interaction.guild_id), limit=25)
        if not gaps:
            reply = Reply("No gaps", "Every question asked here was answered, and none got a 👎.", kind="info")
            await render.send(interaction, reply, ephemeral=True)
            return
        lines = []
        for n, gap in enumerate(gaps, 1):
            why = ", ".join(w for w, k in (("unanswered", gap.unanswered), ("👎", gap.unhelpful)) if k)
            lines.append(f"{n}. **{gap.times}×** {quote_user_text(gap.question, 150)} ({why})")
        body = "\n".join(lines) + "\n\nPick one below to **teach** it to a topic, **write an answer** or **dismiss** it."
        kwargs = render.message_kwargs(Reply("What members here asked that I couldn't answer well", body, kind="info"))
        await interaction.followup.send(ephemeral=True, view=GapsView([g.question for g in gaps]), **kwargs)

    @kb.command(name="history", description="The latest changes to the knowledge")
    async def kb_history(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        changes = await self.bot.storage.changes(15)
        place = str(interaction.guild_id)
        lines = [f"**#{c.id}** <t:{_epoch(c.at)}:R> by {quote_user_text(c.by_name or c.by_id, 40)}: "
                 f"{quote_user_text(visible_summary(c, place), 120)}" for c in changes]
        body = "\n".join(lines) if lines else "No changes yet: the knowledge is as shipped."
        if lines:
            body += "\n\n`/kb undo` reverts the latest; `/kb undo change:N` a given one."
        await render.send(interaction, Reply("Knowledge history", body, kind="info"), ephemeral=True)

    @kb.command(name="export", description="All knowledge files as one zip")
    async def kb_export(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await self.bot.editor.export_zip(str(interaction.guild_id))
        await interaction.followup.send(f"The knowledge, {len(self.bot.editor.files())} files as I read them now. "
                                        "Edit one and `/kb import` it: changes made since this export are kept. "
                                        "Phrasings taught from other servers' members' questions are left out "
                                        "(and kept when you import).",
                                        file=discord.File(io.BytesIO(data), filename="mle-advisor-knowledge.zip"),
                                        ephemeral=True)

    # --- changing ---------------------------------------------------------------------------------------

    async def topic_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if not autocomplete_allowed(interaction):
            return []
        return render.choices(await self.bot.advisor.complete("any", current))

    async def gap_texts(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if not autocomplete_allowed(interaction):
            return []
        gaps = await errors.or_default(self.bot.advisor.gaps(str(interaction.guild_id), limit=25), [])
        needle = current.lower().strip()
        return render.choices([(g.question, g.question) for g in gaps if needle in g.question] or
                              ([(current, current)] if current else []))

    async def change_numbers(self, interaction: discord.Interaction, current: int) -> list[app_commands.Choice[int]]:
        changes = await errors.or_default(self.bot.storage.changes(25), [])
        place = str(interaction.guild_id)
        return [app_commands.Choice(name=render.clip(f"#{c.id} {visible_summary(c, place)}", 100), value=c.id)
                for c in changes]

    @kb.command(name="teach", description="Make a question a phrasing of a topic, so it is answered by it")
    @app_commands.describe(question="The question as asked (from /kb gaps, or typed)", topic="The topic that should answer it")
    @app_commands.autocomplete(question=gap_texts, topic=topic_names)
    async def kb_teach(self, interaction: discord.Interaction, question: app_commands.Range[str, 2, 200], topic: str) -> None:
        topic_id = await self.topic_or_say(interaction, topic)
        if topic_id is not None:
            await teach(interaction, question, topic_id)

    @kb.command(name="edit", description="Edit a topic in a form pre-filled with its current text")
    @app_commands.describe(topic="The step or entry")
    @app_commands.autocomplete(topic=topic_names)
    async def kb_edit(self, interaction: discord.Interaction, topic: str) -> None:
        check_may_edit(interaction)
        topic_id = await self.topic_or_say(interaction, topic)
        if topic_id is not None:
            await open_editor(interaction, topic_id)

    async def topic_or_say(self, interaction: discord.Interaction, typed: str) -> str | None:
        """The topic a moderator named by id, title or an unambiguous beginning; else say why, None."""
        try:
            return resolve_topic(self.bot.advisor.knowledge, typed)
        except EditError as exc:
            await report(interaction, "Which topic?", f"{quote_user_text(str(exc), 300)}.", kind="error")
            return None

    @kb.command(name="info", description="Who changed a topic and when, how often it answered, its 👍/👎")
    @app_commands.describe(topic="The step or entry (id, title, or its beginning)")
    @app_commands.autocomplete(topic=topic_names)
    async def kb_info(self, interaction: discord.Interaction, topic: str) -> None:
        topic_id = await self.topic_or_say(interaction, topic)
        if topic_id is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        place = str(interaction.guild_id)
        info = await self.bot.editor.info(topic_id, place)
        if info is None:
            await report(interaction, "No such topic", f"There is no topic `{quote_user_text(topic_id, 60)}`.", kind="error")
            return
        await render.send(interaction, Reply(f"{info['title']} ({topic_id})", info_text(info, place), kind="info"),
                          ephemeral=True)

    @kb.command(name="add", description="Write a new entry in a form")
    async def kb_add(self, interaction: discord.Interaction) -> None:
        check_may_edit(interaction)
        await interaction.response.send_modal(EntryModal({}, topic_id=None, version=None, is_step=False))

    @kb.command(name="import", description="Replace or add one knowledge file with an attached YAML file")
    @app_commands.describe(file="A .yaml file (at most 256 KiB)",
                           path="Its path in the knowledge folder (default: the file of the same name, else entries/NAME)")
    async def kb_import(self, interaction: discord.Interaction, file: discord.Attachment, path: str | None = None) -> None:
        check_may_edit(interaction)
        if file.size > yamlfile.LIMITS.file_bytes:
            await report(interaction, "Not imported", yamlfile.LIMITS.too_big(quote_user_text(file.filename, 80), file.size)
                         + ". Nothing was changed.", kind="error")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            content = await file.read()
        except discord.HTTPException as exc:
            await report(interaction, "Not imported", f"I couldn't download the file (HTTP {exc.status}). Nothing was "
                         "changed.", kind="error")
            return
        work = self.bot.editor.import_file(content, name=file.filename, rel=path, by_id=str(interaction.user.id),
                                           by_name=by_name(interaction.user), place=str(interaction.guild_id))
        done = await run_change(interaction, work)
        if done is not None:
            await report(interaction, "Imported", f"Change #{done.change.id}: {quote_user_text(done.summary, 200)}; "
                         f"answering from it now. `/kb undo {done.change.id}` takes it back.")

    @kb.command(name="undo", description="Put the files back as they were before a change (default: the latest)")
    @app_commands.describe(change="The change's number (from /kb history)")
    @app_commands.autocomplete(change=change_numbers)
    async def kb_undo(self, interaction: discord.Interaction, change: int | None = None) -> None:
        check_may_edit(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        work = self.bot.editor.undo(change, by_id=str(interaction.user.id), by_name=by_name(interaction.user),
                                    place=str(interaction.guild_id))
        done = await run_change(interaction, work)
        if done is not None:
            await report(interaction, "Undone", f"Change #{done.change.id}: {quote_user_text(done.summary, 200)}.")


def info_text(info: dict, place: str) -> str:
    status = {"shipped": "as shipped (never changed here)", "edited": "edited by moderators",
              "added": "added by moderators"}.get(info["status"], info["status"])
    lines = [f"**{info['kind'].capitalize()}** in `{info['file']}`, {status}.",
             f"**Answered** {info['answered']} question(s) here in the last {info['days']} days · "
             f"👍 {info['helpful']} · 👎 {info['unhelpful']}"]
    if info["changes"]:
        lines.append("**Changes** (newest first):")
        lines += [f"• #{c.id} <t:{_epoch(c.at)}:R> by {quote_user_text(c.by_name or c.by_id, 40)}: "
                  f"{quote_user_text(visible_summary(c, place), 100)}" for c in info["changes"]]
    else:
        lines.append("**Changes**: none; it reads as the shipped files have it.")
    return "\n".join(lines)


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Moderation(bot))
