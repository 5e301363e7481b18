"""The one place a Reply becomes a Discord message: an embed within Discord's limits, plus buttons.

Limits (Discord's): embed title 256, description 4,096, field 1,024, 25 fields, 6,000 in all; footer
2,048. The advisor's answers already fit one 2,000-character message; this enforces the embed limits
for anything that reaches it, so a moderator's long edit can never make a send fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import discord

from bot.core.reply import Reply
from bot.discord import views
from bot.discord.mentions import NO_MENTIONS  # used here, and by callers as render.NO_MENTIONS

TITLE, DESCRIPTION, FOOTER, FIELD, FIELDS, TOTAL = 256, 4096, 2048, 1024, 25, 6000
MAX_AUTOCOMPLETE, CHOICE_NAME = 25, 100

COLOURS = {
    "answer": discord.Colour.blurple(),
    "statement": discord.Colour.green(),
    "info": discord.Colour.teal(),
    "unknown": discord.Colour.orange(),
    "error": discord.Colour.red(),
}



def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def embed_for(reply: Reply) -> discord.Embed:
    title = clip(reply.title, TITLE)
    footer = clip(reply.credit, FOOTER) if reply.credit else ""
    room = TOTAL - len(title) - len(footer)
    embed = discord.Embed(title=title, description=clip(reply.body, min(DESCRIPTION, room)), colour=COLOURS.get(reply.kind))
    if footer:
        embed.set_footer(text=footer)
    return embed


def view_for(reply: Reply, *, owner: int | None = None, solved_by: int | None = None) -> discord.ui.View | None:
    """Buttons that keep working after a restart: their custom ids carry everything they need. `owner`: the
    member a public answer answered, who (or a moderator) may delete it with 🗑; `solved_by`: the author
    of the forum post it answers, who (or a moderator) may mark the post solved."""
    buttons: list[dict] = []
    if reply.question_id and reply.question_token and reply.kind in ("answer", "statement"):
        buttons += [views.Feedback.payload(reply.question_id, reply.question_token, True),
                    views.Feedback.payload(reply.question_id, reply.question_token, False)]
    for match in reply.did_you_mean[:3]:
        buttons.append(views.ShowTopic.offer(match.id, match.title))
    if reply.next_step:
        buttons.append(views.ShowStep.payload(reply.next_step))
    if solved_by is not None:
        buttons.append(views.Solved.payload(solved_by))
    if owner is not None:
        buttons.append(views.DeleteAnswer.payload(owner))
    if not buttons:
        return None
    return views.Buttons(buttons[:FIELDS])


def message_kwargs(reply: Reply, *, owner: int | None = None, solved_by: int | None = None) -> dict:
    kwargs: dict = {"embed": embed_for(reply), "allowed_mentions": NO_MENTIONS}
    view = view_for(reply, owner=owner, solved_by=solved_by)
    if view is not None:
        kwargs["view"] = view
    return kwargs


DEFER_AFTER = 1.0
"""Seconds a reply may take before the interaction is acknowledged first (Discord waits 3 s at most): a
reply ready sooner goes out as the one response, one request to Discord instead of two."""


async def answer(interaction: discord.Interaction, work: Awaitable[Reply], *, ephemeral: bool | None = None,
                 owner: int | None = None) -> None:
    """Answer with the Reply `work` gives, in one response when it is ready within DEFER_AFTER; else
    acknowledge ("thinking…", ephemeral when `ephemeral` is True) and follow up. A private reply to a
    public acknowledgement replaces it with a message only the member sees.

    A timer, not asyncio.wait_for: most replies are ready in a few milliseconds, and wait_for with the
    shield and the task it needs cost about as much as the rest of the adapter's own work together."""
    loop = asyncio.get_running_loop()
    acknowledging: list[asyncio.Task[None]] = []

    def acknowledge() -> None:  # DEFER_AFTER passed and the reply is not ready: "thinking…" meanwhile
        acknowledging.append(loop.create_task(interaction.response.defer(ephemeral=bool(ephemeral), thinking=True)))

    timer = loop.call_later(DEFER_AFTER, acknowledge)
    try:
        reply = await work
    finally:
        timer.cancel()
        if acknowledging:  # whatever comes next (the reply, or the error handler's line) follows it
            await acknowledging[0]
    if acknowledging and reply.private and not ephemeral:  # about what the member told me privately: for their eyes only
        await interaction.delete_original_response()
    await send(interaction, reply, ephemeral=ephemeral, owner=owner)


async def send(interaction: discord.Interaction, reply: Reply, *, ephemeral: bool | None = None,
               owner: int | None = None) -> None:
    """Answer an interaction with `reply`, whether or not it was deferred. Private replies are ephemeral;
    a public one gets 🗑 for `owner` (the member it answers) and moderators."""
    private = reply.private if ephemeral is None else ephemeral
    kwargs = message_kwargs(reply, owner=None if private else owner)
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=private, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=private, **kwargs)


def choices(pairs: list[tuple[str, str]]) -> list[discord.app_commands.Choice[str]]:
    """Autocomplete choices within Discord's limits: 25 of them, names and values ≤ 100 characters."""
    return [discord.app_commands.Choice(name=clip(name, CHOICE_NAME), value=value[:CHOICE_NAME])
            for name, value in pairs[:MAX_AUTOCOMPLETE]]
