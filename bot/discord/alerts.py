"""The owner's alerts: a message in a channel the owner chose (`/owner alerts`, else ALERT_CHANNEL_ID) when
something goes wrong — a knowledge reload fails, the database errors, Discord stays disconnected — one
message per incident and a few per hour at most (bot/core/health.py: Incidents), so the owner need not
poll /status.

Problems reach it two ways: code that knows (a reload) calls `report`; code that only logs (the core
has no Discord) tags its log line with `extra={"alert": "storage"}` and `AlertLogHandler` passes it on.
The channel is read from the database at each alert (every process agrees on it), falling back to the
last one read when the database is what fails; with several processes, one claim in the database per
kind and window lets only one of them post what they all see.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import discord

from bot.core.health import Incidents

if TYPE_CHECKING:
    from bot.discord.app import AdvisorBot

log = logging.getLogger("mle_advisor.alerts")

PLACE, KEY = "bot", "alert_channel_id"
"""Where the owner's choice is stored: the settings table, under a place that is no server."""
TITLES = {"reload": "the knowledge reload failed", "storage": "the database is failing",
          "disconnect": "Discord was unreachable", "watcher": "the knowledge file watcher hit a problem"}


class Alerts:
    def __init__(self, bot: AdvisorBot, incidents: Incidents | None = None) -> None:
        self.bot = bot
        self.incidents = incidents or Incidents()
        self._channel: int | None = bot.settings.alert_channel_id
        self._tasks: set[asyncio.Task[None]] = set()

    async def channel_id(self) -> int | None:
        try:
            stored = (await self.bot.storage.settings(PLACE)).get(KEY)
        except Exception:  # the database may be the very problem: use what was read last
            return self._channel
        self._channel = int(stored) if stored else self.bot.settings.alert_channel_id
        return self._channel

    async def choose(self, channel_id: int | None, by: str) -> None:
        """The owner's choice (None: back to ALERT_CHANNEL_ID), stored for every process."""
        await self.bot.storage.set_settings(PLACE, {KEY: channel_id}, by)
        self._channel = channel_id or self.bot.settings.alert_channel_id

    async def report(self, kind: str, detail: str) -> bool:
        """Tell the owner, if this starts an incident (see Incidents); True if a message went out."""
        text = self.incidents.report(kind, detail)
        if text is None:
            return False
        channel = await self.channel_id()
        if channel is None:
            return False
        if not await self._first_process(kind):
            return False
        title = TITLES.get(kind, kind)
        content = f"⚠️ **MLE Advisor: {title}.** {text}"[:1900] + "\n-# One message per incident; `/status` for more."
        try:
            await self.bot.get_partial_messageable(channel).send(content, allowed_mentions=discord.AllowedMentions.none())
            return True
        except discord.HTTPException as exc:
            log.warning("could not post an alert to channel %s: HTTP %s", channel, exc.status)
        except Exception as exc:  # unreachable Discord: the log line above is all there is
            log.warning("could not post an alert to channel %s: %s", channel, type(exc).__name__)
        return False

    async def _first_process(self, kind: str) -> bool:
        """With several processes on one database, the same problem (the database is down) shows in each:
        only the first to claim this kind of alert in this `settle` window posts it. If the claim itself
        fails (the database is the problem), post: a duplicate beats silence."""
        if not self.bot.storage.shared:
            return True
        window = int(time.time() // self.incidents.settle)
        try:
            return await self.bot.storage.claim("alert", f"{kind} {window}")
        except Exception:
            return True

    def resolved(self, kind: str) -> None:
        self.incidents.close(kind)

    def report_soon(self, kind: str, detail: str) -> None:
        """From synchronous code (a log handler): post in the background, on the bot's loop."""
        try:
            loop = self.bot.loop
        except AttributeError:  # not started yet
            return
        if loop.is_closed():
            return

        def start() -> None:
            task = loop.create_task(self.report(kind, detail))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        try:
            if asyncio.get_running_loop() is loop:
                start()
                return
        except RuntimeError:
            pass
        loop.call_soon_threadsafe(start)


class AlertLogHandler(logging.Handler):
    """Log lines tagged `extra={"alert": KIND}` become alerts (the first line of the message only)."""

    def __init__(self, alerts: Alerts) -> None:
        super().__init__(level=logging.WARNING)
        self.alerts = alerts

    def emit(self, record: logging.LogRecord) -> None:
        kind = getattr(record, "alert", None)
        if not kind:
            return
        try:
            first = record.getMessage().splitlines()[0][:300]
            self.alerts.report_soon(str(kind), first)
        except Exception:  # a log handler must never raise
            self.handleError(record)
