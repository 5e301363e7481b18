"""One question allowance per member and place: mentions, answer channels, /ask, the message menu, /step,
/resources and autocomplete share it.

A token bucket, as chat bots do it (RoboDanny allows 10 per 12 s): a member starts with `rate` tokens (the
burst) and gets `rate` back every `per` seconds, a little at a time. A question costs one token; typing in
an autocomplete costs a small fraction of one; small talk, help and 👍/👎 cost nothing, so a natural
conversation ("thanks!", "ok cool") never runs into the limit, while a flood of questions is stopped
after the burst. Free messages still have a generous flood guard of their own (FREE_BURST per minute),
so nobody can make the bot reply endlessly.

Kept in memory: a restart forgives everyone, which is fine for a rate limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

QUESTION, AUTOCOMPLETE, FREE = 1.0, 0.05, 0.0
"""What each kind of use costs, in questions."""
FREE_BURST, FREE_PER = 30, 60.0
"""The flood guard on free messages (small talk, help): this many per member in FREE_PER seconds."""


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False  # told "easy there" since the last allowed use: stay quiet until then


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_members: int = 50_000) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}
        self._max_members = max_members

    def retry_after(self, place: str, user: str, rate: int, per: float, cost: float = QUESTION) -> float:
        """0 when the member may go ahead now (and pays `cost`); else seconds until they may.

        A free use (cost 0) is counted against the flood guard instead of the question allowance."""
        if cost <= 0:
            return self._take((place, user, "free"), FREE_BURST, FREE_PER, 1.0)
        return self._take((place, user, "questions"), rate, per, cost)

    def first_refusal(self, place: str, user: str) -> bool:
        """True once per run of refusals: whether to tell the member, rather than repeat it on every message."""
        bucket = self._buckets.get((place, user, "questions"))
        if bucket is None or bucket.warned:
            return False
        bucket.warned = True
        return True

    def _take(self, key: tuple[str, str, str], rate: int, per: float, cost: float) -> float:
        now = self._clock()
        capacity = float(max(rate, 1))
        refill = capacity / max(per, 1e-9)  # tokens per second
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_members:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * refill)
        bucket.at = now
        if bucket.tokens + 1e-9 >= cost:
            bucket.tokens -= cost
            bucket.warned = False
            return 0.0
        return max((cost - bucket.tokens) / refill, 0.1)

    def _forget_full(self, now: float) -> None:
        """Drop members who have not asked for a while (their bucket would be full again anyway)."""
        for key in [k for k, b in self._buckets.items() if now - b.at >= 3600]:
            del self._buckets[key]
        if len(self._buckets) >= self._max_members:  # a flood of new members: forget the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].at)[: len(self._buckets) // 2]:
                del self._buckets[key]
