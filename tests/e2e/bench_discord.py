"""Discord figures for `make bench`: the advisor against a bare discord.py bot on the same emulator.

Each bot runs in its own process (the advisor on the real `mle-advisor run` code path, see
run_bot_against.py; the anchor is bare_bot.py, answering the same commands with a fixed text); this
process serves the emulator and plays the members. Latency runs from sending INTERACTION_CREATE on the
gateway to the emulator receiving the reply a member would see.

* sustained rate: interactions are sent at a fixed rate (open loop: not waiting for replies) for three
  seconds, rate after rate; the figure is the highest rate whose p99 stayed within 50 ms with every
  interaction answered. The emulator and the members share this process, so both bots are held to the
  same ceiling: compare the two, not the absolute figure.
* garbage collection: every pause of the bot's collector over all the interactions it answered after
  warming up (its start-up collection excluded), the longest per generation
  (run_bot_against.record_gc_pauses). On a busy machine a pause includes time the process waited for a core.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.emulator import DiscordEmulator

ROOT = Path(__file__).resolve().parents[2]
MIX = [
    ("ask", {"question": "Which book should I read for deep learning?"}),
    ("ask", {"question": "how long will it take me?"}),
    ("ask", {"question": "how do I bake bread?"}),
    ("step", {"name": "mlops-production"}),
    ("next", {}),
    ("topics", {}),
]
RATES = (25, 50, 100, 150, 200, 300, 400, 500, 600, 800, 1000)
SECONDS = 3.0
P99_LIMIT = 50.0
STEADY = 10_000  # interactions in the steady run whose collector pauses are reported


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def _one(emulator: DiscordEmulator, n: int, latencies: list[float]) -> None:
    name, options = MIX[n % len(MIX)]
    t = time.perf_counter()
    try:
        await emulator.slash(name, within=5, **options)
    except TimeoutError:
        latencies.append(float("inf"))
        return
    latencies.append((time.perf_counter() - t) * 1000)


async def _at_rate(emulator: DiscordEmulator, rate: float, count: int) -> list[float]:
    latencies: list[float] = []
    tasks = []
    start = time.perf_counter()
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(emulator, n, latencies)))
    await asyncio.gather(*tasks)
    return latencies


async def _bot(module: str, steady: bool) -> dict[str, object]:
    emulator = DiscordEmulator()
    await emulator.start()
    with tempfile.TemporaryDirectory() as tmp:
        gc_file = Path(tmp) / "gc.json"
        env = {**os.environ, "DISCORD_TOKEN": "emulated-token", "DATABASE_PATH": str(Path(tmp) / "bench.db"),
               "DEV_GUILD_ID": emulator.guild_id, "KB_WATCH_SECONDS": "0", "LOG_LEVEL": "WARNING",
               "QUESTION_RATE": "10000000", "BENCH_GC_FILE": str(gc_file)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, emulator.api_base, emulator.gateway_url, cwd=ROOT, env=env,
            stderr=asyncio.subprocess.DEVNULL)
        out: dict[str, object] = {}
        try:
            started = time.perf_counter()
            await asyncio.wait_for(emulator.identified.wait(), 60)
            out["ready"] = time.perf_counter() - started
            await asyncio.sleep(2.5)  # the guild arrives, start-up settles
            out["rss_start"] = rss_mib(process.pid)
            for n in range(60):
                await _one(emulator, n, [])  # warm up
            process.send_signal(signal.SIGUSR1)  # collector pauses from here on
            sustained, sent = 0, 60
            for rate in RATES:
                latencies = await _at_rate(emulator, rate, int(rate * SECONDS))
                sent += len(latencies)
                if percentile(latencies, 99) > P99_LIMIT:
                    out["failed_at"] = (rate, percentile(latencies, 99))
                    break
                sustained = rate
                out["p50_at_sustained"] = percentile(latencies, 50)
            out["sustained"] = sustained
            if steady:
                rate = max(sustained * 3 // 4, 50)  # within what it sustains, so the run stays short
                latencies = await _at_rate(emulator, rate, STEADY)
                sent += len(latencies)
                out["steady"] = (rate, percentile(latencies, 50), percentile(latencies, 99), max(latencies))
            out["interactions"] = sent
            out["rss_end"] = rss_mib(process.pid)
            process.send_signal(signal.SIGUSR2)
            for _ in range(50):
                await asyncio.sleep(0.1)
                if gc_file.is_file():
                    out["gc"] = json.loads(gc_file.read_text())
                    break
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
            await emulator.stop()
    return out


def _pauses(result: dict[str, object]) -> str:
    pauses = result.get("gc")
    if not isinstance(pauses, dict):
        return "collector pauses not recorded"
    worst = {g: max(p, default=0.0) for g, p in pauses.items()}
    over = sum(1 for p in pauses.values() for ms in p if ms > 20)
    return (f"collector pauses over {result.get('interactions')} interactions: longest "
            + ", ".join(f"gen{g} {worst[g]:.1f} ms ({len(pauses[g])})" for g in sorted(worst))
            + f"; over 20 ms: {over}")


async def bench() -> None:
    advisor = await _bot("tests.e2e.run_bot_against", steady=True)
    bare = await _bot("tests.e2e.bare_bot", steady=False)
    for name, result in (("advisor", advisor), ("bare discord.py", bare)):
        failed = result.get("failed_at")
        failed_text = f" (at {failed[0]}/s p99 was {failed[1]:.0f} ms)" if isinstance(failed, tuple) else ""
        print(f"   {name:<16} sustained {result.get('sustained')}/s with p99 <= {P99_LIMIT:.0f} ms{failed_text}; "
              f"start-up to identify {result.get('ready', float('nan')):.2f} s; RSS {result.get('rss_start', 0):.0f} MiB "
              f"after start, {result.get('rss_end', 0):.0f} MiB at the end")
    if advisor.get("sustained") and bare.get("sustained"):
        print(f"   advisor / bare bot: {advisor['sustained'] / bare['sustained']:.2f}x")  # type: ignore[operator]
    steady = advisor.get("steady")
    if isinstance(steady, tuple):
        print(f"   advisor, {STEADY:,} interactions at {steady[0]}/s: p50 {steady[1]:.1f} ms, p99 {steady[2]:.1f} ms, "
              f"max {steady[3]:.1f} ms")
    print(f"   advisor {_pauses(advisor)}")
    print(f"   bare bot {_pauses(bare)}")


def run_discord_bench() -> None:
    asyncio.run(bench())


if __name__ == "__main__":
    run_discord_bench()
