"""The roadmap's slash commands: /ask /roadmap /step /next /done /undo /background /topics /resources
/help /about.

Each one parses the interaction, calls the advisor, and hands the Reply to the renderer. Commands that
touch the database answer in one response when the reply is ready within a second, and are
acknowledged first otherwise, so Discord always gets its acknowledgement inside 3 seconds
(render.answer). Answers about the member's own data are ephemeral.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.advisor import Advisor
from bot.core.place import Place
from bot.core.reply import Reply
from bot.discord import errors, render, where
from bot.discord.app import AdvisorBot
from bot.discord.checks import autocomplete_allowed, rate_limit


def _user(interaction: discord.Interaction) -> str:
    return str(interaction.user.id)


def _private_place(interaction: discord.Interaction) -> Place:
    return where.of_interaction(interaction, public=False)


async def _private(interaction: discord.Interaction, reply: Awaitable[Reply]) -> None:
    """The reply about the member's own data, ephemeral (acknowledged first if it is slow)."""
    await render.answer(interaction, reply, ephemeral=True)


class Advice(commands.Cog):
    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    @property
    def advisor(self) -> Advisor:  # the current one: its knowledge may be reloaded
        return self.bot.advisor

    # --- autocomplete -------------------------------------------------------------------------

    # Each costs a small part of the member's question allowance (nothing once it is used up: no
    # suggestions until it refills) and matches off the event loop (Advisor.complete).

    async def step_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if not autocomplete_allowed(interaction):
            return []
        return render.choices(await self.advisor.complete("step", current))

    async def done_step_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """For /undo: the steps this member has ticked off, then the others."""
        if not autocomplete_allowed(interaction):
            return []
        done = await errors.or_default(self.advisor.storage.done_steps(_private_place(interaction).id, _user(interaction)),
                                       set())
        pairs = await self.advisor.complete("step", current)
        return render.choices([p for p in pairs if p[1] in done] + [p for p in pairs if p[1] not in done])

    async def topic_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if not autocomplete_allowed(interaction):
            return []
        return render.choices(await self.advisor.complete("topic", current))

    async def background_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if not autocomplete_allowed(interaction):
            return []
        current = current[:100]
        pairs = self.advisor.background_choices()
        needle = current.lower().strip()
        found = [(name, bid) for name, bid in pairs if needle in name.lower() or needle in bid] if needle else pairs
        return render.choices(found or pairs)

    # --- commands -----------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask anything about becoming an ML engineer")
    @app_commands.describe(question="Your question, in your own words")
    @app_commands.check(rate_limit)
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000]) -> None:
        await render.answer(interaction, self.advisor.ask(_user(interaction), question, where.of_interaction(interaction)),
                            owner=interaction.user.id)

    @app_commands.command(name="roadmap", description="The route to ML engineer, with your progress ticked")
    @app_commands.describe(background="Show the route from this starting point (default: the one you told me)")
    @app_commands.autocomplete(background=background_names)
    async def roadmap(self, interaction: discord.Interaction, background: str | None = None) -> None:
        await _private(interaction, self.advisor.roadmap(_user(interaction), _private_place(interaction), background))

    @app_commands.command(name="step", description="How to learn one roadmap step: best way, books, courses")
    @app_commands.describe(name="The step, by name or in your words (\"python\", \"maths\")")
    @app_commands.autocomplete(name=step_names)
    @app_commands.check(rate_limit)
    async def step(self, interaction: discord.Interaction, name: str) -> None:
        if self.advisor.named_step(name) is not None:  # the id autocomplete sends: no matching, answered at once
            await render.send(interaction, self.advisor.step_reply(name), ephemeral=False, owner=interaction.user.id)
            return
        await render.answer(interaction, asyncio.to_thread(self.advisor.step_reply, name),  # matching, off the event loop
                            ephemeral=False, owner=interaction.user.id)

    @app_commands.command(name="next", description="Your next step on your route")
    async def next_(self, interaction: discord.Interaction) -> None:
        await _private(interaction, self.advisor.next_step(_user(interaction), _private_place(interaction)))

    @app_commands.command(name="done", description="Mark a roadmap step as done")
    @app_commands.describe(step="The step you finished")
    @app_commands.autocomplete(step=step_names)
    async def done(self, interaction: discord.Interaction, step: str) -> None:
        await _private(interaction, self.advisor.mark_done(_user(interaction), step, place=_private_place(interaction)))

    @app_commands.command(name="undo", description="Take back a step you marked as done")
    @app_commands.describe(step="The step to mark as not done")
    @app_commands.autocomplete(step=done_step_names)
    async def undo(self, interaction: discord.Interaction, step: str) -> None:
        await _private(interaction, self.advisor.mark_done(_user(interaction), step, done=False,
                                                           place=_private_place(interaction)))

    background = app_commands.Group(name="background", description="Where you start from: it shapes my answers")

    @background.command(name="set", description="Tell me where you start from (only you see this)")
    @app_commands.describe(value="Pick one, or say it in your words (\"I studied physics\")")
    @app_commands.autocomplete(value=background_names)
    async def background_set(self, interaction: discord.Interaction, value: app_commands.Range[str, 1, 300]) -> None:
        await _private(interaction, self.advisor.set_background(_user(interaction), value, _private_place(interaction)))

    @background.command(name="show", description="What I remember about where you start from")
    async def background_show(self, interaction: discord.Interaction) -> None:
        await _private(interaction, self.advisor.show_background(_user(interaction), _private_place(interaction)))

    @background.command(name="clear", description="Forget where you start from")
    async def background_clear(self, interaction: discord.Interaction) -> None:
        await _private(interaction, self.advisor.clear_background(_user(interaction), _private_place(interaction)))

    @app_commands.command(name="topics", description="What I can help with")
    async def topics(self, interaction: discord.Interaction) -> None:
        await render.send(interaction, self.advisor.topics(), ephemeral=True)

    @app_commands.command(name="resources", description="Books, courses and sites for a topic")
    @app_commands.describe(topic="The topic or step, by name or in your words (\"nlp\")")
    @app_commands.autocomplete(topic=topic_names)
    @app_commands.check(rate_limit)
    async def resources(self, interaction: discord.Interaction, topic: str) -> None:
        await render.answer(interaction, asyncio.to_thread(self.advisor.resources_reply, topic),  # matching, off the event loop
                            ephemeral=False, owner=interaction.user.id)

    @app_commands.command(name="help", description="What I can do and how to ask me")
    async def help(self, interaction: discord.Interaction) -> None:
        await render.send(interaction, self.advisor.help_reply(), ephemeral=True)

    @app_commands.command(name="about", description="Who made me and which guides my advice comes from")
    async def about(self, interaction: discord.Interaction) -> None:
        await render.send(interaction, self.advisor.about(), ephemeral=True)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Advice(bot))
