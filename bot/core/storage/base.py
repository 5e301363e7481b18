"""The storage interface every backend implements, and the types it speaks in.

Every row about a member belongs to a *place*: a server id, "dm" for direct messages, or "local" for
the command line. Moderators only ever read their own server's rows; `forget` removes a member from
every place.

A write either commits or raises StorageError (nothing reports "saved" otherwise); every failure of
the database, whatever the backend, becomes a StorageError of one of the kinds listed there, with one
plain line that says what to do and never shows a password.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

LEGACY = "legacy"
"""The place of rows written before places existed (schema 1): never shown to any server's moderators;
a legacy background is treated as privately stated."""
DM, LOCAL = "dm", "local"

MEMBER_TABLES = ("profiles", "progress", "questions", "feedback", "context")
"""Tables with rows about members (user_id): what forget-me empties."""

COPIED_TABLES = ("profiles", "progress", "questions", "feedback", "context", "settings", "kb_changes", "kb_change_items",
                 "kb_overrides", "kb_meta", "forgotten")
"""Every table of ours with data in it: what `mle-advisor db copy` moves and counts."""

MAX_QUESTION_CHARS = 2000


class StorageError(Exception):
    """The database cannot be used right now; the message names the database and says what to do.

    `kind` is one of: corrupt, not-a-database, not-ours, newer, locked, read-only, full, cannot-open,
    io, closed, bad-text."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Profile:
    user_id: str
    background: str | None
    background_stated_at: str | None
    background_private: bool = False


@dataclass(frozen=True)
class QuestionRef:
    """A stored question, and a check that a 👍/👎 button names this question and no other."""

    id: int
    token: str


@dataclass(frozen=True)
class Gap:
    question: str
    times: int
    unanswered: int
    unhelpful: int
    last_asked: str
    asked_as: str = ""  # one of the questions as the member wrote it (the question above is folded to lowercase)


@dataclass(frozen=True)
class Usage:
    """What a server's members asked over a period: for /kb stats."""

    days: int
    asked: int
    answered: int
    helpful: int
    unhelpful: int
    top_topics: list[tuple[str, int]]
    top_gaps: list[tuple[str, int]]
    per_day: list[int]  # oldest first, one count per day


@dataclass(frozen=True)
class Change:
    """One edit of the knowledge files: `files` maps each path to (content before, content after);
    None stands for "no such file"."""

    id: int
    at: str
    by_id: str
    by_name: str
    place: str
    summary: str
    files: dict[str, tuple[str | None, str | None]]  # whole files: changes made before edits moved to the database
    shared_summary: str = ""  # the summary without members' words, for other servers' moderators
    items: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]] = field(default_factory=dict)
    """(section, id) → the item's override before and after the change (None: none, the shipped item)."""


class KbConflict(Exception):
    """The knowledge changed (in another process) since the change was prepared: catch up and redo it."""


@dataclass(frozen=True)
class Heartbeat:
    """One bot process as it last reported itself (for /status)."""

    process: str
    shards: list[int]
    started_at: float  # epoch seconds
    seen_ago: float  # seconds since its last beat
    latency_ms: float | None
    last_error: str


CLOCK_SLACK = timedelta(hours=1)
"""How far a retention sweep's reference may run ahead of the time really elapsed (small corrections)."""


def wall_clock() -> datetime:
    """The host's clock (one place, so tests can step it)."""
    return datetime.now(UTC)


def monotonic_clock() -> float:
    """Seconds that really elapsed, whatever the host's clock does (one place, so tests can move it)."""
    return time.monotonic()


def now() -> str:
    return wall_clock().isoformat(timespec="seconds")


def member_hash(user_id: str) -> str:
    """What a tombstone keeps of a forgotten member: not their id itself."""
    return hashlib.sha256(f"forgotten:{user_id}".encode()).hexdigest()


def question_token(question_id: int, asked_at: str) -> str:
    return hashlib.sha256(f"{question_id}:{asked_at}".encode()).hexdigest()[:8]


def change_from_row(row: Sequence[Any], items: dict[tuple[str, str], tuple[Any, Any]] | None = None) -> Change:
    """A change from its row (id, at, by_id, by_name, place, summary, files, shared_summary) and its items."""
    files = {path: (v.get("before"), v.get("after")) for path, v in json.loads(row[6]).items()}
    return Change(row[0], row[1], row[2], row[3], row[4], row[5], files, row[7] or "", items or {})


def memory_from_rows(user_id: str, rows: Sequence[Sequence[Any]]) -> tuple[Profile, set[str], str | None]:
    """`memory`'s one query answers in tagged rows: 'p' the profile, 'd' each done step, 'c' the topic."""
    profile = next((r for r in rows if r[0] == "p"), None)
    return (Profile(user_id, profile[1], profile[2], bool(profile[3])) if profile else Profile(user_id, None, None),
            {r[1] for r in rows if r[0] == "d"},
            next((r[1] for r in rows if r[0] == "c"), None))


class Store(ABC):
    """What the advisor remembers, whatever holds it. Each method is one read or one transaction."""

    _last_sweep: tuple[datetime, float] | None = None
    """This process's previous retention sweep: its reference, and the monotonic clock then."""

    def sweep_reference(self) -> datetime:
        """A retention sweep's reference time. The host's clock can step; the monotonic clock cannot.
        Within a process, a sweep's reference is the host's clock but never later than the previous
        sweep's plus the time really elapsed (monotonic) and CLOCK_SLACK: a clock stepped a year ahead
        while the bot runs deletes nothing fresh, and a clock put back is followed at once. The first
        sweep after a start has only the host's clock to go by (after a downtime, old rows do go then)."""
        wall = wall_clock().replace(microsecond=0)
        tick = monotonic_clock()
        reference = wall
        if self._last_sweep is not None:
            before, then = self._last_sweep
            reference = min(wall, before + timedelta(seconds=tick - then) + CLOCK_SLACK)
        self._last_sweep = (reference, tick)
        return reference

    migrations: Sequence[str]
    """This backend's numbered schema changes, in order."""
    where: str
    """Where the data is, as it may be shown (a file path, or a URL without its password)."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    shared = False
    """True when several processes may use this database at once (PostgreSQL): then what they must
    agree on (identify slots, daily jobs, knowledge edits) is coordinated through it. The defaults below
    are for one process (SQLite: one file on one machine) and keep that state in memory."""

    # --- opening ---------------------------------------------------------------------------------

    @abstractmethod
    async def open(self, *, verify: bool = False) -> None:
        """Connect, check the database is ours and not newer, and apply the numbered migrations."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    # --- profiles and progress -------------------------------------------------------------------

    @abstractmethod
    async def profile(self, place: str, user_id: str) -> Profile:
        """The member's background in this place; one from before places existed counts everywhere."""

    @abstractmethod
    async def memory(self, place: str, channel: str, user_id: str,
                     context_age: timedelta) -> tuple[Profile, set[str], str | None]:
        """What answering a question needs, read at once: profile, done steps, conversation topic."""

    @abstractmethod
    async def set_background(self, place: str, user_id: str, background: str | None, *,
                             private: bool = False) -> None: ...

    @abstractmethod
    async def done_steps(self, place: str, user_id: str) -> set[str]: ...

    @abstractmethod
    async def mark_done(self, place: str, user_id: str, step_id: str, done: bool = True) -> bool:
        """Tick a step off (or un-tick it); True when that changed anything."""

    # --- questions and feedback ------------------------------------------------------------------

    async def log_question(self, place: str, user_id: str, question: str, match_id: str | None, score: float | None,
                           answered: bool, *, channel: str = "", off_topic: bool = False) -> QuestionRef:
        """Store a question. `off_topic` marks one declined because it is about another subject: not a
        gap the moderators could fill, so it is left out of /kb gaps."""
        ref = await self.record_turn(place, user_id, question, match_id, score, answered, channel=channel,
                                     off_topic=off_topic)
        assert ref is not None  # asked by the member themselves: always stored
        return ref

    @abstractmethod
    async def record_turn(self, place: str, user_id: str, question: str, match_id: str | None, score: float | None,
                          answered: bool, *, channel: str = "", off_topic: bool = False,
                          context_topic: str | None = None, background: tuple[str, bool] | None = None,
                          by_them: bool = True) -> QuestionRef | None:
        """Store a question; when `context_topic` is given, make it the conversation's topic; when
        `background` (id, stated privately) is given, remember it as the member's background here. One
        transaction: all of it is saved or none is (a question's one write).

        by_them=False: someone else asked with the member's message (the message menu). If the member
        asked to be forgotten here or everywhere, nothing is stored (None); their own next question
        (by_them) lifts that."""

    @abstractmethod
    async def add_feedback(self, ref: QuestionRef, user_id: str, helpful: bool) -> bool:
        """Store (or change) a 👍/👎; False when that question is gone or the button was made for another."""

    @abstractmethod
    async def feedback_for(self, question_id: int) -> list[tuple[str, bool]]: ...

    @abstractmethod
    async def gaps(self, place: str, limit: int = 15) -> list[Gap]:
        """This place's questions not answered or marked unhelpful (and not dismissed), grouped by their
        text, most frequent first."""

    @abstractmethod
    async def dismiss_gap(self, place: str, text: str) -> int:
        """Hide a gap (every question of this place with this text) from the list; how many rows."""

    @abstractmethod
    async def usage(self, place: str, days: int) -> Usage: ...

    # --- conversation context, settings, knowledge history ---------------------------------------

    @abstractmethod
    async def context(self, place: str, channel: str, user_id: str, max_age: timedelta) -> str | None:
        """The topic of the member's last answer here, if it is more recent than `max_age`."""

    @abstractmethod
    async def set_context(self, place: str, channel: str, user_id: str, topic_id: str | None) -> None: ...

    @abstractmethod
    async def settings(self, place: str) -> dict[str, Any]: ...

    @abstractmethod
    async def all_settings(self) -> dict[str, dict[str, Any]]: ...

    async def set_setting(self, place: str, key: str, value: Any, by: str = "") -> None:
        """Store one setting for a place; None removes it (back to the default)."""
        await self.set_settings(place, {key: value}, by)

    @abstractmethod
    async def set_settings(self, place: str, values: dict[str, Any], by: str = "") -> None:
        """Store several settings of a place in one transaction: all of them or, on any failure, none.
        None removes a setting (back to the default)."""

    @abstractmethod
    async def record_change(self, by_id: str, by_name: str, place: str, summary: str,
                            files: dict[str, tuple[str | None, str | None]]) -> int: ...

    @abstractmethod
    async def changes(self, limit: int = 20) -> list[Change]: ...

    @abstractmethod
    async def change(self, change_id: int | None = None) -> Change | None:
        """One change by id, or the latest, with what it did per item."""

    # Moderators' edits live here, per item (bot/core/overrides.py): the overrides in force and the
    # change log are written together, in one transaction, so they never disagree.

    @abstractmethod
    async def kb_state(self) -> tuple[int, dict[tuple[str, str], tuple[dict[str, Any], int]]]:
        """The latest change's id and every override in force: (section, id) → (state, change id); one read."""

    @abstractmethod
    async def kb_last_change(self) -> int:
        """The id of the latest knowledge change (0: none): a cheap check whether another process changed it."""

    @abstractmethod
    async def kb_commit(self, expected_last: int,
                        items: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]], *,
                        by_id: str, by_name: str, place: str, summary: str, shared_summary: str = "",
                        mark: str | None = None) -> int:
        """Record a change and put its overrides (each item's state after it; None: no override) in
        force, in ONE transaction. Raises KbConflict when a change was recorded after `expected_last`.
        `mark` records a one-off step (kb_meta) as done in the same transaction."""

    @abstractmethod
    async def kb_meta(self, key: str) -> str | None: ...

    @abstractmethod
    async def changes_since(self, change_id: int, limit: int = 1000) -> list[Change]:
        """The changes after `change_id`, oldest first, with their items: how a process catches up."""

    @abstractmethod
    async def item_changes(self, section: str, item_id: str, *, after: int = 0, limit: int = 20) -> list[Change]:
        """The changes that touched one item after change `after`, newest first (without their items)."""

    @abstractmethod
    async def topic_usage(self, topic_id: str, days: int, place: str | None = None) -> tuple[int, int, int]:
        """How often `topic_id` answered in the last `days` (in one place, or every place): (answered, 👍, 👎)."""

    # --- retention and the member's own data -----------------------------------------------------

    @abstractmethod
    async def retention_clock(self) -> datetime:
        """Start a retention sweep: its reference time (see `next_reference`), recorded with the highest
        question id so far."""

    @abstractmethod
    async def purge(self, place: str, older_than_days: float, *, reference: datetime | None = None) -> int:
        """Delete this place's questions (with their feedback) and conversation context older than the
        retention period by the retention clock (one `reference` per sweep; a new one when None); how
        many rows.

        A question goes when its time is before the cut-off, or when it was already stored at a sweep
        whose reference is before the cut-off: one written while the clock was ahead (its time in the
        future) still goes once the retention period has passed after the clock was right again.
        Context stamped more than a day in the future is dropped (it is only ever kept for minutes)."""

    async def _purge_window(self, older_than_days: float, reference: datetime | None) -> tuple[str, str]:
        """The cut-off of a purge and the point past which context is 'in the future', as stored text, by
        the sweep's `reference` (a new one from the retention clock when None). One reckoning for both
        backends."""
        if reference is None:
            reference = await self.retention_clock()
        return ((reference - timedelta(days=older_than_days)).isoformat(timespec="seconds"),
                (reference + timedelta(days=1)).isoformat(timespec="seconds"))

    @abstractmethod
    async def places(self) -> set[str]:
        """Every place that has questions or context stored (for the retention sweep)."""

    @abstractmethod
    async def my_data(self, user_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every row about `user_id`, table by table, as plain data (for /my-data)."""

    @abstractmethod
    async def forget(self, user_id: str, place: str | None = None) -> int:
        """Delete every row about `user_id`, in every place (or, with `place`, in that place only: its
        rows, the feedback the member gave there, and others' feedback on their questions there), in one
        transaction with a tombstone (a hash of the id, and the place or "*": see `record_turn`), and
        then make the backend drop the deleted rows from its files as far as it can. Returns the rows
        removed."""

    @abstractmethod
    async def forgotten(self, user_id: str, place: str | None = None) -> bool:
        """Whether the member asked to be forgotten (in `place`, or anywhere when None) and has not
        spoken to the bot since."""

    @abstractmethod
    async def rows_about(self, user_id: str) -> int:
        """How many rows in all tables mention `user_id`: what /forget-me must bring to zero."""

    @abstractmethod
    async def table_counts(self) -> dict[str, int]:
        """Rows in each of COPIED_TABLES (for `db copy`'s check and for /status)."""

    @abstractmethod
    def size_bytes(self) -> int:
        """How much disk the database takes, for /status (0 when unknown)."""

    # --- coordination between processes (in-process defaults; PostgreSQL coordinates through itself) ----

    async def reserve_identify(self, bucket: int, spacing: float) -> float:
        """Book the next gateway IDENTIFY slot of a max_concurrency bucket: how many seconds to wait before
        identifying. Slots of one bucket are `spacing` seconds apart across every process."""
        slots: dict[int, float] = self.__dict__.setdefault("_identify_slots", {})
        start = max(time.time(), slots.get(bucket, 0.0))
        slots[bucket] = start + spacing
        return max(0.0, start - time.time())

    async def beat(self, process: str, shards: Sequence[int], started_at: float, latency_ms: float | None,
                   last_error: str = "") -> None:
        """Record that this process is alive (for /status across processes)."""
        beats: dict[str, tuple[list[int], float, float, float | None, str]] = self.__dict__.setdefault("_beats", {})
        beats[process] = (list(shards), started_at, time.time(), latency_ms, last_error)

    async def heartbeats(self) -> list[Heartbeat]:
        """Every process that has beaten, most recently seen first."""
        beats = self.__dict__.get("_beats", {})
        out = [Heartbeat(p, s, started, time.time() - seen, lat, err) for p, (s, started, seen, lat, err) in beats.items()]
        return sorted(out, key=lambda h: h.seen_ago)

    async def claim(self, job: str, key: str) -> bool:
        """True for exactly one caller per (job, key) — e.g. ("retention", "guild 123 on 2026-12-02") — so
        a daily job runs once per place and day however many processes try."""
        claimed: set[tuple[str, str]] = self.__dict__.setdefault("_claims", set())
        if (job, key) in claimed:
            return False
        claimed.add((job, key))
        return True

    @contextlib.asynccontextmanager
    async def knowledge_lock(self) -> AsyncIterator[None]:
        """Held while a knowledge edit catches up, checks "changed meanwhile" and writes: one editor at a
        time across every process."""
        lock: asyncio.Lock = self.__dict__.setdefault("_knowledge_lock", asyncio.Lock())
        async with lock:
            yield

    async def listen_changes(self, callback: Callable[[int], None]) -> bool:
        """Call `callback(change id)` soon after another process records a knowledge change; False when
        this backend cannot (one process: nothing to hear). A listener does not survive a dropped
        connection, so callers also poll `changes_since`."""
        return False

