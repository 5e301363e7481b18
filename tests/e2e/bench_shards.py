"""Sustained interactions a second for `make bench`: one bot process on SQLite, and two processes (shards
0 and 1 of 2) on one PostgreSQL, in the same run, through the emulator.

Open loop: interactions are sent at a fixed rate for a few seconds whatever the replies do, and the
rate goes up step by step; the figure is the highest rate whose p99 event-to-reply latency stays within
50 ms. The emulator and the simulated members run in this process, the same for both setups, so the
figures compare the two setups with each other, on this machine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.emulator import DiscordEmulator
from tests.pgserver import PgServer, why_no_postgres

ROOT = Path(__file__).resolve().parents[2]
RATES = (25, 50, 100, 150, 200, 300, 400, 600, 800)
SECONDS = 3.0
P99_LIMIT_MS = 50.0
QUESTIONS = ("Which book should I read for deep learning?", "how long will it take me?", "what is mlops?",
             "how do I bake bread?")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] if ordered else float("inf")


async def _at_rate(emulator: DiscordEmulator, guilds: list[str], rate: int) -> tuple[float, int]:
    """p99 latency (ms) and how many interactions went unanswered, at `rate` a second for SECONDS."""
    latencies: list[float] = []
    failed = 0

    async def one(n: int) -> None:
        nonlocal failed
        started = time.perf_counter()
        try:
            await emulator.slash("ask", guild=guilds[n % len(guilds)], question=QUESTIONS[n % len(QUESTIONS)], within=10)
            latencies.append((time.perf_counter() - started) * 1000)
        except Exception:
            failed += 1

    tasks = []
    begin = time.perf_counter()
    for n in range(int(rate * SECONDS)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return _p99(latencies), failed


async def _sustained(emulator: DiscordEmulator, guilds: list[str]) -> tuple[int, list[str]]:
    for _ in range(20):  # warm up
        await emulator.slash("ask", guild=guilds[0], question="what is mlops?")
    best, lines = 0, []
    for rate in RATES:
        p99, failed = await _at_rate(emulator, guilds, rate)
        lines.append(f"{rate}/s: p99 {p99:.1f} ms{f', {failed} unanswered' if failed else ''}")
        if p99 > P99_LIMIT_MS or failed:
            break
        best = rate
    return best, lines


async def _processes(emulator: DiscordEmulator, envs: list[dict[str, str]]) -> list[asyncio.subprocess.Process]:
    return [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.run_bot_against", emulator.api_base, emulator.gateway_url,
        cwd=ROOT, env={**os.environ, **env}, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        for env in envs]


async def _stop(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()


async def _wait_for_shards(emulator: DiscordEmulator, shards: set[int]) -> None:
    for _ in range(900):
        if {shard for _, shard in emulator.identifies} == shards:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # the servers' GUILD_CREATE and start-up settle


COMMON = {"DISCORD_TOKEN": "emulated-token", "KB_WATCH_SECONDS": "0", "LOG_LEVEL": "WARNING",
          "QUESTION_RATE": "1000000"}


async def bench() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        emulator = DiscordEmulator()
        await emulator.start()
        processes = await _processes(emulator, [COMMON | {"DATABASE_PATH": str(Path(tmp) / "one.db")}])
        try:
            await asyncio.wait_for(_wait_for_shards(emulator, {0}), 60)
            best, lines = await _sustained(emulator, [emulator.guild_id, emulator.other_guild_id])
        finally:
            await _stop(processes)
            await emulator.stop()
        print(f"  one process, SQLite: {best} interactions/s sustained at p99 <= {P99_LIMIT_MS:.0f} ms "
              f"({'; '.join(lines)})")

        reason = why_no_postgres()
        if reason:
            print(f"  two processes, PostgreSQL: skipped ({reason})")
            return
        with PgServer(fsync=True) as server:  # the shipped configuration: fsync on
            url = server.create_database("advisor")
            emulator = DiscordEmulator(shard_count=2)
            await emulator.start()
            envs = [COMMON | {"DATABASE_URL": url, "SHARD_COUNT": "2", "SHARD_IDS": str(shard),
                              "KNOWLEDGE_EDITS_DIR": str(Path(tmp) / f"edits{shard}")} for shard in (0, 1)]
            processes = await _processes(emulator, envs)
            try:
                await asyncio.wait_for(_wait_for_shards(emulator, {0, 1}), 90)
                best, lines = await _sustained(emulator, [emulator.guild_id, emulator.other_guild_id])
            finally:
                await _stop(processes)
                await emulator.stop()
        print(f"  two processes (shards 0 and 1 of 2), one PostgreSQL: {best} interactions/s sustained at p99 <= "
              f"{P99_LIMIT_MS:.0f} ms ({'; '.join(lines)})")


def run_shards_bench() -> None:
    asyncio.run(bench())


if __name__ == "__main__":
    run_shards_bench()
