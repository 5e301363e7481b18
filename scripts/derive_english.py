"""Rebuild bot/core/data/english-zipf.txt.gz from wordfreq's English "small" list (run by hand, rarely).

    pip install wordfreq==3.1.1 && python scripts/derive_english.py

The bot reads only this derived file (bot/core/english.py), so it does not depend on wordfreq (70 MB
installed with its dependencies) to read one 125 KB table. The list is wordfreq's data, licensed
CC BY-SA 4.0: see bot/core/data/ENGLISH-ZIPF-LICENSE.md, shipped beside it.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import msgpack  # wordfreq's own dependency

OUT = Path(__file__).resolve().parent.parent / "bot" / "core" / "data" / "english-zipf.txt.gz"


def main() -> None:
    spec = importlib.util.find_spec("wordfreq")
    assert spec and spec.submodule_search_locations, "pip install wordfreq==3.1.1 first"
    source = Path(next(iter(spec.submodule_search_locations))) / "data" / "small_en.msgpack.gz"
    with gzip.open(source) as stream:
        header, *buckets = msgpack.load(stream, raw=False)
    assert header.get("format") == "cB"
    lines = ["# English word frequencies from wordfreq 3.1.1 (small_en), CC BY-SA 4.0: see ENGLISH-ZIPF-LICENSE.md",
             "# each line: a word, then N: its Zipf frequency is 9 - N/100; sorted by the word's UTF-8 bytes"]
    bucket_of = {word: n for n, words in enumerate(buckets) for word in words}  # a word twice: the last wins
    # Sorted, so that english.py can find a word by binary search without reading the whole list.
    lines += [f"{word} {n}" for word, n in sorted(bucket_of.items(), key=lambda item: item[0].encode())]
    with gzip.GzipFile(OUT, "wb", mtime=0) as stream:  # mtime 0: the same bytes every time
        stream.write(("\n".join(lines) + "\n").encode())
    print(f"{OUT}: {sum(len(b) for b in buckets)} words, {OUT.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
