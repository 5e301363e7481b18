"""How common a word is in ordinary English, from a word list shipped with the bot.

The matcher uses it to weigh a word the knowledge never uses: a common word ("emailing", "friend",
"keep") says little about the topic, so it should barely count against a match, while a rare one
("toddler", "tattoo", "guitar") is strong evidence that the question is about something else.

The list is wordfreq's English "small" list (about 29,000 words, Zipf 3 and up), derived once into
data/english-zipf.txt.gz (scripts/derive_english.py; licence and attribution in
data/ENGLISH-ZIPF-LICENSE.md), so the bot does not install wordfreq and its dependencies (70 MB) to read
one table. Without the file, every word counts as rare, which is how the matcher behaved before.

The file holds one "word N" line per word, sorted, so that a process asking about a few words (a one-shot
`mle-advisor ask`) finds each by binary search instead of building the whole table first (issue 17).
"""

from __future__ import annotations

import gzip
import logging
from functools import cache
from pathlib import Path

log = logging.getLogger("mle_advisor.english")

RARE = 3.0
"""The Zipf value of a word missing from the list: once per million words or rarer."""
DATA = Path(__file__).resolve().parent / "data" / "english-zipf.txt.gz"


TABLE_AFTER = 500
"""Distinct words looked up in the sorted list (a binary search each, a few microseconds) before the
whole table is built (milliseconds): a one-shot `mle-advisor ask` looks up a few dozen words, while a bot
answering all day, or a knowledge being compiled, soon looks up thousands."""


@cache
def _sorted() -> tuple[bytes, int]:
    """The list's text (one "word N" line each, sorted by the word's UTF-8 bytes) and where the words start
    (after the comment lines at the top)."""
    try:
        data = gzip.decompress(DATA.read_bytes())
    except (OSError, EOFError) as exc:
        log.warning("cannot read the English word list %s (%s): unknown words all count as rare", DATA, exc)
        return b"", 0
    start = 0
    while data.startswith(b"#", start):
        start = data.index(b"\n", start) + 1
    return data, start


def _zipf_of(bucket: bytes) -> float:
    # Bucket n holds the words whose frequency is 10^(-n/100); Zipf is log10 of frequency per billion words.
    return 9.0 - int(bucket) / 100


_table: dict[str, float] | None = None
_found: dict[str, float | None] = {}
"""Until the table is built: the words looked up so far (None: not in the list)."""


def _zipf_table() -> dict[str, float]:
    """Every word of the list → its Zipf value."""
    global _table
    if _table is None:
        data, start = _sorted()
        try:
            tokens = data[start:].decode("utf-8").replace("\n", " ").split()  # word, N, word, N, ...
            value = {bucket: _zipf_of(bucket.encode()) for bucket in set(tokens[1::2])}
            table = dict(zip(tokens[0::2], map(value.__getitem__, tokens[1::2]), strict=True))
        except (UnicodeDecodeError, ValueError) as exc:
            log.warning("the English word list %s is damaged (%s): unknown words all count as rare", DATA, exc)
            table = {}
        _table = table
        _found.clear()
    return _table


def _search(word: str) -> float | None:
    """Binary search of the sorted list: the word's Zipf value, or None."""
    data, lo = _sorted()
    key = word.encode("utf-8", "surrogatepass")
    hi = len(data)
    while lo < hi:  # lo and hi are each the start of a line (or the end)
        mid = (lo + hi) // 2
        line = data.rfind(b"\n", lo, mid) + 1 or lo
        space = data.find(b" ", line)
        end = data.find(b"\n", line)
        if space < 0 or end < 0 or space > end:
            return None  # a damaged file: as if the word were missing
        here = data[line:space]
        if here < key:
            lo = end + 1
        elif here > key:
            hi = line
        else:
            try:
                return _zipf_of(data[space + 1 : end])
            except ValueError:
                return None
    return None


def _lookup(word: str) -> float | None:
    """The word's Zipf value, or None when it is not in the list."""
    if _table is not None:
        return _table.get(word)
    if word in _found:
        return _found[word]
    if len(_found) >= TABLE_AFTER:
        return _zipf_table().get(word)
    value = _found[word] = _search(word) if word and not any(c in word for c in " \n") else None
    return value


def known(word: str) -> bool:
    """Whether `word` is in the list at all: typos, slang, compounds and jargon are not."""
    return _lookup(word) is not None


def zipf(word: str) -> float:
    """Zipf frequency of `word` (lower case): 7+ for "the", ~5 for "friend", ~3 for "toddler"."""
    value = _lookup(word)
    return RARE if value is None else value


def commonness(word: str) -> float:
    """0 for a rare word, 1 for one of the most common ones, linear in Zipf between 3 and 6."""
    return min(max((zipf(word) - RARE) / 3.0, 0.0), 1.0)
