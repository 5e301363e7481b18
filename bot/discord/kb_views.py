"""The moderators' tools for the knowledge, as Discord UI: a gap's actions (teach, write an answer,
dismiss), the entry form (a modal pre-filled with the current text) and its links form.

These live in ephemeral messages that only the moderator sees, so they need not survive a restart; each
action checks again, on the server side, that the member is a moderator here (and for changes, that
the knowledge may be edited from this server). Every change goes through the one editor in the core.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

import discord

from bot.core import heap
from bot.core.editing import ChangedMeanwhile, Done, EditError
from bot.core.format import code_lines, quote_user_text
from bot.core.reply import Reply
from bot.core.storage import StorageError
from bot.discord import render
from bot.discord.checks import Refused, check_moderator
from bot.discord.errors import SafeModal, SafeView

if TYPE_CHECKING:
    from bot.discord.app import AdvisorBot

log = logging.getLogger("mle_advisor.knowledge")
TIMEOUT = 15 * 60
SHOWN_PROBLEMS = 12
LINK_KEYS = ("resources", "related", "sources")


class ReadOnlyHere(Refused):
    def __init__(self) -> None:
        super().__init__("The knowledge is shared by every server I'm in, and can be changed from Discord only in the "
                         "servers my host allows (KB_EDIT_GUILD_IDS). Your change was not made.")


def check_may_edit(interaction: discord.Interaction) -> None:
    check_moderator(interaction)
    if not interaction.client.may_edit_knowledge(interaction.guild_id):  # type: ignore[attr-defined]
        raise ReadOnlyHere


def problems_text(problems: Any) -> str:
    lines = [str(p) for p in list(problems)[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        lines.append(f"…and {len(problems) - SHOWN_PROBLEMS} more (`mle-advisor kb check` shows all)")
    return code_lines(lines)


def by_name(user: discord.abc.User) -> str:
    return " ".join(str(getattr(user, "display_name", None) or user.name).split())[:80]


async def after_change(interaction: discord.Interaction, done: Done) -> None:
    """Switch to the changed knowledge at once, and tell this server's moderators' log channel."""
    bot: AdvisorBot = interaction.client  # type: ignore[assignment]
    bot.advisor.knowledge = done.knowledge
    bot.advisor.last_reload_error = ()
    bot.last_reload = time.time()
    heap.settle()  # the new knowledge joins the long-lived objects the collector skips
    log.info("knowledge change #%d by %s: %s", done.change.id, interaction.user.id, done.summary)
    channel_id = bot.server_config(interaction.guild_id).log_channel_id
    if channel_id:
        channel = bot.get_channel(channel_id)
        if isinstance(channel, discord.abc.Messageable):
            try:
                await channel.send(f"Knowledge change #{done.change.id} by {interaction.user.mention}: "
                                   f"{quote_user_text(done.summary, 300)} (`/kb undo {done.change.id}` reverts it)",
                                   allowed_mentions=render.NO_MENTIONS)
            except discord.HTTPException as exc:
                log.warning("could not post to the moderators' log channel: HTTP %s", exc.status)


async def report(interaction: discord.Interaction, title: str, body: str, *, kind: str = "info",
                 view: discord.ui.View | None = None) -> None:
    kwargs = render.message_kwargs(Reply(title, body, kind=kind))
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=True, **kwargs)


async def run_change(interaction: discord.Interaction, work: Any, *, retry: discord.ui.View | None = None) -> Done | None:
    """Make a change and tell the moderator how it went; None when it was refused (nothing written)."""
    try:
        done: Done = await work
    except ChangedMeanwhile as exc:
        await report(interaction, "Changed meanwhile", f"{exc} Nothing of yours was written.", kind="error", view=retry)
        return None
    except EditError as exc:
        body = f"{exc}."
        if exc.problems:
            body += "\n\n" + problems_text(exc.problems)
        if retry is not None:
            body += "\n\nYour text is kept: **Edit again** reopens the form with it."
        await report(interaction, "Not changed", body, kind="error", view=retry)
        return None
    except StorageError as exc:
        log.error("knowledge change not recorded: %s", exc)
        await report(interaction, "Not changed", "I couldn't record the change in my database "
                     f"({quote_user_text(exc.kind, 20)}), so nothing was changed. Please try again later.", kind="error",
                     view=retry)
        return None
    await after_change(interaction, done)
    return done


# --- the entry form -------------------------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _list(text: str) -> list[str]:
    return [" ".join(part.split()) for part in re.split(r"[,\n]", text) if part.strip()]


def links_text(fields: dict[str, Any]) -> str:
    return "\n".join(f"{key}: {', '.join(fields.get(key) or [])}" for key in LINK_KEYS)


def parse_links(text: str) -> dict[str, list[str]]:
    """"resources: a, b" lines → {"resources": [a, b]}; "resources:" alone empties the list; a key left
    out stays as it is."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key in LINK_KEYS:
            out[key] = _list(value)
    return out


class EntryModal(SafeModal):
    """Title, phrasings, keywords, answer, and either links (entries) or the best way to learn (steps).
    Pre-filled with the current text for an edit, empty (or with a member's question) for a new entry."""

    def __init__(self, fields: dict[str, Any], *, topic_id: str | None, version: str | None, is_step: bool) -> None:
        super().__init__(title=(f"Edit {topic_id}" if topic_id else "New entry")[:45], timeout=TIMEOUT)
        self.topic_id, self.version, self.is_step = topic_id, version, is_step
        self.title_input = discord.ui.TextInput(label="Title", default=str(fields.get("title") or "")[:120], max_length=120)
        self.ask_input = discord.ui.TextInput(label="How people ask it (one phrasing per line)", style=discord.TextStyle.paragraph,
                                              default="\n".join(fields.get("ask") or [])[:4000], max_length=4000)
        self.keywords_input = discord.ui.TextInput(label="Keywords (comma-separated)", style=discord.TextStyle.paragraph,
                                                   default=", ".join(fields.get("keywords") or [])[:4000], max_length=4000,
                                                   required=False)
        self.answer_input = discord.ui.TextInput(label="Answer (your own words, at most 1,400 characters)",
                                                 style=discord.TextStyle.paragraph, default=str(fields.get("answer") or "")[:4000],
                                                 max_length=4000)
        if is_step:
            self.last_input = discord.ui.TextInput(label="Best way to learn it", style=discord.TextStyle.paragraph,
                                                   default=str(fields.get("best_way") or "")[:4000], max_length=4000)
        else:
            self.last_input = discord.ui.TextInput(label="Links by id (resources, related, sources)",
                                                   style=discord.TextStyle.paragraph, default=links_text(fields)[:4000],
                                                   max_length=4000, required=False)
        for item in (self.title_input, self.ask_input, self.keywords_input, self.answer_input, self.last_input):
            self.add_item(item)

    def submitted(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"title": self.title_input.value.strip(), "ask": _lines(self.ask_input.value),
                                  "keywords": _list(self.keywords_input.value), "answer": self.answer_input.value.strip()}
        if self.is_step:
            fields["best_way"] = self.last_input.value.strip()
        else:
            fields.update(parse_links(self.last_input.value))
        return fields

    def refill(self, fields: dict[str, Any], version: str | None) -> EntryModal:
        """The same form with the moderator's text, for "Edit again"."""
        merged = dict(fields)
        return EntryModal(merged, topic_id=self.topic_id, version=version, is_step=self.is_step)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        check_may_edit(interaction)
        bot: AdvisorBot = interaction.client  # type: ignore[assignment]
        fields = self.submitted()
        await interaction.response.defer(ephemeral=True, thinking=True)
        work = bot.editor.save_entry(fields, by_id=str(interaction.user.id), by_name=by_name(interaction.user),
                                     place=str(interaction.guild_id), original_id=self.topic_id, version=self.version)
        retry = RetryView(self, fields)
        done = await run_change(interaction, work, retry=retry)
        if done is None:
            return
        entry_id = self.topic_id or done.summary.removeprefix("added ")
        body = (f"Saved as change #{done.change.id} ({done.summary}), and answering from it now. "
                f"`/kb undo {done.change.id}` takes it back.")
        await report(interaction, "Saved", body, view=LinksView(entry_id) if self.is_step else None)



class RetryView(SafeView):
    """After a refused submit: reopen the form with the moderator's own text (and, after a change
    meanwhile, with the current version to compare)."""

    def __init__(self, modal: EntryModal, fields: dict[str, Any]) -> None:
        super().__init__(timeout=TIMEOUT)
        self.modal, self.fields = modal, fields

    @discord.ui.button(label="Edit again", style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        check_may_edit(interaction)
        bot: AdvisorBot = interaction.client  # type: ignore[assignment]
        version = self.modal.version
        if self.modal.topic_id:  # against the current version: the moderator has seen it changed
            current = await bot.editor.entry_fields(self.modal.topic_id, str(interaction.guild_id))
            version = current["version"] if current else None
        await interaction.response.send_modal(self.modal.refill(self.fields, version))

    @discord.ui.button(label="Open the current version", style=discord.ButtonStyle.secondary)
    async def current(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        check_may_edit(interaction)
        if not self.modal.topic_id:
            await report(interaction, "New entry", "There is no other version of a new entry.")
            return
        await open_editor(interaction, self.modal.topic_id)



async def open_editor(interaction: discord.Interaction, topic_id: str) -> None:
    """Answer with the entry form for `topic_id`, pre-filled with its current text."""
    bot: AdvisorBot = interaction.client  # type: ignore[assignment]
    fields = await bot.editor.entry_fields(topic_id, str(interaction.guild_id))
    if fields is None:
        await report(interaction, "No such topic", f"There is no topic `{quote_user_text(topic_id, 60)}`.", kind="error")
        return
    is_step = bot.advisor.knowledge.step(topic_id) is not None
    await interaction.response.send_modal(EntryModal(fields, topic_id=topic_id, version=fields["version"], is_step=is_step))


class LinksModal(SafeModal):
    def __init__(self, topic_id: str, fields: dict[str, Any], version: str) -> None:
        super().__init__(title=f"Links of {topic_id}"[:45], timeout=TIMEOUT)
        self.topic_id, self.version = topic_id, version
        self.links = discord.ui.TextInput(label="resources, related, sources (ids)", style=discord.TextStyle.paragraph,
                                          default=links_text(fields)[:4000], max_length=4000)
        self.add_item(self.links)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        check_may_edit(interaction)
        bot: AdvisorBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        work = bot.editor.save_entry(parse_links(self.links.value), by_id=str(interaction.user.id),
                                     by_name=by_name(interaction.user), place=str(interaction.guild_id),
                                     original_id=self.topic_id, version=self.version)
        done = await run_change(interaction, work)
        if done is not None:
            await report(interaction, "Saved", f"Links saved as change #{done.change.id}.")



class LinksView(SafeView):
    def __init__(self, topic_id: str) -> None:
        super().__init__(timeout=TIMEOUT)
        self.topic_id = topic_id

    @discord.ui.button(label="Edit links (resources, related, sources)", style=discord.ButtonStyle.secondary)
    async def edit_links(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        check_may_edit(interaction)
        bot: AdvisorBot = interaction.client  # type: ignore[assignment]
        fields = await bot.editor.entry_fields(self.topic_id, str(interaction.guild_id)) or {}
        await interaction.response.send_modal(LinksModal(self.topic_id, fields, fields.get("version", "")))



# --- gaps -----------------------------------------------------------------------------------------------

class GapsView(SafeView):
    """Under /kb gaps: pick a question to act on."""

    def __init__(self, questions: list[str]) -> None:
        super().__init__(timeout=TIMEOUT)
        options = [discord.SelectOption(label=f"{n}. {q}"[:100], value=str(n - 1)) for n, q in enumerate(questions[:25], 1)]
        self.questions = questions
        select = discord.ui.Select(placeholder="Pick a question to teach, answer or dismiss", options=options)
        select.callback = self.picked  # type: ignore[method-assign]
        self.select = select
        self.add_item(select)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return check_moderator(interaction)

    async def picked(self, interaction: discord.Interaction) -> None:
        question = self.questions[int(self.select.values[0])]
        body = (f"“{quote_user_text(question, 300)}”\n\n**Teach**: make it a phrasing of the topic that should have "
                "answered it. **Write an answer**: a new entry for it. **Dismiss**: hide it from the list.")
        await report(interaction, "What to do with this question", body, view=GapActions(question))



class GapActions(SafeView):
    def __init__(self, question: str) -> None:
        super().__init__(timeout=TIMEOUT)
        self.question = question

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return check_moderator(interaction)

    @discord.ui.button(label="Teach", style=discord.ButtonStyle.primary)
    async def teach(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        check_may_edit(interaction)
        bot: AdvisorBot = interaction.client  # type: ignore[assignment]
        kb = bot.advisor.knowledge
        nearest = kb.index.search(kb.normalizer.stems(self.question), limit=20, threshold=0.0)
        seen = {m.id for m in nearest}
        others = [t for t in bot.advisor.knowledge.topics.values() if t.id not in seen]
        choices = [(m.title, m.id) for m in nearest] + [(t.title, t.id) for t in others]
        body = ("Which topic should have answered it? The closest come first. Not in the list? `/kb teach` takes any "
                "topic, with autocomplete.")
        await report(interaction, "Teach", body, view=TeachView(self.question, choices[:25]))

    @discord.ui.button(label="Write an answer", style=discord.ButtonStyle.secondary)
    async def write(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        check_may_edit(interaction)
        await interaction.response.send_modal(EntryModal({"ask": [self.question]}, topic_id=None, version=None, is_step=False))

    @discord.ui.button(label="Dismiss", style=discord.ButtonStyle.danger)
    async def dismiss(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        bot: AdvisorBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)  # acknowledged before the database
        count = await bot.advisor.dismiss_gap(str(interaction.guild_id), self.question)
        await report(interaction, "Dismissed", f"Hidden from `/kb gaps` ({count} time(s) asked). If it's asked again, "
                                               "it comes back.")



class TeachView(SafeView):
    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(timeout=TIMEOUT)
        self.question = question
        select = discord.ui.Select(placeholder="The topic that should answer it",
                                   options=[discord.SelectOption(label=title[:100], value=topic) for title, topic in choices])
        select.callback = self.chosen  # type: ignore[method-assign]
        self.select = select
        self.add_item(select)

    async def chosen(self, interaction: discord.Interaction) -> None:
        await teach(interaction, self.question, self.select.values[0])



async def teach(interaction: discord.Interaction, question: str, topic_id: str) -> None:
    """Make `question` a phrasing of `topic_id`, then show that it is now answered by it."""
    check_may_edit(interaction)
    bot: AdvisorBot = interaction.client  # type: ignore[assignment]
    await interaction.response.defer(ephemeral=True, thinking=True)
    work = bot.editor.teach(question, topic_id, by_id=str(interaction.user.id), by_name=by_name(interaction.user),
                            place=str(interaction.guild_id))
    done = await run_change(interaction, work)
    if done is None:
        return
    matches, _ = bot.advisor.match(question)
    now = matches[0].title if matches else "nothing (still below the line: add more phrasings with /kb edit)"
    await report(interaction, "Taught", f"Change #{done.change.id}: {quote_user_text(done.summary, 200)}.\n"
                                        f"That question is now answered by: **{now}**.")
