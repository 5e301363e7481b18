"""Do two versions of the engine read questions the same way? A harness for matcher changes.

    python scripts/equivalence.py record OUT.jsonl [--root TREE] [--count N]
    python scripts/equivalence.py compare BEFORE.jsonl AFTER.jsonl

`record` reads every question of ../shared/eval/dev_eval.yaml (as a first message and as a follow-up)
and N questions generated from the knowledge's own phrasings (shuffled, cut, misspelt, joined, with
filler and off-topic words, some as follow-ups of a random topic) with the engine found in TREE (default:
this checkout), and writes one line per question: the reading's kind, topics and scores, follow-up,
named resources and near misses, and the raw `Index.search` hits for the question's stems. Run it on the
old tree (`git worktree add` or `git archive`) and on the new one, then `compare`: it counts questions
whose top topic, whose whole reading, and whose search hits differ, and lists the first few.
Nothing here is a test: the generated questions are random words, only their sameness matters.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval" / "dev_eval.yaml"
FILLER = ["how", "do", "i", "what", "is", "the", "best", "way", "to", "should", "which", "for", "a", "can", "you",
          "any", "good", "for", "me", "that", "it", "there", "book", "course", "free", "next", "after", "I'm a"]
OTHER = ["bread", "guitar", "Tokyo", "toddler", "weather", "football", "tattoo", "recipe", "physicist", "nurse",
         "accountant", "teacher", "Goodfellow", "ESL", "Andrew Ng", "lawyer", "python", "I learned", "now what"]


def eval_questions() -> list[str]:
    import yaml

    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("ask", "say") and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if EVAL.is_file():
        walk(yaml.safe_load(EVAL.read_text()))
    return found


def generated(kb: object, count: int, seed: int = 5) -> list[tuple[str, str | None]]:
    rng = random.Random(seed)
    topics = sorted(kb.topics)  # type: ignore[attr-defined]
    phrases = sorted({p for t in kb.topics.values() for p in (t.title, *t.ask, *t.keywords)})  # type: ignore[attr-defined]
    names = sorted({r.name for r in kb.resources.values()} | {a for r in kb.resources.values() for a in r.aliases})  # type: ignore[attr-defined]
    out: list[tuple[str, str | None]] = []
    for n in range(count):
        words = rng.choice(phrases).split()
        style = n % 9
        if style == 1:
            words = words + rng.choice(phrases).split()[: rng.randint(1, 3)]
        elif style == 2 and len(words) > 2:
            words = rng.sample(words, len(words) - 1)
        elif style == 3:
            words = [*words, rng.choice(OTHER)]
        elif style == 4:
            words = [rng.choice(OTHER), *rng.choice(OTHER).split(), *words[:2]]
        elif style == 5:
            words = [*rng.choice(names).split(), *rng.sample(FILLER, 2)]
        elif style == 6 and words:
            i = rng.randrange(len(words))
            w = words[i]
            if len(w) > 4:
                k = rng.randrange(1, len(w) - 2)
                words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
        elif style == 7:
            rng.shuffle(words)
        text = " ".join(rng.sample(FILLER, rng.randint(0, 3)) + words)
        if n % 4 == 0:
            text = text.capitalize() + rng.choice(["?", "", ".", "!!", " ?"])
        if n % 11 == 0:
            text = f"I'm a {rng.choice(OTHER)}. {text}?"
        previous = rng.choice(topics) if n % 5 == 0 else None
        out.append((text, previous))
    return out


def record(out: Path, count: int, folder: Path) -> None:
    from bot.core.knowledge import load_knowledge
    from bot.core.understand import Reader

    kb = load_knowledge(folder)
    reader = Reader(kb)
    cases: list[tuple[str, str | None]] = [(q, None) for q in eval_questions()]
    topics = sorted(kb.topics)
    cases += [(q, topics[n % len(topics)]) for n, q in enumerate(eval_questions())]
    cases += generated(kb, count)
    with out.open("w") as stream:
        for question, previous in cases:
            r = reader.read(question, previous=previous)
            stems = kb.normalizer.stems(question)
            hits = kb.index.search(stems, limit=8, threshold=0.0)
            above = kb.index.search(stems, limit=3, threshold=0.2)
            stream.write(json.dumps({
                "q": question, "previous": previous, "kind": r.kind, "topic": r.topic,
                "matches": [[m.id, m.score] for m in r.matches], "followup": r.followup,
                "named": list(r.named), "near": [m.id for m in r.near], "mean": [m.id for m in r.did_you_mean],
                "elsewhere": list(r.elsewhere), "search": [[m.id, m.score] for m in hits] + [[m.id, m.score] for m in above],
            }) + "\n")
    print(f"{len(cases)} questions read with {sys.modules['bot'].__file__}")


def compare(before: Path, after: Path) -> int:
    old = [json.loads(line) for line in before.read_text().splitlines()]
    new = [json.loads(line) for line in after.read_text().splitlines()]
    if [o["q"] for o in old] != [n["q"] for n in new]:
        print("the two files hold different questions")
        return 2
    top = [(o, n) for o, n in zip(old, new, strict=True) if (o["kind"], o["topic"]) != (n["kind"], n["topic"])]
    whole = [(o, n) for o, n in zip(old, new, strict=True) if {k: v for k, v in o.items() if k != "search"} != {k: v for k, v in n.items() if k != "search"}]
    search = [(o, n) for o, n in zip(old, new, strict=True) if o["search"] != n["search"]]
    print(f"{len(old)} questions: top topic differs on {len(top)}, whole reading on {len(whole)}, "
          f"search hits on {len(search)}")
    for o, n in (top or whole or search)[:10]:
        print(f"  {o['q']!r} (previous {o['previous']}):\n    before {o['kind']} {o['matches'][:3]} {o['search'][:3]}\n"
              f"    after  {n['kind']} {n['matches'][:3]} {n['search'][:3]}")
    return 1 if top else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--root", type=Path, default=ROOT, help="the source tree whose engine reads the questions")
    rec.add_argument("--count", type=int, default=5000)
    rec.add_argument("--knowledge", type=Path, help="the knowledge folder (default: TREE/knowledge)")
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    opts = parser.parse_args()
    if opts.command == "record":
        sys.path.insert(0, str(opts.root.resolve()))
        record(opts.out, opts.count, opts.knowledge or opts.root / "knowledge")
        return 0
    return compare(opts.before, opts.after)


if __name__ == "__main__":
    raise SystemExit(main())
