"""Speed and memory figures for MLE Advisor (`make bench`). Prints; asserts nothing.

* knowledge load + validation time
* per-question latency, p50/p99, in a warm process: matching and composing (the engine), and the full
  `ask` including the database write, on the shipped knowledge and on knowledge scaled to 1,000 and
  10,000 synthetic entries
* profile reads and writes per second with 1,000 users at once
* a one-shot `mle-advisor ask` as a separate process
* with --discord (default on): event-to-reply latency through the local Discord API emulator and the
  bot's resident memory (see tests/e2e)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core import compose  # noqa: E402
from bot.core.advisor import Advisor  # noqa: E402
from bot.core.knowledge import Knowledge, load_knowledge  # noqa: E402
from bot.core.storage import Storage  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
FILLER = ["how", "do", "i", "what", "is", "the", "best", "way", "to", "should", "which", "for", "a", "can", "you"]
OFF_TOPIC = ["how do I bake bread", "what's the weather in Paris", "recommend a movie", "who won the game", "asdf qwer"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def questions_for(kb: Knowledge, count: int, seed: int = 7) -> list[str]:
    """Questions in the knowledge's words, shuffled and mixed with filler, typos and off-topic ones."""
    rng = random.Random(seed)
    phrases = [p for t in kb.topics.values() for p in (t.title, *t.ask, *t.keywords)]
    out = []
    for n in range(count):
        if n % 10 == 0:
            out.append(rng.choice(OFF_TOPIC))
            continue
        words = rng.choice(phrases).split() + rng.choice(phrases).split()[:2]
        rng.shuffle(words)
        if n % 7 == 0 and words:  # a typo
            w = words[0]
            if len(w) > 4:
                i = rng.randrange(1, len(w) - 1)
                words[0] = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        out.append(" ".join(rng.sample(FILLER, 3) + words))
    return out


def synthetic_knowledge(target: Path, entries: int, seed: int = 11) -> None:
    """The shipped knowledge plus `entries` generated entries whose words come from its vocabulary."""
    shutil.copytree(KNOWLEDGE, target)
    kb = load_knowledge(KNOWLEDGE)
    rng = random.Random(seed)
    vocab = sorted(w for w in kb.normalizer.vocabulary if w.isalpha())
    made = [f"{a}{b}" for a, b in zip(rng.sample(vocab, 400), rng.sample(vocab, 400), strict=True)]
    pool = vocab + made
    per_file = 250
    for start in range(0, entries, per_file):
        lines = ["entries:"]
        for n in range(start, min(start + per_file, entries)):
            def phrase(k: int) -> str:  # quoted: a lone "no" or "on" would be read as a boolean
                return json.dumps(" ".join(rng.choice(pool) for _ in range(k)))
            lines += [
                f"  - id: synthetic-{n}",
                f"    title: {phrase(3)}",
                f"    ask: [{phrase(6)}, {phrase(5)}]",
                f"    keywords: [{phrase(1)}, {phrase(2)}, {phrase(1)}]",
                f"    answer: {phrase(40)}",
                "    sources: [mynter]",
            ]
        (target / f"synthetic-{start // per_file}.yaml").write_text("\n".join(lines) + "\n")


async def time_questions(kb: Knowledge, label: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Storage(Path(tmp) / "bench.db") as storage:
            advisor = Advisor(kb, storage)
            questions = questions_for(kb, rounds)
            reader = advisor.reader
            for q in questions[:50]:  # warm up caches
                reader.read(q)
            engine = []
            for q in questions:
                t = time.perf_counter()
                reading = reader.read(q)  # small talk, focus, backgrounds, resources named, matching
                if reading.topic:
                    compose.topic_reply(kb, kb.topic(reading.topic), wants=reading.wants, named=reading.named)
                engine.append((time.perf_counter() - t) * 1000)
            full = []
            for n, q in enumerate(questions[: min(rounds, 2000)]):
                t = time.perf_counter()
                await advisor.ask(f"user{n % 50}", q)
                full.append((time.perf_counter() - t) * 1000)
    print(f"  {label:<28} engine p50 {percentile(engine, 50):6.3f} ms  p99 {percentile(engine, 99):6.3f} ms"
          f"   | full ask with db p50 {percentile(full, 50):6.3f} ms  p99 {percentile(full, 99):6.3f} ms")


async def storage_throughput(users: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Storage(Path(tmp) / "bench.db") as storage:
            t = time.perf_counter()
            await asyncio.gather(*(storage.set_background("bench", f"u{n}", "software") for n in range(users)))
            writes = users / (time.perf_counter() - t)
            t = time.perf_counter()
            await asyncio.gather(*(storage.profile("bench", f"u{n}") for n in range(users)))
            reads = users / (time.perf_counter() - t)
    print(f"  profiles, {users} users at once: {writes:,.0f} writes/s, {reads:,.0f} reads/s")


def one_shot_ask() -> None:
    exe = ROOT / ".venv" / "bin" / "mle-advisor"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "oneshot.db")
        subprocess.run([*cmd, "ask", "--db", db, "warm up"], capture_output=True, check=False)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([*cmd, "ask", "--db", db, "--json", "which book for deep learning?"], capture_output=True, check=True)
            times.append(time.perf_counter() - t)
    print(f"  one-shot `mle-advisor ask`: median {statistics.median(times):.3f} s, max {max(times):.3f} s (5 runs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5000, help="questions per knowledge size")
    parser.add_argument("--no-discord", action="store_true", help="skip the Discord emulator figures")
    opts = parser.parse_args()

    print("Knowledge")
    loads = []
    for _ in range(5):
        t = time.perf_counter()
        kb = load_knowledge(KNOWLEDGE)
        loads.append((time.perf_counter() - t) * 1000)
    counts = ", ".join(f"{n} {k}" for k, n in kb.counts().items())
    print(f"  shipped knowledge ({counts}): load + validate median {statistics.median(loads):.1f} ms")

    print("Per question, warm process")
    asyncio.run(time_questions(kb, f"shipped ({len(kb.topics)} topics)", opts.rounds))
    for size in (1000, 10000):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "knowledge"
            synthetic_knowledge(folder, size)
            t = time.perf_counter()
            big = load_knowledge(folder)
            load_ms = (time.perf_counter() - t) * 1000
            asyncio.run(time_questions(big, f"{size:,} synthetic entries", opts.rounds))
            print(f"  {'':<28} (loaded in {load_ms:,.0f} ms)")

    print("Storage")
    asyncio.run(storage_throughput())

    print("Command line")
    one_shot_ask()

    if not opts.no_discord:
        try:
            from tests.e2e.bench_discord import run_discord_bench
        except ImportError:
            print("Discord: the emulator benchmark is not available in this checkout")
        else:
            print("Discord (through the local API emulator)")
            run_discord_bench()
            from tests.e2e.bench_shards import run_shards_bench

            print("Sustained load, one process on SQLite and two processes split by shard on PostgreSQL")
            run_shards_bench()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
