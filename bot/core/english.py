"""How common a word is in ordinary English, from wordfreq's word list.

The matcher uses it to weigh a word the knowledge never uses: a common word ("emailing", "friend",
"keep") says little about the topic, so it should barely count against a match, while a rare one
("toddler", "tattoo", "guitar") is strong evidence that the question is about something else.

wordfreq's English "small" list (about 29,000 words, Zipf 3 and up) is read straight from the file the
package ships, in its documented cBpack format: importing wordfreq itself pulls in regex, ftfy and
langcodes and costs ~100 ms, a third of a one-shot `mle-advisor ask`. Without the file, every word
counts as rare, which is how the matcher behaved before.
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
from functools import cache
from pathlib import Path

log = logging.getLogger("mle_advisor.english")

RARE = 3.0
"""The Zipf value of a word missing from the list: once per million words or rarer."""


def _data_file() -> Path | None:
    spec = importlib.util.find_spec("wordfreq")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "small_en.msgpack.gz"
    return path if path.is_file() else None


@cache
def _zipf_table() -> dict[str, float]:
    path = _data_file()
    if path is None:
        log.warning("wordfreq's English word list is missing: unknown words all count as rare")
        return {}
    import msgpack  # wordfreq's own dependency

    try:
        with gzip.open(path) as stream:
            data = msgpack.load(stream, raw=False)
    except (OSError, ValueError, msgpack.UnpackException) as exc:
        log.warning("cannot read wordfreq's English word list (%s): unknown words all count as rare", exc)
        return {}
    header, buckets = data[0], data[1:]
    if not (isinstance(header, dict) and header.get("format") == "cB"):
        log.warning("wordfreq's English word list has an unknown format: unknown words all count as rare")
        return {}
    # Bucket i holds the words whose frequency is 10^(-i/100); Zipf is log10 of frequency per billion words.
    return {word: 9.0 - i / 100 for i, bucket in enumerate(buckets) for word in bucket}


def known(word: str) -> bool:
    """Whether `word` is in the list at all: typos, slang, compounds and jargon are not."""
    return word in _zipf_table()


def zipf(word: str) -> float:
    """Zipf frequency of `word` (lower case): 7+ for "the", ~5 for "friend", ~3 for "toddler"."""
    return _zipf_table().get(word, RARE)


def commonness(word: str) -> float:
    """0 for a rare word, 1 for one of the most common ones, linear in Zipf between 3 and 6."""
    return min(max((zipf(word) - RARE) / 3.0, 0.0), 1.0)
