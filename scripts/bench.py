"""Speed and memory figures for MLE Advisor (`make bench`), side by side with anchors run on the same
machine in the same run. Prints figures; asserts nothing. Other work on the machine moves every figure:
compare a figure with its anchor in the same run, not with another run's.

1. Matching at scale: the engine (Reader.read, as the bot reads a question) and bm25s (the BM25 library,
   the anchor) on the same generated questions, over the shipped knowledge and the shipped knowledge
   plus 1,000, 10,000 and 100,000 synthetic entries of about 1.2 KB. For each: load time (the engine
   from the files, and from its compiled cache), resident memory the knowledge adds, p50 and p99 of a
   warm question, and the growth exponent of p50/p99 with the number of topics (log-log slope from 1k).
   Each engine and size runs in its own process, the two engines' warm runs interleaved --repeat times
   (medians shown); up to 10,000 entries under the knowledge limits a fresh install has.
2. Discord: the real bot and a bare discord.py bot answering the same slash commands with a fixed text,
   on the same local emulator (tests/e2e), taking turns for three rounds (medians): the highest rate
   each sustains with p99 ≤ 50 ms, the CPU each uses an interaction, and the longest garbage-collection
   pause in the bot over 10,000 interactions, by the clock and in CPU time (tests/e2e/bench_discord.py).
3. One-shot `mle-advisor ask` (a new process each time): wall and CPU seconds and peak memory, beside two
   anchors run interleaved with it (a bare interpreter, and one reading only the settings: pydantic-settings
   and pydantic, the floor of every command), and instructions counted by valgrind when it is installed
   (the same on a busy machine as on a quiet one); and the size of the run-only install.
4. Storage: trips to the database's thread for one question on SQLite (read and write).

    python scripts/bench.py [--sizes 0,1000,10000,100000] [--questions 2000] [--repeat 3] [--no-discord | --discord-only]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import itertools
import json
import math
import os
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
KNOWLEDGE = ROOT / "knowledge"
PER_FILE = 200  # entries in one synthetic file: about 240 KB, as a large hand-kept file would be


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# --- synthetic knowledge ---------------------------------------------------------------------------------

def synthetic_knowledge(target: Path, entries: int, seed: int = 11) -> None:
    """The shipped knowledge plus `entries` generated entries of about 1.2 KB (title, four ways to ask,
    eight keywords, a 60-word answer, two resources) and one generated resource per ten entries.
    Words follow a Zipf curve over the shipped vocabulary and made-up words (two per entry), so a few
    words are shared by most topics, as "ml" and "learn" are in the shipped knowledge."""
    from bot.core.knowledge import load_knowledge

    shutil.copytree(KNOWLEDGE, target)
    if not entries:
        return
    kb = load_knowledge(KNOWLEDGE)
    rng = random.Random(seed)
    vocab = sorted(w for w in kb.normalizer.vocabulary if w.isalpha())
    syllables = ["ka", "lo", "mi", "tra", "zen", "vor", "pel", "qui", "dar", "sen", "bo", "ly", "nex", "tor", "ga", "ri"]
    made = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(entries * 2)})
    pool = vocab + made
    rng.shuffle(pool)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(pool))))

    def words(k: int) -> str:
        return json.dumps(" ".join(rng.choices(pool, cum_weights=cumulative, k=k)))  # quoted: "no" is not a boolean

    sources = ", ".join(sorted(kb.sources)[:2])
    shipped = sorted(kb.resources)
    for start in range(0, entries, PER_FILE):
        stop = min(start + PER_FILE, entries)
        lines = ["resources:"]
        for n in range(start, stop, 10):
            lines += [f"  - id: synthetic-resource-{n}", f"    name: {words(3)}", "    type: book",
                      f"    note: {words(12)}", f"    aliases: [{words(2)}]", f"    sources: [{sources}]"]
        lines.append("entries:")
        for n in range(start, stop):
            lines += [f"  - id: synthetic-{n}", f"    title: {words(3)}", "    ask:",
                      *(f"      - {words(rng.randint(5, 9))}" for _ in range(4)),
                      f"    keywords: [{', '.join(words(rng.randint(1, 3)) for _ in range(8))}]",
                      f"    answer: {words(60)}",
                      f"    resources: [synthetic-resource-{n // 10 * 10}, {rng.choice(shipped)}]",
                      f"    sources: [{sources}]"]
        (target / f"synthetic-{start // PER_FILE:04d}.yaml").write_text("\n".join(lines) + "\n")


# --- one engine on one knowledge, in its own process ------------------------------------------------------

def _time_each(questions: list[str], answer: object) -> tuple[float, float, float]:
    """p50 and p99 of a question's wall time, and p99 of the CPU time this thread spent on it (which other
    work on a busy machine moves less: it is not charged for the time the process waits for a core)."""
    for q in questions[:50]:
        answer(q)  # type: ignore[operator]
    times, cpu = [], []
    for q in questions:
        t, c = time.perf_counter(), time.thread_time()
        answer(q)  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    return percentile(times, 50), percentile(times, 99), percentile(cpu, 99)


def run_engine(folder: Path, cache: Path, questions_file: Path, count: int, phase: str, limits: str) -> dict[str, float]:
    """`phase` "files": load from the files (and keep the compiled form); "compiled": load from it and
    answer `count` generated questions (written to `questions_file` for bm25s). `limits` "default": the
    knowledge limits a fresh install has; "raised": none to speak of (the 100k knowledge is over the defaults)."""
    from bot.core import yamlfile

    if limits == "raised":
        yamlfile.use_limits(yamlfile.Limits(2**30, 2**40, 10**6))
    from bot.core.knowledge import load_knowledge
    from bot.core.understand import Reader

    before = rss_mib()
    t = time.perf_counter()
    kb = load_knowledge(folder, cache=cache)
    load = time.perf_counter() - t
    if phase == "files":
        return {"load_files": load}
    gc.collect()
    gc.freeze()  # as the bot does after start (bot/core/heap.py)
    added = rss_mib() - before
    from scripts.equivalence import generated

    questions = [q for q, _ in generated(kb, count, seed=3)]
    questions_file.write_text(json.dumps(questions))
    reader = Reader(kb)
    p50, p99, cpu = _time_each(questions, reader.read)
    return {"load_compiled": load, "rss": added, "p50": p50, "p99": p99, "cpu": cpu, "topics": len(kb.topics)}


def run_bm25(folder: Path, questions_file: Path) -> dict[str, float]:
    """bm25s over each topic's title, phrasings, keywords and answer (English stop words, Snowball stems)."""
    import bm25s
    import Stemmer
    import yaml

    before = rss_mib()
    t = time.perf_counter()
    texts = []
    for path in sorted(folder.rglob("*.yaml")):
        data = yaml.load(path.read_text(), Loader=yaml.CSafeLoader) or {}
        for section in ("steps", "entries"):
            for topic in data.get(section) or []:
                texts.append(" ".join([topic["title"], *topic.get("ask", []), *topic.get("keywords", []), topic["answer"]]))
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    load = time.perf_counter() - t
    gc.collect()
    added = rss_mib() - before
    questions = json.loads(questions_file.read_text())

    def answer(question: str) -> object:
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return None
        return retriever.retrieve(tokens, k=min(5, len(texts)), show_progress=False, n_threads=1)

    p50, p99, cpu = _time_each(questions, answer)
    return {"load": load, "rss": added, "p50": p50, "p99": p99, "cpu": cpu}


def _child(*args: str) -> dict[str, float]:
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["?"])[-1]}  # type: ignore[dict-item]
    return json.loads(result.stdout.strip().splitlines()[-1])


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(y) on log(x)."""
    xs, ys = [math.log(x) for x, _ in points], [math.log(y) for _, y in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs that did not fail (the first failure if all did)."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    return {key: statistics.median(r[key] for r in good) for key in good[0]}


def matching(sizes: list[int], count: int, repeat: int = 3) -> None:
    print(f"1. Matching: the engine vs bm25s on the same questions (warm; each engine and size in its own process; "
          f"medians of {repeat} interleaved runs; the default knowledge limits up to 10,000 entries)")
    print(f"   {'knowledge':<22}{'engine: load files':>19}{'compiled':>10}{'+RSS':>8}{'p50':>9}{'p99':>9}{'cpu p99':>9}"
          f"   | {'bm25s: load':>11}{'+RSS':>8}{'p50':>9}{'p99':>9}{'cpu p99':>9}   {'p99 ratio':>9}{'cpu':>6}")
    engine: list[tuple[int, float, float]] = []
    anchor: list[tuple[int, float, float]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder, cache, questions = Path(tmp) / "knowledge", Path(tmp) / "cache", Path(tmp) / "questions.json"
            synthetic_knowledge(folder, size)
            n = count if size < 100_000 else max(count // 4, 200)
            limits = "default" if size <= 10_000 else "raised"
            cold = _child("--engine", str(folder), str(cache), str(questions), str(n), "files", limits)
            warms, bms = [], []
            for _ in range(repeat):  # interleaved, so that other work on the machine weighs on both alike
                warms.append(_child("--engine", str(folder), str(cache), str(questions), str(n), "compiled", limits))
                bms.append(_child("--bm25", str(folder), str(questions)) if "error" not in warms[-1] else {"error": "no questions"})
            warm, bm = _median(warms), _median(bms)
        label = "shipped" if not size else f"+{size:,} entries"
        if "error" in warm or "error" in cold:
            print(f"   {label:<22}engine failed: {warm.get('error') or cold.get('error')}")
            continue
        label += f" ({warm['topics']:,.0f})"
        line = (f"   {label:<22}{cold['load_files']:>17.2f} s{warm['load_compiled']:>8.2f} s{warm['rss']:>5.0f} MB"
                f"{warm['p50']:>6.2f} ms{warm['p99']:>6.2f} ms{warm['cpu']:>6.2f} ms   | ")
        if "error" in bm:
            line += f"bm25s failed: {bm['error']}"
        else:
            line += (f"{bm['load']:>9.2f} s{bm['rss']:>5.0f} MB{bm['p50']:>6.2f} ms{bm['p99']:>6.2f} ms{bm['cpu']:>6.2f} ms"
                     f"   {warm['p99'] / bm['p99']:>8.1f}x{warm['cpu'] / bm['cpu']:>5.1f}x")
            anchor.append((int(warm["topics"]), bm["p50"], bm["p99"]))
        engine.append((int(warm["topics"]), warm["p50"], warm["p99"]))
        print(line, flush=True)
    for name, rows in (("engine", engine), ("bm25s", anchor)):
        big = [r for r in rows if r[0] >= 1000]
        if len(big) >= 2:
            print(f"   growth exponent ({name}, from {big[0][0]:,} to {big[-1][0]:,} topics): "
                  f"p50 {slope([(t, p) for t, p, _ in big]):.2f}, p99 {slope([(t, p) for t, _, p in big]):.2f}")


# --- the command line and the install -------------------------------------------------------------------

def _one_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident MiB of one process run to its end."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-3:])} exited {child.returncode}: {errors.decode(errors='replace')[-300:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _instructions(cmd: list[str], env: dict[str, str]) -> int | None:
    """Instructions one process executes (valgrind's callgrind, ~50x slower), or None without valgrind."""
    if not shutil.which("valgrind"):
        return None
    result = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                            capture_output=True, text=True, env={**env, "PYTHONHASHSEED": "0"}, check=False)
    found = [line.split()[-1] for line in result.stderr.splitlines() if "Collected :" in line]
    return int(found[-1]) if result.returncode == 0 and found else None


def one_shot_ask(runs: int = 7) -> None:
    """`mle-advisor ask` in a new process each time, interleaved with two anchors run the same way: a bare
    interpreter, and one that only reads the settings (importing pydantic-settings and pydantic, which every
    command needs: the floor of any start while the settings are pydantic-settings)."""
    exe = ROOT / ".venv" / "bin" / "mle-advisor"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "bot"]
    # As installed: bytecode cached (an environment with PYTHONDONTWRITEBYTECODE would compile every module
    # of the project on every run, ~0.4 s here); the warm-up run writes it and the compiled knowledge.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "oneshot.db")
        env["DATABASE_PATH"] = str(Path(tmp) / "data" / "advisor.db")  # the compiled knowledge goes beside it
        kinds = {
            "ask": [*cmd, "ask", "--db", db, "--json", "which book for deep learning?"],
            "python": [sys.executable, "-c", "pass"],
            "settings": [sys.executable, "-c", "import bot.settings as s; s.load()"],
        }
        _one_process(kinds["ask"], env)
        _one_process(kinds["settings"], env)
        figures: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
        for _ in range(runs):
            for kind, command in kinds.items():
                figures[kind].append(_one_process(command, {**env, "PYTHONPATH": str(ROOT)}))

        counted = {kind: _instructions(command, {**env, "PYTHONPATH": str(ROOT)}) for kind, command in kinds.items()}

    def median(kind: str, i: int) -> float:
        return statistics.median(f[i] for f in figures[kind])

    print(f"3. One-shot `mle-advisor ask` (a new process each time, medians of {runs} interleaved runs): "
          f"{median('ask', 0):.3f} s ({median('ask', 1):.3f} s CPU), {median('ask', 2):.0f} MiB peak")
    print(f"   anchors in the same runs: a bare `python -c pass` {median('python', 0):.3f} s; reading the settings "
          f"alone (pydantic-settings) {median('settings', 0):.3f} s ({median('settings', 1):.3f} s CPU), "
          f"{median('settings', 2):.0f} MiB; ask minus the settings alone: {median('ask', 1) - median('settings', 1):.3f} s CPU")
    if all(counted.values()):  # instructions do not move with the machine's load, unlike seconds
        print(f"   instructions (valgrind): ask {counted['ask'] / 1e6:.0f}M, the settings alone {counted['settings'] / 1e6:.0f}M "
              f"({counted['ask'] / counted['settings']:.2f}x), a bare python {counted['python'] / 1e6:.0f}M")
    else:
        print("   (instructions not counted: valgrind is not installed)")


def install_size() -> None:
    """The installed size of the packages requirements.lock pins (what `make run` installs), from this venv."""
    from importlib import metadata

    names = [line.split("==")[0].strip().lower() for line in (ROOT / "requirements.lock").read_text().splitlines()
             if "==" in line and not line.startswith((" ", "#"))]
    total, missing = 0, []
    for name in names:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        for file in dist.files or []:
            path = Path(dist.locate_file(file))
            if path.is_file():
                total += path.stat().st_size
    note = f" ({len(missing)} not installed here: {', '.join(missing)})" if missing else ""
    print(f"   run-only install: {total / 1e6:.0f} MB in {len(names)} packages pinned by requirements.lock{note}, "
          "plus the project and pip")


def round_trips_per_question() -> None:
    """Trips to aiosqlite's thread (each a hand-over to another thread and back) for one question through
    the advisor on SQLite, with and without a background stated in it (issue 17: at most 2)."""
    import asyncio

    from bot.core.advisor import Advisor
    from bot.core.knowledge import load_knowledge
    from bot.core.place import Place
    from bot.core.storage import Storage

    class Counted:  # aiosqlite's queue of work for its thread: one put, one trip
        def __init__(self, queue: object) -> None:
            self.queue, self.trips = queue, 0

        def put_nowait(self, item: object) -> None:
            self.trips += 1
            self.queue.put_nowait(item)  # type: ignore[attr-defined]

    async def count() -> list[str]:
        figures = []
        with tempfile.TemporaryDirectory() as tmp:
            async with Storage(Path(tmp) / "bench.db") as storage:
                advisor = Advisor(load_knowledge(KNOWLEDGE), storage)
                for label, question in (("without a background", "how do I become an ML engineer?"),
                                        ("stating a background", "I'm a physicist, how do I become an ML engineer?")):
                    counted = storage.db._tx = Counted(storage.db._tx)
                    await advisor.ask(f"trips-{len(figures)}", question, Place("bench", channel="c", public=False))
                    storage.db._tx = counted.queue
                    figures.append(f"{counted.trips} {label}")
        return figures

    print(f"4. Storage: SQLite trips to the writer's thread a question (its read runs on the event loop): "
          f"{', '.join(asyncio.run(count()))}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--engine":
        folder, cache, questions, count, phase, limits = sys.argv[2:8]
        print(json.dumps(run_engine(Path(folder), Path(cache), Path(questions), int(count), phase, limits)))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--bm25":
        print(json.dumps(run_bm25(Path(sys.argv[2]), Path(sys.argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="0,1000,10000,100000", help="synthetic entries added to the shipped ones")
    parser.add_argument("--questions", type=int, default=2000, help="questions per size (a quarter at 100k)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs of each engine per size (medians are shown)")
    parser.add_argument("--no-discord", action="store_true", help="skip the Discord emulator figures")
    parser.add_argument("--discord-only", action="store_true", help="only the Discord emulator figures")
    opts = parser.parse_args()
    started = time.perf_counter()
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start)")
    if not opts.discord_only:
        matching([int(s) for s in opts.sizes.split(",")], opts.questions, max(opts.repeat, 1))
        # Measured before the Discord part, printed after it: a child's peak memory counts this process's
        # memory at the fork, which the in-process emulator and bots would otherwise add to `ask`'s figure.
        one_shot = io.StringIO()
        with contextlib.redirect_stdout(one_shot):
            one_shot_ask()
    if not opts.no_discord:
        try:
            from tests.e2e.bench_discord import run_discord_bench
        except ImportError as exc:
            print(f"2. Discord: the emulator benchmark is not available here ({exc})")
        else:
            print("2. Discord, through the local API emulator")
            run_discord_bench()
            from tests.e2e.bench_shards import run_shards_bench

            print("   Sustained load, one process on SQLite and two processes split by shard on PostgreSQL")
            run_shards_bench()
    if not opts.discord_only:
        print(one_shot.getvalue(), end="")
        install_size()
        round_trips_per_question()
    print(f"(bench took {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} at the end)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
