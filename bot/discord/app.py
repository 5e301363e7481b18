"""The Discord bot: a thin adapter around the advisor.

Start-up (`setup_hook`): open the database, load the knowledge, build the Advisor, load each feature
module from `bot/discord/extensions/`, register the persistent buttons, and sync the slash commands to
DEV_GUILD_ID if set. Global sync is never automatic: `mle-advisor sync` or the owner's /sync.
Every slash-command error goes through one handler that answers ephemerally and logs without payloads.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.advisor import Advisor
from bot.core.config import ServerConfig, ServerSettings
from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.ratelimit import RateLimiter
from bot.core.storage import Storage, StorageError
from bot.discord import views
from bot.discord.checks import Refused
from bot.discord.render import NO_MENTIONS
from bot.settings import Settings

log = logging.getLogger("mle_advisor")

EXTENSIONS = (
    "bot.discord.extensions.conversation",
    "bot.discord.extensions.advice",
    "bot.discord.extensions.privacy",
    "bot.discord.extensions.moderation",
    "bot.discord.extensions.owner",
)


class StartupError(Exception):
    """Something the person running the bot must fix: printed as one line, exit status 2."""


class AdvisorBot(commands.Bot):
    advisor: Advisor

    def __init__(self, settings: Settings, **options: object) -> None:
        # This bot has no voice features: no warnings about voice libraries it will never need.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        # Privileged: only asked for when the server wants whole channels answered (see README).
        intents.message_content = bool(settings.answer_channel_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            **options,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.storage = Storage(settings.database_path)
        self.servers = ServerSettings(default_server_config(settings), self.storage)
        self.rate_limiter = RateLimiter()
        self.tree.on_error = self.on_app_command_error  # the one error handler for every slash command

    async def setup_hook(self) -> None:
        try:
            await self.storage.open(verify=True)
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        try:
            await self.servers.load()
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        edits = self.settings.edits_dir()
        try:
            knowledge = await asyncio.to_thread(load_knowledge, self.settings.knowledge_dir, overlay=edits)
        except KnowledgeError as exc:
            raise StartupError(f"the knowledge in {self.settings.knowledge_dir} has problems:\n{exc}") from None
        self.advisor = Advisor(knowledge, self.storage, context_minutes=self.settings.context_minutes)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*views.PERSISTENT_ITEMS)
        if self.settings.dev_guild_id:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to the dev server %s", len(synced), self.settings.dev_guild_id)
        log.info("knowledge loaded: %s", ", ".join(f"{n} {k}" for k, n in knowledge.counts().items()))

    def rate_limited(self, guild_id: int | None, user_id: int) -> float:
        """0 if the member may ask a question now (and counts it), else seconds to wait. One bucket per
        member and server for mentions, answer channels, /ask and the message menu."""
        config = self.server_config(guild_id)
        place = str(guild_id) if guild_id is not None else "dm"
        return self.rate_limiter.retry_after(place, str(user_id), config.question_rate, config.question_per)

    def server_config(self, guild_id: int | None) -> ServerConfig:
        """This server's settings: what its admins set with /config, else the .env defaults."""
        return self.servers.get(guild_id)

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands here: messages are answered by the conversation extension alone (the default
        would parse "@bot how do I…" as a command named "how" and log an error for every mention)."""

    async def on_ready(self) -> None:
        log.info("connected as %s (id %s) to %d server(s)", self.user, getattr(self.user, "id", "?"), len(self.guilds))

    async def close(self) -> None:
        await super().close()
        await self.storage.close()

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(error, app_commands.CommandOnCooldown):
            text = f"Easy there: you can ask again in {error.retry_after:.0f} s."
        elif isinstance(error, Refused):
            text = str(error)
        elif isinstance(error, app_commands.NoPrivateMessage):
            text = "That command only works in a server, not in DMs."
        elif isinstance(error, app_commands.CheckFailure):
            text = "You're not allowed to use that command here."
        elif isinstance(original, StorageError):
            log.error("database problem in /%s: %s", _command_name(interaction), original)
            text = "I can't reach my database right now, so nothing was saved. The server's moderators can see the log."
        else:
            log.error("error in /%s (user %s)", _command_name(interaction), interaction.user.id,
                      exc_info=(type(original), original, original.__traceback__))
            text = "Something went wrong on my side; it's been logged. Please try again in a moment."
        await _answer_ephemerally(interaction, text)


def default_server_config(settings: Settings) -> ServerConfig:
    return ServerConfig(
        answer_channel_ids=frozenset(settings.answer_channel_ids),
        moderator_role_id=settings.moderator_role_id,
        question_rate=settings.question_rate,
        question_per=settings.question_per,
        retention_days=settings.retention_days,
    )


def _command_name(interaction: discord.Interaction) -> str:
    return interaction.command.qualified_name if interaction.command else "?"


async def _answer_ephemerally(interaction: discord.Interaction, text: str) -> None:
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:  # the interaction may have expired: nothing more we can do
        log.warning("could not report an error to the user: %s", exc.status)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr)
    # discord.py logs whole gateway payloads at DEBUG: never let those (or tokens) reach the log. Its
    # INFO lines repeat what our own logger says, so the library speaks only to warn.
    logging.getLogger("discord").setLevel(logging.WARNING)


async def _serve(bot: AdvisorBot, token: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not on this platform or thread
            pass
    runner = asyncio.create_task(bot.start(token))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stopper in done:
        log.info("shutting down")
    else:
        stopper.cancel()
    await bot.close()
    if runner in done:
        runner.result()  # re-raise a start-up failure
    else:
        runner.cancel()


def run_bot(settings: Settings) -> int:
    configure_logging(settings.log_level)
    token = settings.token
    if not token:
        print("mle-advisor: DISCORD_TOKEN is not set: put the bot's token in .env (see .env.example)", file=sys.stderr)
        return 2
    bot = AdvisorBot(settings)
    try:
        asyncio.run(_serve(bot, token))
    except discord.LoginFailure:
        print("mle-advisor: Discord rejected DISCORD_TOKEN: check the token in .env (see .env.example)", file=sys.stderr)
        return 2
    except discord.PrivilegedIntentsRequired:
        print("mle-advisor: ANSWER_CHANNEL_IDS needs the Message Content intent: enable it for the bot in the "
              "Developer Portal (Bot → Privileged Gateway Intents), or leave ANSWER_CHANNEL_IDS empty", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"mle-advisor: {exc}", file=sys.stderr)
        return 2
    return 0


def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Log in, register the slash commands (one server, or globally), and exit."""
    configure_logging(settings.log_level)

    async def go() -> int:
        bot = AdvisorBot(settings.model_copy(update={"dev_guild_id": None, "kb_watch_seconds": 0}))
        async with bot:
            await bot.login(settings.token or "")  # runs setup_hook: database, knowledge, extensions
            guild = discord.Object(id=guild_id) if guild_id else None
            if guild:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            where = f"server {guild_id}" if guild_id else "every server (global; may take up to an hour to show)"
            print(f"synced {len(synced)} slash commands to {where}")
        return 0

    try:
        return asyncio.run(go())
    except discord.LoginFailure:
        print("mle-advisor: Discord rejected DISCORD_TOKEN: check the token in .env (see .env.example)", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"mle-advisor: {exc}", file=sys.stderr)
        return 2
