"""How the running process is doing, for the owner's /status (as RoboDanny's `bothealth`): memory, CPU,
threads, asyncio tasks, and how late the event loop runs (its lag: a loop that is late answers everyone
late). No Discord here and nothing beyond the standard library.

And the owner's alerts: `Incidents` decides which problems become a message, so a failure that repeats
(every write failing while the disk is full) is one message, not hundreds.
"""

from __future__ import annotations

import asyncio
import collections
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def rss_bytes() -> int:
    """Resident memory now (Linux), else the peak the OS reports."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class LoopLag:
    """Measures how late the event loop wakes up: it asks to sleep `interval` seconds and notes how much
    longer it took. Keeps the last minute or so of samples."""

    def __init__(self, interval: float = 1.0, keep: int = 60) -> None:
        self.interval = interval
        self.samples: collections.deque[float] = collections.deque(maxlen=keep)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.interval)
            self.samples.append(max(loop.time() - asked - self.interval, 0.0))

    @property
    def last(self) -> float | None:
        return self.samples[-1] if self.samples else None

    @property
    def worst(self) -> float | None:
        return max(self.samples) if self.samples else None


class CpuMeter:
    """CPU used by the process, as a share of one core: since start, and since the previous reading."""

    def __init__(self) -> None:
        self._start = self._last = (time.monotonic(), self._cpu())

    @staticmethod
    def _cpu() -> float:
        times = os.times()
        return times.user + times.system

    def read(self) -> tuple[float, float]:
        """(percent since start, percent since the last read)."""
        now = (time.monotonic(), self._cpu())
        since_start = (now[1] - self._start[1]) / max(now[0] - self._start[0], 1e-6) * 100
        recent = (now[1] - self._last[1]) / max(now[0] - self._last[0], 1e-6) * 100
        self._last = now
        return since_start, recent


def figures(lag: LoopLag, cpu: CpuMeter) -> list[str]:
    """One line each, for /status."""
    total, recent = cpu.read()
    tasks = len(asyncio.all_tasks())
    lag_text = "not measured yet" if lag.last is None else \
        f"{lag.last * 1000:.0f} ms now, worst {lag.worst * 1000:.0f} ms in the last {len(lag.samples)} s"  # type: ignore[operator]
    return [
        f"**Memory** {rss_bytes() / 2**20:.0f} MiB resident · **CPU** {recent:.0f}% since the last /status, "
        f"{total:.1f}% since start (of one core)",
        f"**Tasks** {tasks} asyncio · **threads** {threading.active_count()} · **event-loop lag** {lag_text}",
    ]


@dataclass
class _Incident:
    first: float
    last: float
    count: int = 1
    told: float = 0.0  # when the owner was last told about it


class Incidents:
    """Which problems to tell the owner about. An incident of a kind ("reload", "storage", "disconnect")
    opens with its first report, which is announced; reports while it is open are counted, not announced;
    it closes when `close()` is called (the thing works again) or after `settle` seconds without a
    report. A long incident is announced again at most every `remind` seconds, and at most `per_hour`
    announcements go out in any hour, whatever happens."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, settle: float = 600.0,
                 remind: float = 6 * 3600.0, per_hour: int = 6) -> None:
        self.clock = clock
        self.settle, self.remind, self.per_hour = settle, remind, per_hour
        self.open: dict[str, _Incident] = {}
        self._sent: collections.deque[float] = collections.deque()

    def report(self, kind: str, text: str) -> str | None:
        """The message to post for this report, or None when it belongs to an incident already announced
        (or the hourly cap is reached)."""
        now = self.clock()
        incident = self.open.get(kind)
        if incident is not None and now - incident.last > self.settle:
            incident = None  # quiet for long enough: that one was over, this is a new one
        if incident is None:
            incident = self.open[kind] = _Incident(now, now, 1)
            return self._announce(incident, now, text)
        incident.count += 1
        incident.last = now
        if now - incident.told >= self.remind:
            minutes = (now - incident.first) / 60
            return self._announce(incident, now, f"{text} (still happening: {incident.count} times in {minutes:.0f} min)")
        return None

    def close(self, kind: str) -> bool:
        """The thing works again; True if an incident was open."""
        return self.open.pop(kind, None) is not None

    def current(self) -> list[str]:
        """Open incidents, for /status."""
        now = self.clock()
        return [f"{kind}: {i.count}× in {(now - i.first) / 60:.0f} min" for kind, i in self.open.items()
                if now - i.last <= self.settle]

    def _announce(self, incident: _Incident, now: float, text: str) -> str | None:
        while self._sent and now - self._sent[0] >= 3600:
            self._sent.popleft()
        if len(self._sent) >= self.per_hour:
            return None
        self._sent.append(now)
        incident.told = now
        return text
