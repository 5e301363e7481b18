"""One question rate per member: mentions, answer channels, /ask and the message menu share it.

A sliding window: a member may ask `rate` questions in any `per` seconds (per server; DMs count as one
place). Kept in memory: a restart forgives everyone, which is fine for a rate limit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_members: int = 50_000) -> None:
        self._clock = clock
        self._asked: dict[tuple[str, str], deque[float]] = {}
        self._max_members = max_members

    def retry_after(self, place: str, user: str, rate: int, per: float) -> float:
        """0 when the member may ask now (and counts this question); else seconds until they may."""
        now = self._clock()
        key = (place, user)
        times = self._asked.get(key)
        if times is None:
            if len(self._asked) >= self._max_members:
                self._forget_idle(now, per)
            times = self._asked[key] = deque()
        while times and now - times[0] >= per:
            times.popleft()
        if len(times) >= rate:
            return max(per - (now - times[0]), 0.1)
        times.append(now)
        return 0.0

    def _forget_idle(self, now: float, per: float) -> None:
        for key in [k for k, t in self._asked.items() if not t or now - t[-1] >= per]:
            del self._asked[key]
