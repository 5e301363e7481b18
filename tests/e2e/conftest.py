"""Fixtures for end-to-end tests: the emulator, and the real bot pointed at it."""

from __future__ import annotations

import asyncio
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
        values = {
            "discord_token": "emulated-token",
            "database_path": tmp_path / "bot.db",
            "knowledge_dir": kb_copy,
            "dev_guild_id": int(emulator.guild_id),
            "kb_watch_seconds": 0,
            "moderator_role_id": int(emulator.moderator_role),
            "question_rate": 100,
        } | overrides
        settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
        emulator.identified.clear()
        bot = AdvisorBot(settings, guild_ready_timeout=0.05)
        task = asyncio.create_task(bot.start(settings.token or ""))
        running.append((bot, task))
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def bot(start_bot: StartBot) -> AdvisorBot:
    return await start_bot()
