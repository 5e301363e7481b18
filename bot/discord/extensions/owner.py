"""For the bot's owner (the application's owner in the Developer Portal, checked by the bot): /sync to
push the slash commands here or everywhere, /status to see how the running bot is doing — every process
of it: each one writes a heartbeat (shards, start, gateway latency, last problem) to the database every
HEARTBEAT_SECONDS, and /status lists them all — with memory, CPU, tasks and event-loop lag of the process
that answers, as RoboDanny's `bothealth`; /owner alerts to choose where problems are posted
(bot/discord/alerts.py); and /owner forget-user to erase one user's data on request (a data request by
email, say), after a confirmation."""

from __future__ import annotations

import logging
import time
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.core import health
from bot.core.format import code_lines
from bot.core.reply import Reply
from bot.core.storage import Heartbeat, StorageError
from bot.discord import render
from bot.discord.app import AdvisorBot, problems
from bot.discord.checks import Refused
from bot.discord.errors import SafeView

log = logging.getLogger("mle_advisor.owner")
HEARTBEAT_SECONDS = 15.0


class NotOwner(Refused):
    def __init__(self) -> None:
        super().__init__("Only the bot's owner can do that.")


async def _owner_only(interaction: discord.Interaction) -> bool:
    if not await interaction.client.is_owner(interaction.user):  # type: ignore[attr-defined]
        raise NotOwner
    return True


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h {rest // 60} min" if days else f"{hours} h {rest // 60} min"


def _process_line(beat: Heartbeat) -> str:
    shards = ",".join(map(str, beat.shards)) or "all"
    latency = f"{beat.latency_ms:.0f} ms" if beat.latency_ms is not None else "not connected"
    state = "" if beat.seen_ago < 3 * HEARTBEAT_SECONDS else f" · **silent for {_duration(beat.seen_ago)}**"
    error = f" · last problem: {beat.last_error[:120]}" if beat.last_error else ""
    return (f"`{beat.process}` shards {shards} · up {_duration(time.time() - beat.started_at)} · {latency}"
            f"{state}{error}")


class ConfirmErase(SafeView):
    """The owner's confirmation before erasing someone else's data; only the owner can press it."""

    def __init__(self, user_id: str) -> None:
        super().__init__(timeout=300)
        self.user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await _owner_only(interaction)

    @discord.ui.button(label="Erase everywhere", style=discord.ButtonStyle.danger)
    async def erase(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()
        bot: AdvisorBot = interaction.client  # type: ignore[assignment]
        before = await bot.storage.rows_about(self.user_id)
        await bot.advisor.forget(self.user_id)  # what the member's own /forget-me → Everywhere does
        log.info("owner %s erased the data of user %s", interaction.user.id, self.user_id)
        await interaction.edit_original_response(content=f"Erased user {self.user_id}: {before} record(s), in every "
                                                 "server and in DMs.", view=None)
        self.stop()

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="Kept everything: nothing was erased.", view=None)
        self.stop()


class Owner(commands.Cog):
    owner = app_commands.Group(name="owner", description="Owner: alerts and data requests",
                               default_permissions=discord.Permissions(administrator=True))

    def __init__(self, bot: AdvisorBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.heartbeat.start()
        self.disconnect_watch.start()

    async def cog_unload(self) -> None:
        self.heartbeat.cancel()
        self.disconnect_watch.cancel()

    @tasks.loop(seconds=30)
    async def disconnect_watch(self) -> None:
        try:
            await self.bot.check_disconnect()
        except Exception as exc:  # the watch must go on
            log.warning("the disconnect watch hit a problem: %s", type(exc).__name__)

    @owner.command(name="alerts", description="Owner: the channel where problems are posted (none: back to ALERT_CHANNEL_ID)")
    @app_commands.describe(channel="A channel only you (and whom you trust) can read")
    @app_commands.check(_owner_only)
    async def alerts(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.alerts.choose(channel.id if channel else None, str(interaction.user.id))
        chosen = await self.bot.alerts.channel_id()
        where = f"<#{chosen}>" if chosen else "nowhere (no channel chosen and ALERT_CHANNEL_ID unset)"
        await interaction.followup.send(f"Saved: alerts go to {where}: one message per incident (a failed knowledge "
                                        "reload, database errors, a long disconnect), a few per hour at most.",
                                        ephemeral=True, allowed_mentions=render.NO_MENTIONS)

    @owner.command(name="forget-user", description="Owner: erase everything stored about one user, by id")
    @app_commands.describe(user_id="The user's Discord id (Developer Mode: right-click → Copy User ID)")
    @app_commands.check(_owner_only)
    async def forget_user(self, interaction: discord.Interaction, user_id: str) -> None:
        user_id = user_id.strip()
        if not user_id.isdigit() or len(user_id) > 20:
            await interaction.response.send_message("That isn't a Discord user id (digits only).", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        rows = await self.bot.storage.rows_about(user_id)
        if not rows:
            await interaction.followup.send(f"I store nothing about user {user_id}.", ephemeral=True)
            return
        await interaction.followup.send(f"User {user_id}: {rows} record(s) stored (background, progress, questions, "
                                        "feedback, context). Erase them in every server and in DMs? This can't be undone.",
                                        view=ConfirmErase(user_id), ephemeral=True)

    @tasks.loop(seconds=HEARTBEAT_SECONDS)
    async def heartbeat(self) -> None:
        bot = self.bot
        latency = bot.latency * 1000 if bot.latency == bot.latency and bot.latency != float("inf") else None
        shards = bot.settings.my_shards if bot.settings.sharded else []
        try:
            await bot.storage.beat(bot.process_name, shards, bot.started_at, latency,
                                   problems.lines[-1] if problems.lines else "")
        except StorageError as exc:
            log.warning("could not write this process's heartbeat: %s", exc)

    @app_commands.command(name="sync", description="Owner: register the slash commands here or globally")
    @app_commands.describe(scope="here: this server, now; global: every server (can take an hour)")
    @app_commands.default_permissions(administrator=True)
    @app_commands.check(_owner_only)
    async def sync(self, interaction: discord.Interaction, scope: Literal["here", "global"] = "here") -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if scope == "here":
            if interaction.guild is None:
                raise app_commands.NoPrivateMessage
            self.bot.tree.copy_global_to(guild=interaction.guild)
            synced = await self.bot.tree.sync(guild=interaction.guild)
        else:
            synced = await self.bot.tree.sync()
        await interaction.followup.send(f"Synced {len(synced)} commands ({scope}).", ephemeral=True)

    @app_commands.command(name="status", description="Owner: how the running bot is doing")
    @app_commands.default_permissions(administrator=True)
    @app_commands.check(_owner_only)
    async def status(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        kb = bot.advisor.knowledge
        latency = bot.latency * 1000 if bot.latency == bot.latency else float("nan")  # NaN before the first heartbeat
        reload = f"<t:{int(bot.last_reload)}:R>" if bot.last_reload else "not since start"
        channel = await bot.alerts.channel_id()
        problem = ("\n**The last knowledge reload failed**: still answering from the previous knowledge."
                   if bot.advisor.last_reload_error else "")
        lines = [
            f"**Up for** {_duration(time.time() - bot.started_at)} · **gateway latency** {latency:.0f} ms",
            f"**Servers** {len(bot.guilds)} · **message content intent** {'on' if bot.intents.message_content else 'off'}",
            f"**Knowledge** {', '.join(f'{n} {k}' for k, n in kb.counts().items())}; "
            f"{sum(1 for o in kb.overrides.values() if o.body is not None)} item(s) edited by moderators; "
            f"last reload {reload}{problem}",
            f"**Database** {bot.storage.where} · {bot.storage.size_bytes() / 2**20:.1f} MiB",
            *health.figures(bot.loop_lag, bot.cpu),
            f"**Alerts** to {f'<#{channel}>' if channel else 'nowhere (`/owner alerts` chooses a channel)'}; "
            f"open: {', '.join(bot.alerts.incidents.current()) or 'none'}",
        ]
        if bot.settings.sharded:
            try:
                beats = await bot.storage.heartbeats()
            except StorageError as exc:
                beats, lines = [], [*lines, f"**Processes**: cannot read the heartbeats ({exc})"]
            if beats:
                lines.append(f"**Processes** ({len(beats)}; {bot.settings.shard_count} shards in all):")
                lines.extend(f"• {_process_line(b)}" for b in beats)
        lines.append("**Last problems logged**:")
        lines.append(code_lines(list(problems.lines)) if problems.lines else "none")
        await render.send(interaction, Reply("Status", "\n".join(lines), kind="info"), ephemeral=True)


async def setup(bot: AdvisorBot) -> None:
    await bot.add_cog(Owner(bot))
