"""Fixtures for end-to-end tests: the emulator, and the real bot pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bot.discord.app import AdvisorBot
from bot.settings import Settings
from tests.e2e.emulator import DiscordEmulator

pytestmark = pytest.mark.e2e

StartBot = Callable[..., Awaitable[AdvisorBot]]


def point_discord_at(emulator: DiscordEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every REST call and the gateway go to the emulator on loopback; nothing else is reachable."""
    monkeypatch.setattr(discord.http.Route, "BASE", emulator.api_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emulator.gateway_url))


def bot_settings(emulator: DiscordEmulator, tmp_path: Path, kb_copy: Path, **overrides: object) -> Settings:
    values = {
        "discord_token": "emulated-token",
        "database_path": tmp_path / "bot.db",
        "knowledge_dir": kb_copy,
        "dev_guild_id": int(emulator.guild_id),
        "kb_watch_seconds": 0,
        "moderator_role_id": int(emulator.moderator_role),
        "kb_edit_guild_ids": [int(emulator.guild_id)],
        "question_rate": 100,
    } | overrides
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def launch(settings: Settings, emulator: DiscordEmulator) -> tuple[AdvisorBot, asyncio.Task]:
    emulator.identified.clear()
    bot = AdvisorBot(settings, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start(settings.token or ""))
    await asyncio.wait_for(bot.wait_until_ready(), 10)
    return bot, task


async def shut(bot: AdvisorBot, task: asyncio.Task) -> None:
    await bot.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, kb_copy: Path, monkeypatch: pytest.MonkeyPatch, *, servers: int = 2,
                      **overrides: object) -> AsyncIterator[tuple[AdvisorBot, DiscordEmulator]]:
    """A bot on an emulator of its own (for a different number of servers)."""
    emulator = DiscordEmulator(servers=servers)
    await emulator.start()
    point_discord_at(emulator, monkeypatch)
    bot, task = await launch(bot_settings(emulator, tmp_path, kb_copy, **overrides), emulator)
    try:
        yield bot, emulator
    finally:
        await shut(bot, task)
        await emulator.stop()


@pytest.fixture
async def emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordEmulator]:
    emu = DiscordEmulator()
    await emu.start()
    point_discord_at(emu, monkeypatch)
    yield emu
    await emu.stop()


@pytest.fixture
async def start_bot(emulator: DiscordEmulator, tmp_path: Path, kb_copy: Path) -> AsyncIterator[StartBot]:
    running: list[tuple[AdvisorBot, asyncio.Task]] = []

    async def start(**overrides: object) -> AdvisorBot:
        bot, task = await launch(bot_settings(emulator, tmp_path, kb_copy, **overrides), emulator)
        running.append((bot, task))
        return bot

    yield start
    for bot, task in running:
        await shut(bot, task)


@pytest.fixture
async def bot(start_bot: StartBot) -> AdvisorBot:
    return await start_bot()
