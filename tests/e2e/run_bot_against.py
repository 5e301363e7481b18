"""Run the real bot (`mle-advisor run`'s code path) against an emulator, in its own process.

    python -m tests.e2e.run_bot_against API_BASE GATEWAY_URL

Settings come from the environment as usual (DISCORD_TOKEN, DATABASE_PATH, DEV_GUILD_ID, …); only
discord.py's two addresses are pointed at the emulator. Used by the benchmark and the process tests.
With BENCH_GC_FILE set, every garbage collection's pause is recorded, by the clock and as the CPU time
the collection used: SIGUSR1 forgets those so far (start-up), SIGUSR2 writes them there.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time
from pathlib import Path

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.cli import main


def record_gc_pauses() -> None:
    """Time each collection (per generation, in ms: wall clock, and CPU time of the thread that ran it,
    which leaves out waiting for a core on a busy machine); BENCH_GC_FILE gets {"wall": …, "cpu": …}."""
    target = os.environ.get("BENCH_GC_FILE")
    if not target:
        return
    wall: dict[int, list[float]] = {0: [], 1: [], 2: []}
    cpu: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0, 0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = time.perf_counter(), time.thread_time()
        else:
            wall[info["generation"]].append((time.perf_counter() - started[0]) * 1000)
            cpu[info["generation"]].append((time.thread_time() - started[1]) * 1000)

    def forget(*_: object) -> None:
        for times in (*wall.values(), *cpu.values()):
            times.clear()

    def write(*_: object) -> None:
        Path(target).write_text(json.dumps({"wall": wall, "cpu": cpu}))

    gc.callbacks.append(callback)
    signal.signal(signal.SIGUSR1, forget)
    signal.signal(signal.SIGUSR2, write)


if __name__ == "__main__":
    api, gateway = sys.argv[1], sys.argv[2]
    discord.http.Route.BASE = api
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    record_gc_pauses()
    sys.exit(main(["run"]))
