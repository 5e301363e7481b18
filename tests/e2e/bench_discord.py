"""Discord figures for `make bench`: the advisor against a bare discord.py bot on the same emulator.

Each bot runs in its own process (the advisor on the real `mle-advisor run` code path, see
run_bot_against.py; the anchor is bare_bot.py, answering the same commands with a fixed text and no
embed or buttons); this process serves the emulator and plays the members. Latency runs from sending
INTERACTION_CREATE on the gateway to the emulator receiving the reply a member would see.

* sustained rate: interactions are sent at a fixed rate (open loop: not waiting for replies) for three
  seconds, rate after rate (doubling from 25/s to the first rate that fails, then halving the gap three
  times); the figure is the highest rate whose p99 stayed within 50 ms with every interaction answered.
* CPU an interaction: the bot process's CPU time (every thread) over CPU_COUNT interactions sent at
  CPU_RATE (the same rate for both bots: a busier loop spends less an interaction), divided by their
  number; the same for this process (the emulator and the members), which shows when the emulator, not
  the bot, may be the ceiling (the bare bot needs about as little as the emulator does).
* The two bots take turns, RUNS rounds, and the figures are medians: several programs share this
  machine, so compare the bots within a round and across the medians, never with another run's.
* garbage collection: every pause of the advisor's collector over STEADY interactions at three
  quarters of its sustained rate after warming up (its start-up collection excluded), the longest per
  generation, as wall time and as the CPU time the collection itself used (run_bot_against.
  record_gc_pauses): on a busy machine a wall pause includes time the process waited for a core.

    python -m tests.e2e.bench_discord [--other PATH]   (PATH: another checkout's advisor, in the same rounds)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
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
FIRST_RATE, MAX_RATE, HALVINGS = 25, 3200, 3
SECONDS = 3.0
CPU_RATE, CPU_COUNT = 100, 1000
P99_LIMIT = 50.0
STEADY = 10_000  # interactions in the steady run whose collector pauses are reported
RUNS = 3
ADVISOR, BARE = "tests.e2e.run_bot_against", "tests.e2e.bare_bot"
BARE_NAME = "bare discord.py"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid`, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def _sustained(emulator: DiscordEmulator, out: dict[str, object]) -> int:
    """The highest rate held with p99 <= P99_LIMIT and nothing unanswered; counts what it sent in out."""
    held, failed = 0, 0

    async def holds(rate: int) -> bool:
        latencies = await _at_rate(emulator, rate, int(rate * SECONDS))
        out["sent"] = int(out.get("sent", 0)) + len(latencies)  # type: ignore[call-overload]
        p99 = percentile(latencies, 99)
        if p99 > P99_LIMIT:
            out["failed_at"] = (rate, p99)
            return False
        out["p50_at_sustained"] = percentile(latencies, 50)
        return True

    rate = FIRST_RATE
    while rate <= MAX_RATE:
        if not await holds(rate):
            failed = rate
            break
        held, rate = rate, rate * 2
    for _ in range(HALVINGS if failed else 0):
        middle = (held + failed) // 2
        if middle in (held, failed):
            break
        if await holds(middle):
            held = middle
        else:
            failed = middle
    return held


async def _bot(module: str, *, cwd: Path = ROOT, steady: bool = False) -> dict[str, object]:
    emulator = DiscordEmulator()
    await emulator.start()
    with tempfile.TemporaryDirectory() as tmp:
        gc_file = Path(tmp) / "gc.json"
        env = {**os.environ, "DISCORD_TOKEN": "emulated-token", "DATABASE_PATH": str(Path(tmp) / "bench.db"),
               "DEV_GUILD_ID": emulator.guild_id, "KB_WATCH_SECONDS": "0", "LOG_LEVEL": "WARNING",
               "QUESTION_RATE": "10000000", "BENCH_GC_FILE": str(gc_file)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, emulator.api_base, emulator.gateway_url, cwd=cwd, env=env,
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
            bot_cpu, own_cpu = cpu_seconds(process.pid), time.process_time()
            await _at_rate(emulator, CPU_RATE, CPU_COUNT)
            out["cpu_ms"] = (cpu_seconds(process.pid) - bot_cpu) * 1000 / CPU_COUNT
            out["emulator_cpu_ms"] = (time.process_time() - own_cpu) * 1000 / CPU_COUNT
            out["sustained"] = await _sustained(emulator, out)
            if steady:
                rate = max(int(out["sustained"]) * 3 // 4, 50)  # type: ignore[call-overload]  # within what it sustains
                await asyncio.sleep(1)
                process.send_signal(signal.SIGUSR1)  # collector pauses from here on
                latencies = await _at_rate(emulator, rate, STEADY)
                out["steady"] = (rate, percentile(latencies, 50), percentile(latencies, 99), max(latencies))
                process.send_signal(signal.SIGUSR2)
                for _ in range(50):
                    await asyncio.sleep(0.1)
                    if gc_file.is_file():
                        out["gc"] = json.loads(gc_file.read_text())
                        break
            out["rss_end"] = rss_mib(process.pid)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
            await emulator.stop()
    return out


def _pauses(result: dict[str, object]) -> str:
    recorded = result.get("gc")
    if not isinstance(recorded, dict):
        return "collector pauses not recorded"
    wall, cpu = (recorded["wall"], recorded["cpu"]) if "wall" in recorded else (recorded, None)
    longest = ", ".join(f"gen{g} {max(wall[g], default=0.0):.1f} ms" + (f" ({max(cpu[g], default=0.0):.1f} ms CPU)" if cpu else "")
                        + f" x{len(wall[g])}" for g in sorted(wall))
    over = sum(1 for p in wall.values() for ms in p if ms > 20)
    over_cpu = f", {sum(1 for p in cpu.values() for ms in p if ms > 20)} by CPU time" if cpu else ""
    return f"longest {longest}; over 20 ms: {over} by the clock{over_cpu}"


async def bench(other: Path | None = None) -> None:
    bots = [("advisor", ADVISOR, ROOT), (BARE_NAME, BARE, ROOT)]
    if other is not None:
        bots.insert(1, (f"advisor at {other.name}", ADVISOR, other))
    results: dict[str, list[dict[str, object]]] = {name: [] for name, _, _ in bots}
    for run in range(RUNS):
        order = bots if run % 2 == 0 else bots[::-1]  # neither always goes first on a machine that changes
        for name, module, cwd in order:
            try:
                results[name].append(await _bot(module, cwd=cwd, steady=module == ADVISOR and run == RUNS - 1))
            except (TimeoutError, OSError) as exc:  # a bot that did not start or stop: a round without it
                print(f"   {name} failed in round {run + 1}: {type(exc).__name__} {exc}")
                results[name].append({})
        print(f"   round {run + 1}: " + "; ".join(
            f"{name} {results[name][-1].get('sustained')}/s, {results[name][-1].get('cpu_ms', float('nan')):.2f} ms CPU"
            for name, _, _ in bots) + f" at {CPU_RATE}/s; the emulator {results[BARE_NAME][-1].get('emulator_cpu_ms', float('nan')):.2f} ms "
              "CPU an interaction with the bare bot", flush=True)
    for name, _, _ in bots:
        rows = results[name]
        sustained = statistics.median(int(r.get("sustained") or 0) for r in rows)  # type: ignore[call-overload]
        cpu = statistics.median(float(r.get("cpu_ms", float("nan"))) for r in rows)  # type: ignore[arg-type]
        last = rows[-1]
        failed = last.get("failed_at")
        failed_text = f" (last round: at {failed[0]}/s p99 was {failed[1]:.0f} ms)" if isinstance(failed, tuple) else ""
        print(f"   {name:<16} median sustained {sustained:.0f}/s with p99 <= {P99_LIMIT:.0f} ms{failed_text}; "
              f"{cpu:.2f} ms CPU an interaction at {CPU_RATE}/s; start-up to identify {last.get('ready', float('nan')):.2f} s; "
              f"RSS {last.get('rss_start', 0):.0f} MiB after start, {last.get('rss_end', 0):.0f} MiB at the end")
    for name, _, _ in bots[:-1]:
        ratios = [int(a.get("sustained") or 0) / max(int(b.get("sustained") or 0), 1)  # type: ignore[call-overload]
                  for a, b in zip(results[name], results[BARE_NAME], strict=True)]
        cpu_ratios = [float(b["cpu_ms"]) / float(a["cpu_ms"])  # type: ignore[arg-type]
                      for a, b in zip(results[name], results[BARE_NAME], strict=True) if "cpu_ms" in a and "cpu_ms" in b]
        print(f"   {name} / bare bot: sustained {statistics.median(ratios):.2f}x (rounds: "
              + ", ".join(f"{r:.2f}" for r in ratios) + ")"
              + (f"; bare bot's CPU an interaction / this one's: {statistics.median(cpu_ratios):.2f}x" if cpu_ratios else ""))
    for name, _, _ in bots:
        steady = results[name][-1].get("steady")
        if isinstance(steady, tuple):
            print(f"   {name}, {STEADY:,} interactions at {steady[0]}/s: p50 {steady[1]:.1f} ms, p99 {steady[2]:.1f} ms, "
                  f"max {steady[3]:.1f} ms; collector {_pauses(results[name][-1])}")


def run_discord_bench(other: Path | None = None) -> None:
    asyncio.run(bench(other))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", type=Path, help="another checkout whose advisor runs in the same rounds")
    run_discord_bench(parser.parse_args().other)
