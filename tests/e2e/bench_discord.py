"""Discord figures for `make bench`: event-to-reply latency through the emulator, and the bot's memory.

The bot runs in its own process (the real `mle-advisor run` code path, see run_bot_against.py); this
process serves the emulator and plays the members. Latency is measured from sending INTERACTION_CREATE
on the gateway to the emulator receiving the reply a member would see (the callback message, or the
follow-up after a deferral), over 1,000 interactions on loopback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.emulator import DiscordEmulator

ROOT = Path(__file__).resolve().parents[2]
INTERACTIONS = 1000
MIX = [
    ("ask", {"question": "Which book should I read for deep learning?"}),
    ("ask", {"question": "how long will it take me?"}),
    ("ask", {"question": "how do I bake bread?"}),
    ("step", {"name": "mlops-production"}),
    ("next", {}),
    ("topics", {}),
]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def bench() -> None:
    emulator = DiscordEmulator()
    await emulator.start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DISCORD_TOKEN": "emulated-token", "DATABASE_PATH": str(Path(tmp) / "bench.db"),
               "DEV_GUILD_ID": emulator.guild_id, "KB_WATCH_SECONDS": "0", "LOG_LEVEL": "WARNING",
               "QUESTION_RATE": "100000"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.e2e.run_bot_against", emulator.api_base, emulator.gateway_url,
            cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE)
        try:
            started = time.perf_counter()
            await asyncio.wait_for(emulator.identified.wait(), 60)
            ready_s = time.perf_counter() - started
            await asyncio.sleep(2.5)  # let the guild arrive and start-up settle before measuring memory
            memory_after_start = rss_mib(process.pid)
            await emulator.slash("ask", question="warm up")
            latencies = []
            for n in range(INTERACTIONS):
                name, options = MIX[n % len(MIX)]
                t = time.perf_counter()
                await emulator.slash(name, **options)
                latencies.append((time.perf_counter() - t) * 1000)
            memory_after_load = rss_mib(process.pid)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
            await emulator.stop()
    print(f"  start-up to gateway identify: {ready_s:.2f} s")
    print(f"  event-to-reply over {INTERACTIONS} interactions: p50 {percentile(latencies, 50):.2f} ms, "
          f"p99 {percentile(latencies, 99):.2f} ms, mean {statistics.mean(latencies):.2f} ms")
    print(f"  bot resident memory: {memory_after_start:.1f} MiB after start, {memory_after_load:.1f} MiB after "
          f"{INTERACTIONS} interactions")


def run_discord_bench() -> None:
    asyncio.run(bench())


if __name__ == "__main__":
    run_discord_bench()
