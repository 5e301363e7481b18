"""Buttons that survive restarts.

Each is a DynamicItem: its custom id carries what it needs ("mle:fb:42:1a2b3c4d:1" = 👍 on question 42,
checked by its token), so the bot, registering these classes at start (`add_dynamic_items`), can answer a
click on a message it sent days ago. Replies to clicks are ephemeral: they concern the person who
clicked. A failure (the database is down) is answered like a slash command's (errors.py), never silence.
Every button that uses the database acknowledges the click first, so Discord hears back within its 3 s
whatever the database does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.core.storage import QuestionRef
from bot.discord import checks, errors, where

if TYPE_CHECKING:
    from bot.core.advisor import Advisor


ItemT = TypeVar("ItemT")


def answered(callback: Callable[[ItemT, discord.Interaction], Awaitable[None]]) -> Callable[[ItemT, discord.Interaction], Awaitable[None]]:
    """A button's callback whose failure the member hears about (discord.py would only log it)."""

    @functools.wraps(callback)
    async def run(self: ItemT, interaction: discord.Interaction) -> None:
        try:
            await callback(self, interaction)
        except Exception as exc:
            await errors.answer(interaction, exc)

    return run


def _advisor(interaction: discord.Interaction) -> Advisor:
    return interaction.client.advisor  # type: ignore[attr-defined]


async def _send(interaction: discord.Interaction, reply: Any) -> None:
    from bot.discord import render  # render builds these buttons; importing it here avoids a cycle

    await render.send(interaction, reply, ephemeral=True)


def _emoji(text: str) -> dict[str, Any]:
    return discord.PartialEmoji.from_str(text).to_dict()  # type: ignore[return-value]


UP, DOWN, NEXT, BIN, TICK = (_emoji(e) for e in ("👍", "👎", "➡️", "🗑️", "✅"))


def _payload(custom_id: str, style: discord.ButtonStyle, *, emoji: dict[str, Any] | None = None,
             label: str | None = None) -> dict[str, Any]:
    """One button as Discord's component payload, as discord.py writes it for a Button."""
    payload: dict[str, Any] = {"type": 2, "style": style.value, "disabled": False, "custom_id": custom_id}
    if label is not None:
        payload["label"] = label
    if emoji is not None:
        payload["emoji"] = emoji
    return payload


def _button(payload: dict[str, Any]) -> discord.ui.Button:
    """The discord.py Button of a payload: what a click on it is answered through (from_custom_id)."""
    emoji = payload.get("emoji")
    return discord.ui.Button(style=discord.ButtonStyle(payload["style"]), custom_id=payload["custom_id"],
                             label=payload.get("label"), emoji=discord.PartialEmoji.from_dict(emoji) if emoji else None)


class Feedback(discord.ui.DynamicItem[discord.ui.Button], template=r"mle:fb:(?P<question>\d+):(?P<token>[0-9a-f]{8}):(?P<helpful>[01])"):
    """👍/👎 under an answer. The custom id carries the question and a check token, so a click can only
    ever rate the question this button was made for, even after restarts and deletions."""

    def __init__(self, question: int, token: str, helpful: bool) -> None:
        super().__init__(_button(self.payload(question, token, helpful)))
        self.question, self.token, self.helpful = question, token, helpful

    @staticmethod
    def payload(question: int, token: str, helpful: bool) -> dict[str, Any]:
        return _payload(f"mle:fb:{question}:{token}:{int(helpful)}", discord.ButtonStyle.secondary, emoji=UP if helpful else DOWN)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> Feedback:
        return cls(int(match["question"]), match["token"], match["helpful"] == "1")

    @answered
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # acknowledged before the database
        ref = QuestionRef(self.question, self.token)
        stored = await _advisor(interaction).feedback(ref, str(interaction.user.id), self.helpful)
        if not stored:
            text = "That question is no longer stored (it may have been forgotten), so there's nothing to rate."
        elif self.helpful:
            text = "Thanks! Glad it helped."
        else:
            text = "Thanks for telling me. Moderators see answers that didn't help, so they can improve them."
        await interaction.followup.send(text, ephemeral=True)


class OldFeedback(discord.ui.DynamicItem[discord.ui.Button], template=r"mle:fb:(?P<question>\d+):(?P<helpful>[01])"):
    """A 👍/👎 button from before rating buttons carried a check: it can't be trusted to name the right
    question any more, so it says so instead of rating anything."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(emoji="👍", custom_id=custom_id))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> OldFeedback:
        return cls(item.custom_id or "mle:fb:0:0")

    @answered
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("This button is from an older version of me and can't rate anything "
                                                "now. Ask again to get fresh buttons.", ephemeral=True)


class ShowTopic(discord.ui.DynamicItem[discord.ui.Button], template=r"mle:topic:(?P<topic>[a-z0-9-]+)"):
    """A "did you mean" choice: shows that topic to whoever clicks."""

    def __init__(self, topic: str, label: str = "Show this topic") -> None:
        super().__init__(_button(self.payload(topic, label)))
        self.topic = topic

    @staticmethod
    def payload(topic: str, label: str) -> dict[str, Any]:
        return _payload(f"mle:topic:{topic}", discord.ButtonStyle.primary, label=label[:80])

    @classmethod
    def offer(cls, topic: str, title: str) -> dict[str, Any]:
        """The button under an answer offering another topic."""
        return cls.payload(topic, f"Did you mean: {title}")

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> ShowTopic:
        return cls(match["topic"], item.label or "Show this topic")

    @answered
    async def callback(self, interaction: discord.Interaction) -> None:
        place = where.of_interaction(interaction, public=False)
        await interaction.response.defer(ephemeral=True, thinking=True)  # acknowledged before the database
        await _send(interaction, await _advisor(interaction).show_topic(str(interaction.user.id), self.topic, place))


class ShowStep(discord.ui.DynamicItem[discord.ui.Button], template=r"mle:step:(?P<step>[a-z0-9-]+)"):
    """"Next step": shows how to learn the step after the one on screen."""

    def __init__(self, step: str) -> None:
        super().__init__(_button(self.payload(step)))
        self.step = step

    @staticmethod
    def payload(step: str) -> dict[str, Any]:
        return _payload(f"mle:step:{step}", discord.ButtonStyle.success, emoji=NEXT, label="Next step")

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> ShowStep:
        return cls(match["step"])

    @answered
    async def callback(self, interaction: discord.Interaction) -> None:
        await _send(interaction, _advisor(interaction).step_reply(self.step))


class ConfirmForget(discord.ui.DynamicItem[discord.ui.Button],
                    template=r"mle:forget:(?P<user>\d+):(?P<yes>[01])(?::(?P<place>\d+|dm))?"):
    """/forget-me's confirmation: only the member who asked can press it. With a place (a server id, or
    "dm"), only that place is forgotten; without one, everywhere (buttons from before the choice existed
    meant everywhere too)."""

    def __init__(self, user: int, yes: bool, place: str | None = None) -> None:
        if not yes:
            label = "Cancel"
        elif place is None:
            label = "Everywhere"
        else:
            label = "Only our DMs" if place == "dm" else "Only this server"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.danger if yes else discord.ButtonStyle.secondary,
                custom_id=f"mle:forget:{user}:{int(yes)}" + (f":{place}" if yes and place else ""),
            )
        )
        self.user, self.yes, self.place = user, yes, place

    @classmethod
    def prompt(cls, user: int, place: str | None = None) -> discord.ui.View:
        return buttons([*([cls(user, True, place)] if place is not None else []), cls(user, True), cls(user, False)])

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> ConfirmForget:
        return cls(int(match["user"]), match["yes"] == "1", match["place"])

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user:
            await interaction.response.send_message("This button is for the member who asked to be forgotten.", ephemeral=True)
            return False
        return True

    @answered
    async def callback(self, interaction: discord.Interaction) -> None:
        if not self.yes:
            await interaction.response.edit_message(content="Kept everything: nothing was erased.", view=None)
            return
        # Acknowledged before the database: erasing may wait for another program's lock, and Discord
        # shows "interaction failed" after 3 s even when the erasing then succeeds.
        await interaction.response.defer()  # for a button: "I'll update this message"
        reply = await _advisor(interaction).forget(str(interaction.user.id), place=self.place)
        await interaction.edit_original_response(content=reply.body, view=None)


def _may_act_for(interaction: discord.Interaction, member_id: int) -> bool:
    """The member a message is about, or a moderator of the server it is in (checked by id)."""
    if interaction.user.id == member_id:
        return True
    user = interaction.user
    if interaction.guild_id is None or not isinstance(user, discord.Member) or user.guild.id != interaction.guild_id:
        return False
    return checks.is_moderator(user, checks.moderator_role(interaction))


class DeleteAnswer(discord.ui.DynamicItem[discord.ui.Button], template=r"mle:del:(?P<owner>\d+)"):
    """🗑 under a public answer: the member it answered, or a moderator, can delete it (as python-discord's
    bot does). Anyone else is told so and nothing happens."""

    def __init__(self, owner: int) -> None:
        super().__init__(_button(self.payload(owner)))
        self.owner = owner

    @staticmethod
    def payload(owner: int) -> dict[str, Any]:
        return _payload(f"mle:del:{owner}", discord.ButtonStyle.secondary, emoji=BIN)

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> DeleteAnswer:
        return cls(int(match["owner"]))

    @answered
    async def callback(self, interaction: discord.Interaction) -> None:
        if not _may_act_for(interaction, self.owner):
            await interaction.response.send_message("Only the member this answered, or a moderator, can delete it.",
                                                    ephemeral=True)
            return
        await interaction.response.defer()  # acknowledged at once; then the message the button is on goes
        await interaction.delete_original_response()


SOLVED_TAGS = ("solved", "resolved", "answered", "✅")
"""A forum tag with one of these names (any case) is applied to a post marked solved."""


async def close_post(thread: discord.Thread, *, solved: bool, reason: str) -> bool:
    """Tag a forum post (when solved and the forum has a "Solved" tag), then archive and lock it, as
    Discord's own "Close post" does. False when the bot may not (it needs Manage Threads)."""
    tags = list(thread.applied_tags)
    parent = thread.parent
    if solved and isinstance(parent, discord.ForumChannel):
        tag = next((t for t in parent.available_tags if t.name.strip().lower() in SOLVED_TAGS), None)
        if tag is not None and tag not in tags:
            tags = [*tags, tag][:5]  # Discord allows five tags on a post
    try:
        await thread.edit(archived=True, locked=True, applied_tags=tags, reason=reason)
        return True
    except discord.Forbidden:
        return False


class Solved(discord.ui.DynamicItem[discord.ui.Button], template=r"mle:solved:(?P<author>\d+)"):
    """"Solved" under the bot's answer to a forum post: the post's author, or a moderator, marks the post
    solved, which tags it (when the forum has a "Solved" tag) and closes it."""

    def __init__(self, author: int) -> None:
        super().__init__(_button(self.payload(author)))
        self.author = author

    @staticmethod
    def payload(author: int) -> dict[str, Any]:
        return _payload(f"mle:solved:{author}", discord.ButtonStyle.success, emoji=TICK, label="Solved")

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]) -> Solved:
        return cls(int(match["author"]))

    @answered
    async def callback(self, interaction: discord.Interaction) -> None:
        if not _may_act_for(interaction, self.author):
            await interaction.response.send_message("Only the post's author, or a moderator, can mark it solved.",
                                                    ephemeral=True)
            return
        thread = interaction.channel
        if not isinstance(thread, discord.Thread) and interaction.channel_id is not None:
            thread = await interaction.client.fetch_channel(interaction.channel_id)  # type: ignore[assignment]
        if not isinstance(thread, discord.Thread):
            await interaction.response.send_message("This isn't a forum post, so there's nothing to close.", ephemeral=True)
            return
        await interaction.response.send_message(f"Marked solved by {interaction.user.mention}: closing this post. "
                                                "Write in it to open it again.", allowed_mentions=discord.AllowedMentions.none())
        if not await close_post(thread, solved=True, reason=f"marked solved by {interaction.user.id}"):
            await interaction.followup.send("I couldn't close it: I need the Manage Threads permission in this forum.",
                                            ephemeral=True)


def buttons(items: list[discord.ui.Item]) -> discord.ui.View:
    """A message's view of these buttons, already stopped: a click reaches them through their custom id
    alone (PERSISTENT_ITEMS, registered once at start), so discord.py need not keep each message's view.
    A live one it keeps per message sent, an ephemeral one with a 15-minute timer task each: thousands
    of objects an hour for nothing, which the cycle collector then has to walk."""
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


class Buttons(discord.ui.View):
    """A message's buttons, given as Discord's payload (each class's `payload`): what `buttons` sends for
    the same items, without building a discord.py item (a Button, its emoji, its component) per button
    and a view around them for every answer. Stopped, with nothing for discord.py to keep: clicks reach
    PERSISTENT_ITEMS through the custom ids alone. In rows of five, as discord.py lays them out."""

    def __init__(self, payloads: list[dict[str, Any]]) -> None:
        super().__init__(timeout=None)
        self.rows = [{"type": 1, "components": payloads[i:i + 5]} for i in range(0, len(payloads), 5)]
        self.stop()

    def to_components(self) -> list[dict[str, Any]]:
        return self.rows


PERSISTENT_ITEMS = (Feedback, OldFeedback, ShowTopic, ShowStep, ConfirmForget, DeleteAnswer, Solved)
