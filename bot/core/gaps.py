"""Moderators' gaps, grouped: "how much do ML engineers earn", "How much do ml engineers earn??" and "hey, how
much does an ML engineer earn" are one gap asked three times, not three gaps.

Two questions are the same gap when they have the same words once case, accents, punctuation, spacing,
contractions, word endings (plural, -ing) and trivial words (greetings, "please", articles, chat filler)
are set aside. Words that change the meaning ("not", "without", "how" vs "why") always count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bot.core.storage import Gap
from bot.core.text import BREAK, stem, words

TRIVIAL = frozenset(
    """a an the please pls plz kindly hey hi hello hiya yo guys folks everyone everybody anyone anybody all y'all
    yall so um uh uhh hmm hm just really actually basically quick quickly question lol haha ok okay well like
    btw anyway anyways thanks thank thx ty cheers also very pretty quite""".split()
)


_SAME = {"does": "do", "doe": "do", "is": "be", "are": "be", "am": "be", "was": "be", "were": "be"}


def gap_key(text: str) -> str:
    """What a question is, for grouping: its meaningful words, stemmed, in order."""
    kept = [_SAME.get(w) or stem(w) for w in words(text) if w != BREAK and w not in TRIVIAL]
    return " ".join(kept) or " ".join(text.lower().split())


def group(gaps: Iterable[Gap]) -> list[Gap]:
    """Gaps with the same key merged into one: counts added, the most asked wording shown, the latest
    time kept. Most frequent first."""
    merged: dict[str, tuple[Gap, int]] = {}  # key -> (sum so far, times of the wording shown)
    for gap in gaps:
        key = gap_key(gap.asked_as or gap.question)
        if key not in merged:
            merged[key] = (gap, gap.times)
            continue
        total, shown_times = merged[key]
        shown = gap if gap.times > shown_times else total
        merged[key] = (replace(total, question=shown.question, asked_as=shown.asked_as,
                               times=total.times + gap.times, unanswered=total.unanswered + gap.unanswered,
                               unhelpful=total.unhelpful + gap.unhelpful,
                               last_asked=max(total.last_asked, gap.last_asked)), max(shown_times, gap.times))
    return sorted((g for g, _ in merged.values()), key=lambda g: (-g.times, _reverse(g.last_asked)))


def _reverse(stamp: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in stamp)  # latest first among equals
