"""The Discord bot: a thin adapter around the advisor.

Start-up (`setup_hook`): open the database, read the per-server settings, load the knowledge (shipped
files with the moderators' edits over them), build the Advisor and the knowledge editor, load each
feature module from `bot/discord/extensions/`, register the persistent buttons, and sync the slash
commands to DEV_GUILD_ID if set. Global sync is never automatic: `mle-advisor sync` or the owner's /sync.

Every error of a slash command, button or form goes through one handler (errors.py) that answers
ephemerally and logs one line without payloads. If Discord can't be reached at start (network not up yet), the bot tries again with a growing
delay, one log line per try, until it connects or is stopped.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import logging.handlers
import os
import signal
import socket
import sys
import time
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.core import heap
from bot.core.advisor import Advisor
from bot.core.config import ServerConfig, ServerSettings
from bot.core.editing import EditError, KnowledgeEditor
from bot.core.health import CpuMeter, LoopLag
from bot.core.knowledge import KnowledgeError
from bot.core.ratelimit import QUESTION, RateLimiter
from bot.core.storage import DM, StorageError, store_for
from bot.discord import errors, views
from bot.discord.alerts import AlertLogHandler, Alerts
from bot.discord.render import NO_MENTIONS
from bot.settings import Settings

log = logging.getLogger("mle_advisor")

EXTENSIONS = (
    "bot.discord.extensions.conversation",
    "bot.discord.extensions.advice",
    "bot.discord.extensions.privacy",
    "bot.discord.extensions.moderation",
    "bot.discord.extensions.admin",
    "bot.discord.extensions.owner",
    "bot.discord.extensions.forums",
)
RETRY_CAP = 300.0
"""The longest wait between two tries to reach Discord at start."""
IDENTIFY_SPACING = 5.5
"""Discord allows one IDENTIFY per max_concurrency bucket every 5 seconds, across all of a bot's processes,
counted as they arrive; the half second more covers a busy process waking late after the one before it."""


class StartupError(Exception):
    """Something the person running the bot must fix: printed as one line, exit status 2."""


class RecentProblems(logging.Handler):
    """The last warnings and errors, one line each, for the owner's /status."""

    def __init__(self, keep: int = 10) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().splitlines()[0] if record.getMessage() else ""
        self.lines.append(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(record.created))} {record.levelname} {first[:200]}")


problems = RecentProblems()


class AdvisorBot(commands.Bot):
    advisor: Advisor
    editor: KnowledgeEditor

    def __init__(self, settings: Settings, *, message_content: bool = True, **options: object) -> None:
        # This bot has no voice features: no warnings about voice libraries it will never need.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        # Privileged: needed to read messages in answer channels (mentions and DMs work without it). If
        # the Developer Portal hasn't enabled it, the bot reconnects without it and says so (run_bot).
        intents.message_content = message_content
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            **options,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.process_name = f"{socket.gethostname()}:{os.getpid()}"
        self._max_concurrency: int | None = None
        self.storage = store_for(settings.database)
        self.servers = ServerSettings(default_server_config(settings), self.storage)
        self.rate_limiter = RateLimiter()
        self.alerts = Alerts(self)
        self.loop_lag = LoopLag()
        self.cpu = CpuMeter()
        self.disconnected_at: float | None = None
        self.started_at = time.time()
        self.last_reload: float | None = None
        self.tree.on_error = self.on_app_command_error  # the one error handler for every slash command (errors.py)

    async def setup_hook(self) -> None:
        if len(self.settings.my_shards) < (self.settings.shard_count or 1) and not self.storage.shared:
            raise StartupError("SHARD_IDS leaves shards to other processes, and processes can only share a PostgreSQL "
                               "database: set DATABASE_URL (see README, running on several machines)")
        self.loop_lag.start()
        alert_handler = AlertLogHandler(self.alerts)
        logging.getLogger("mle_advisor").addHandler(alert_handler)
        self._alert_handler = alert_handler
        try:
            await self.storage.open(verify=True)
            await self.servers.load()
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        self.editor = KnowledgeEditor(self.settings.knowledge_dir, self.storage)
        try:  # moderators' edits of an older version, kept as files, move into the database once
            moved = await self.editor.migrate_folder(self.settings.edits_dir())
            if moved:
                log.info("moved the moderators' edits folder into the database (change #%d)", moved)
            knowledge = await self.editor.load()
        except (KnowledgeError, EditError) as exc:
            problems = "\n".join(str(p) for p in getattr(exc, "problems", ())) or str(exc)
            raise StartupError(f"the knowledge in {self.settings.knowledge_dir} has problems:\n{problems}") from None
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        self.advisor = Advisor(knowledge, self.storage, context_minutes=self.settings.context_minutes)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*views.PERSISTENT_ITEMS)
        # Only the process serving the dev server's shard syncs its commands (once, not once per process).
        if self.settings.dev_guild_id and self.serves_guild(self.settings.dev_guild_id):
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d slash commands to the dev server %s", len(synced), self.settings.dev_guild_id)
        log.info("knowledge loaded: %s", ", ".join(f"{n} {k}" for k, n in knowledge.counts().items()))

    # --- shards ----------------------------------------------------------------------------------------

    def serves_guild(self, guild_id: int) -> bool:
        """Whether this process serves the shard Discord routes `guild_id`'s events to."""
        if not self.settings.sharded:
            return True
        return (guild_id >> 22) % (self.settings.shard_count or 1) in self.settings.my_shards

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Sharded: book this shard's IDENTIFY slot in the database, so identifies of one max_concurrency
        bucket are 5 s apart across every process; then wait for it."""
        if not self.settings.sharded:
            return await super().before_identify_hook(shard_id, initial=initial)
        try:
            if self._max_concurrency is None:
                limits = (await self.http.get_bot_gateway())[2]
                self._max_concurrency = max(1, int(limits.get("max_concurrency", 1)))
            wait = await self.storage.reserve_identify((shard_id or 0) % self._max_concurrency, IDENTIFY_SPACING)
        except (StorageError, discord.HTTPException, aiohttp.ClientError, OSError) as exc:
            log.warning("could not book an identify slot (%s); waiting %.0f s instead", exc, IDENTIFY_SPACING)
            wait = IDENTIFY_SPACING
        if wait > 0:
            log.info("shard %s identifies in %.1f s (Discord's spacing across processes)", shard_id, wait)
            await asyncio.sleep(wait)

    # --- per server ----------------------------------------------------------------------------------
    # Per-server state kept in this process's memory (the rate limiter's buckets, the settings cache of
    # self.servers) stays right when the bot is split across processes by shard: Discord sends a server's
    # events (messages, commands, buttons, /config) only to the one shard that serves it, and every DM to
    # shard 0, so one process alone counts and changes what belongs to a server or to DMs.

    def server_config(self, guild_id: int | None) -> ServerConfig:
        """This server's settings: what its admins set with /config, else the .env defaults."""
        return self.servers.get(guild_id)

    def rate_limited(self, guild_id: int | None, user_id: int, cost: float = QUESTION) -> float:
        """0 if the member may go ahead now (and pays `cost`), else seconds to wait. One allowance per
        member and server for mentions, answer channels, /ask, the message menu, /step, /resources and
        autocomplete; small talk and help cost nothing (see bot/core/ratelimit.py)."""
        config = self.server_config(guild_id)
        place = str(guild_id) if guild_id is not None else DM
        return self.rate_limiter.retry_after(place, str(user_id), config.question_rate, config.question_per, cost)

    def first_refusal(self, guild_id: int | None, user_id: int) -> bool:
        """Whether to say "easy there" now (once per run of refusals, so the refusals are no flood either)."""
        return self.rate_limiter.first_refusal(str(guild_id) if guild_id is not None else DM, str(user_id))

    def may_edit_knowledge(self, guild_id: int | None) -> bool:
        """The knowledge is shared by every server the bot is in: it may be changed from Discord only in
        the servers KB_EDIT_GUILD_IDS lists, or, when that is empty, in the one server the bot is in.
        Split into processes by shard, no process sees every server, so only the explicit list counts."""
        if guild_id is None:
            return False
        if self.settings.kb_edit_guild_ids:
            return guild_id in self.settings.kb_edit_guild_ids
        if self.settings.sharded:
            return False
        return len(self.guilds) == 1 and self.guilds[0].id == guild_id

    # --- events ----------------------------------------------------------------------------------------

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands here: messages are answered by the conversation extension alone (the default
        would parse "@bot how do I…" as a command named "how" and log an error for every mention)."""

    async def on_disconnect(self) -> None:
        if self.disconnected_at is None:
            self.disconnected_at = self.alerts.incidents.clock()

    async def on_resumed(self) -> None:
        await self._reconnected()

    async def on_connect(self) -> None:
        await self._reconnected()

    async def check_disconnect(self) -> None:
        """Still disconnected after ALERT_DISCONNECT_SECONDS: tell the owner now (REST often works while the
        gateway does not), rather than only once it is back. Called every 30 s by the owner extension."""
        if self.disconnected_at is None:
            return
        down = self.alerts.incidents.clock() - self.disconnected_at
        if down >= self.settings.alert_disconnect_seconds:
            await self.alerts.report("disconnect", f"The connection to Discord has been lost for {down / 60:.0f} min; "
                                                   "discord.py keeps reconnecting.")

    async def _reconnected(self) -> None:
        """Back on the gateway: if it took long, tell the owner (one alert per outage)."""
        if self.disconnected_at is None:
            return
        down = self.alerts.incidents.clock() - self.disconnected_at
        self.disconnected_at = None
        if down >= self.settings.alert_disconnect_seconds:
            await self.alerts.report("disconnect", f"The connection to Discord was lost for {down / 60:.0f} min; "
                                                   "it is back now.")
        self.alerts.resolved("disconnect")

    async def on_ready(self) -> None:
        # The knowledge and discord.py's caches are in place: out of the cycle collector's sight from now on.
        log.debug("heap settled in %.3f s", heap.settle())
        log.info("connected as %s (id %s) to %d server(s)%s", self.user, getattr(self.user, "id", "?"), len(self.guilds),
                 "" if self.intents.message_content else "; without the Message Content intent: answer channels are off")

    async def close(self) -> None:
        self.loop_lag.stop()
        handler = getattr(self, "_alert_handler", None)
        if handler is not None:
            logging.getLogger("mle_advisor").removeHandler(handler)
        await super().close()
        await self.storage.close()

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await errors.answer(interaction, error)


class ShardedAdvisorBot(AdvisorBot, commands.AutoShardedBot):
    """The same bot, serving SHARD_IDS of SHARD_COUNT shards (discord.py's own sharding)."""


def make_bot(settings: Settings, **options: Any) -> AdvisorBot:
    if settings.sharded:
        return ShardedAdvisorBot(settings, shard_count=settings.shard_count, shard_ids=settings.my_shards, **options)
    return AdvisorBot(settings, **options)


def default_server_config(settings: Settings) -> ServerConfig:
    return ServerConfig(
        answer_channel_ids=frozenset(settings.answer_channel_ids),
        moderator_role_id=settings.moderator_role_id,
        question_rate=settings.question_rate,
        question_per=settings.question_per,
        retention_days=settings.retention_days,
        forum_idle_days=settings.forum_idle_days,
    )


async def answer_ephemerally(interaction: discord.Interaction, text: str) -> None:
    await errors.tell(interaction, text)


def configure_logging(level: str, log_file: Any = None) -> None:
    """stderr, and LOG_FILE rotated by size (5 files of 5 MB); the last problems are kept for /status."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr), problems]
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(log_file, maxBytes=5 * 2**20, backupCount=5, encoding="utf-8"))
        except OSError as exc:
            print(f"mle-advisor: cannot write LOG_FILE {log_file} ({exc.strerror or exc}); logging to stderr only",
                  file=sys.stderr)
    formatter = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    for handler in handlers:
        if handler is not problems:
            handler.setFormatter(formatter)
    logging.basicConfig(level=level.upper(), handlers=handlers, force=True)
    # discord.py logs whole gateway payloads at DEBUG: never let those (or tokens) reach the log. Its
    # INFO lines repeat what our own logger says, so the library speaks only to warn.
    logging.getLogger("discord").setLevel(logging.WARNING)


_UNREACHABLE = (aiohttp.ClientError, OSError, asyncio.TimeoutError, discord.GatewayNotFound, discord.DiscordServerError)


async def _serve(settings: Settings, token: str) -> None:
    """Run the bot until SIGINT/SIGTERM; at start, keep trying while Discord can't be reached."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not on this platform or thread
            pass
    delay = settings.connect_retry_seconds
    message_content = True
    while True:
        bot = make_bot(settings, message_content=message_content)
        runner = asyncio.create_task(bot.start(token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("shutting down")
            await bot.close()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            return
        stopper.cancel()
        failure = runner.exception()
        await bot.close()
        if failure is None:
            return
        if isinstance(failure, discord.PrivilegedIntentsRequired) and message_content:
            log.warning("the Message Content intent is not enabled in the Developer Portal (Bot → Privileged Gateway "
                        "Intents): answer channels won't work until it is; mentions, DMs and commands do")
            message_content = False
            continue
        if not isinstance(failure, _UNREACHABLE):
            raise failure
        reason = " ".join(str(failure).split())[:160] or type(failure).__name__
        log.warning("Discord can't be reached (%s); trying again in %.0f s", reason, delay)
        try:
            await asyncio.wait_for(stop.wait(), delay)
            log.info("shutting down")
            return
        except TimeoutError:
            pass
        delay = min(delay * 2, RETRY_CAP)


async def _preflight(settings: Settings) -> None:
    """What can be checked without Discord, checked before logging in: an unusable database (a folder that
    can't be made, a read-only, damaged or foreign file) is one line and exit 2, not a retry loop."""
    try:
        async with store_for(settings.database):
            pass
    except StorageError as exc:
        raise StartupError(str(exc)) from None


def run_bot(settings: Settings) -> int:
    configure_logging(settings.log_level, settings.log_file)
    if settings.discord_api_base:  # a REST proxy shared by every process (README, running on several machines)
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    token = settings.token
    if not token:
        print("mle-advisor: DISCORD_TOKEN is not set: put the bot's token in .env (see .env.example)", file=sys.stderr)
        return 2
    try:
        asyncio.run(_preflight(settings))
        asyncio.run(_serve(settings, token))
    except discord.LoginFailure:
        print("mle-advisor: Discord rejected DISCORD_TOKEN: check the token in .env (see .env.example)", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"mle-advisor: {exc}", file=sys.stderr)
        return 2
    except discord.HTTPException as exc:
        print(f"mle-advisor: Discord refused the start (HTTP {exc.status}): {' '.join(str(exc.text).split())[:200]}",
              file=sys.stderr)
        return 2
    return 0


def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Log in, register the slash commands (one server, or globally), and exit."""
    configure_logging(settings.log_level)

    async def go() -> int:
        bot = AdvisorBot(settings.model_copy(update={"dev_guild_id": None, "kb_watch_seconds": 0}), message_content=False)
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
        asyncio.run(_preflight(settings))
        return asyncio.run(go())
    except discord.LoginFailure:
        print("mle-advisor: Discord rejected DISCORD_TOKEN: check the token in .env (see .env.example)", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"mle-advisor: {exc}", file=sys.stderr)
        return 2
    except _UNREACHABLE as exc:
        print(f"mle-advisor: Discord can't be reached ({' '.join(str(exc).split())[:160]}); try again later", file=sys.stderr)
        return 2
