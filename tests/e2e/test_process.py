"""The bot as a process: a rejected token, and a clean shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.emulator import DiscordEmulator

pytestmark = pytest.mark.e2e


async def start_process(emulator: DiscordEmulator, tmp_path: Path, token: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "DISCORD_TOKEN": token, "DATABASE_PATH": str(tmp_path / "p.db"),
           "DEV_GUILD_ID": emulator.guild_id, "KB_WATCH_SECONDS": "0", "LOG_LEVEL": "INFO"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.run_bot_against", emulator.api_base, emulator.gateway_url,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_a_rejected_token_gives_one_line_and_exit_2(emulator: DiscordEmulator, tmp_path: Path) -> None:
    process = await start_process(emulator, tmp_path, DiscordEmulator.REJECTED_TOKEN)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines  # one clear line
    assert "DISCORD_TOKEN" in lines[0] and ".env.example" in lines[0]
    assert DiscordEmulator.REJECTED_TOKEN not in lines[0]


async def test_sigterm_shuts_down_cleanly(emulator: DiscordEmulator, tmp_path: Path) -> None:
    process = await start_process(emulator, tmp_path, "emulated-token")
    await asyncio.wait_for(emulator.identified.wait(), 30)
    answer = await emulator.slash("ask", question="what is mlops?")
    assert "Full Stack Deep Learning" in answer.text
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    text = err.decode()
    assert process.returncode == 0, text
    assert "shutting down" in text and "Traceback" not in text and "emulated-token" not in text
    assert not (tmp_path / "p.db-wal").exists() or (tmp_path / "p.db-wal").stat().st_size == 0  # closed: WAL checkpointed


async def test_an_unreachable_discord_at_start_is_retried_one_line_each(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DISCORD_TOKEN": "emulated-token", "DATABASE_PATH": str(tmp_path / "u.db"),
           "KB_WATCH_SECONDS": "0", "LOG_LEVEL": "INFO", "CONNECT_RETRY_SECONDS": "0.2"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.run_bot_against", f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    tries = []
    while len(tries) < 3:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        if "trying again" in line:
            tries.append(line)
    process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert all("can't be reached" in t and "emulated-token" not in t for t in tries)
    assert "Traceback" not in rest.decode() and "emulated-token" not in rest.decode()
