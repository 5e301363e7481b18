"""How common a word is in ordinary English, from a word list shipped with the bot.

The matcher uses it to weigh a word the knowledge never uses: a common word ("emailing", "friend",
"keep") says little about the topic, so it should barely count against a match, while a rare one
("toddler", "tattoo", "guitar") is strong evidence that the question is about something else.

The list is wordfreq's English "small" list (about 29,000 words, Zipf 3 and up), derived once into
data/english-zipf.txt.gz (scripts/derive_english.py; licence and attribution in
data/ENGLISH-ZIPF-LICENSE.md), so the bot does not install wordfreq and its dependencies (70 MB) to read
one table. Without the file, every word counts as rare, which is how the matcher behaved before.
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


@cache
def _zipf_table() -> dict[str, float]:
    try:
        text = gzip.decompress(DATA.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        log.warning("cannot read the English word list %s (%s): unknown words all count as rare", DATA, exc)
        return {}
    table: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            bucket, *words = line.split(" ")
            # Bucket n holds the words whose frequency is 10^(-n/100); Zipf is log10 of frequency per billion words.
            zipf = 9.0 - int(bucket) / 100
            table.update(dict.fromkeys(words, zipf))
    return table


def known(word: str) -> bool:
    """Whether `word` is in the list at all: typos, slang, compounds and jargon are not."""
    return word in _zipf_table()


def zipf(word: str) -> float:
    """Zipf frequency of `word` (lower case): 7+ for "the", ~5 for "friend", ~3 for "toddler"."""
    return _zipf_table().get(word, RARE)


def commonness(word: str) -> float:
    """0 for a rare word, 1 for one of the most common ones, linear in Zipf between 3 and 6."""
    return min(max((zipf(word) - RARE) / 3.0, 0.0), 1.0)
