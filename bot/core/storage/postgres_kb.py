"""Moderators' per-item edits on PostgreSQL: the same behaviour as the SQLite backend's kb_* methods.

Kept apart from the PostgreSQL backend so the two branches that built them merge without conflict: the
backend class lists `PostgresKbMixin` among its bases and appends `KB_MIGRATION` to its MIGRATIONS.

A change is recorded in one transaction that first takes a transaction-level advisory lock, so two
processes recording at once are serialised and the second sees the first's id (and raises KbConflict,
whereupon its editor catches up and prepares the change again); the NOTIFY of its id is delivered when
it commits.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bot.core.storage.base import Change, KbConflict, change_from_row, now

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")

KB_MIGRATION = """
CREATE TABLE kb_overrides (
    section TEXT NOT NULL,
    item_id TEXT NOT NULL,
    state TEXT NOT NULL,
    change_id BIGINT NOT NULL,
    PRIMARY KEY (section, item_id)
);
CREATE TABLE kb_change_items (
    change_id BIGINT NOT NULL REFERENCES kb_changes (id),
    section TEXT NOT NULL,
    item_id TEXT NOT NULL,
    before TEXT,
    after TEXT,
    PRIMARY KEY (change_id, section, item_id)
);
CREATE INDEX kb_change_items_by_item ON kb_change_items (section, item_id, change_id);
ALTER TABLE kb_changes ADD COLUMN shared_summary TEXT NOT NULL DEFAULT '';
CREATE TABLE kb_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE INDEX questions_by_match ON questions (match_id, asked_at);
"""
"""Migration: per-item overrides, what each change did per item, one-off marks (as SQLite's migration 3)."""
KB_TABLES = frozenset({"kb_overrides", "kb_change_items", "kb_meta"})
KB_COMMIT_LOCK = 0x6D6C6563  # "mlec": serialises recording knowledge changes across processes
CHANGES_CHANNEL = "mle_advisor_kb_changes"
"""NOTIFY channel: the id of each knowledge change, sent when it commits."""
_COLUMNS = "id, at, by_id, by_name, place, summary, files, shared_summary"


class PostgresKbMixin:
    """The kb_* methods of the Store interface for a backend with asyncpg `_read` and `_write`."""

    _read: Callable[[Callable[[asyncpg.Connection], Awaitable[Any]]], Awaitable[Any]]
    _write: Callable[[Callable[[asyncpg.Connection], Awaitable[Any]]], Awaitable[Any]]

    async def kb_state(self) -> tuple[int, dict[tuple[str, str], tuple[dict[str, Any], int]]]:
        async def work(c: asyncpg.Connection) -> tuple[int, dict[tuple[str, str], tuple[dict[str, Any], int]]]:
            async with c.transaction(isolation="repeatable_read", readonly=True):  # one snapshot for both
                last = await c.fetchval("SELECT COALESCE(MAX(id), 0) FROM kb_changes")
                rows = await c.fetch("SELECT section, item_id, state, change_id FROM kb_overrides")
            return int(last), {(r[0], r[1]): (json.loads(r[2]), int(r[3])) for r in rows}

        return await self._read(work)

    async def kb_last_change(self) -> int:
        return int(await self._read(lambda c: c.fetchval("SELECT COALESCE(MAX(id), 0) FROM kb_changes")))

    async def kb_commit(self, expected_last: int,
                        items: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]], *,
                        by_id: str, by_name: str, place: str, summary: str, shared_summary: str = "",
                        mark: str | None = None) -> int:
        async def work(c: asyncpg.Connection) -> int:
            await c.execute("SELECT pg_advisory_xact_lock($1)", KB_COMMIT_LOCK)
            last = await c.fetchval("SELECT COALESCE(MAX(id), 0) FROM kb_changes")
            if int(last) != expected_last:
                raise KbConflict(f"change #{last} was made meanwhile")
            change_id = int(await c.fetchval(
                """INSERT INTO kb_changes (at, by_id, by_name, place, summary, files, shared_summary)
                   VALUES ($1, $2, $3, $4, $5, '{}', $6) RETURNING id""",
                now(), _text(by_id), _text(by_name), _text(place), _text(summary), _text(shared_summary)))
            for (section, item_id), (before, after) in items.items():
                await c.execute(
                    "INSERT INTO kb_change_items (change_id, section, item_id, before, after) VALUES ($1, $2, $3, $4, $5)",
                    change_id, section, item_id, _json(before), _json(after))
                if after is None:
                    await c.execute("DELETE FROM kb_overrides WHERE section = $1 AND item_id = $2", section, item_id)
                else:
                    await c.execute(
                        """INSERT INTO kb_overrides (section, item_id, state, change_id) VALUES ($1, $2, $3, $4)
                           ON CONFLICT (section, item_id) DO UPDATE SET state = excluded.state, change_id = excluded.change_id""",
                        section, item_id, _json(after), change_id)
            if mark is not None:
                await c.execute("""INSERT INTO kb_meta (key, value) VALUES ($1, $2)
                                   ON CONFLICT (key) DO UPDATE SET value = excluded.value""", mark, str(change_id))
            await c.execute("SELECT pg_notify($1, $2)", CHANGES_CHANNEL, str(change_id))  # delivered at commit
            return change_id

        return await self._write(work)

    async def kb_meta(self, key: str) -> str | None:
        return await self._read(lambda c: c.fetchval("SELECT value FROM kb_meta WHERE key = $1", key))

    async def changes(self, limit: int = 20) -> list[Change]:
        rows = await self._read(lambda c: c.fetch(
            f"SELECT {_COLUMNS} FROM kb_changes ORDER BY id DESC LIMIT $1", max(0, min(limit, 10_000))))  # noqa: S608
        return [change_from_row(r) for r in rows]

    async def changes_since(self, change_id: int, limit: int = 1000) -> list[Change]:
        async def work(c: asyncpg.Connection) -> list[Change]:
            rows = await c.fetch(f"SELECT {_COLUMNS} FROM kb_changes WHERE id > $1 ORDER BY id LIMIT $2",  # noqa: S608
                                 change_id, limit)
            return [change_from_row(r, await _items(c, r[0])) for r in rows]

        return await self._read(work)

    async def change(self, change_id: int | None = None) -> Change | None:
        async def work(c: asyncpg.Connection) -> Change | None:
            if change_id is None:
                row = await c.fetchrow(f"SELECT {_COLUMNS} FROM kb_changes ORDER BY id DESC LIMIT 1")  # noqa: S608
            else:
                row = await c.fetchrow(f"SELECT {_COLUMNS} FROM kb_changes WHERE id = $1", change_id)  # noqa: S608
            return change_from_row(row, await _items(c, row[0])) if row else None

        return await self._read(work)

    async def item_changes(self, section: str, item_id: str, *, after: int = 0, limit: int = 20) -> list[Change]:
        rows = await self._read(lambda c: c.fetch(
            f"""SELECT {_COLUMNS} FROM kb_changes WHERE id IN
                (SELECT change_id FROM kb_change_items WHERE section = $1 AND item_id = $2 AND change_id > $3)
                ORDER BY id DESC LIMIT $4""", section, item_id, after, limit))  # noqa: S608
        return [change_from_row(r) for r in rows]

    async def topic_usage(self, topic_id: str, days: int, place: str | None = None) -> tuple[int, int, int]:
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
        where = "q.match_id = $1 AND q.answered = 1 AND q.asked_at >= $2" + (" AND q.place = $3" if place is not None else "")
        params = (topic_id, since, *((place,) if place is not None else ()))

        async def work(c: asyncpg.Connection) -> tuple[int, int, int]:
            answered = await c.fetchval(f"SELECT COUNT(*) FROM questions q WHERE {where}", *params)  # noqa: S608
            row = await c.fetchrow(
                f"""SELECT COALESCE(SUM(CASE WHEN f.helpful = 1 THEN 1 ELSE 0 END), 0),
                           COALESCE(SUM(CASE WHEN f.helpful = 0 THEN 1 ELSE 0 END), 0)
                    FROM feedback f JOIN questions q ON q.id = f.question_id WHERE {where}""", *params)  # noqa: S608
            return int(answered), int(row[0]), int(row[1])

        return await self._read(work)


async def _items(c: asyncpg.Connection, change_id: int) -> dict[tuple[str, str], tuple[Any, Any]]:
    rows = await c.fetch("SELECT section, item_id, before, after FROM kb_change_items WHERE change_id = $1 "
                         "ORDER BY section, item_id", change_id)
    return {(r[0], r[1]): (json.loads(r[2]) if r[2] is not None else None, json.loads(r[3]) if r[3] is not None else None)
            for r in rows}


def _json(value: Any) -> str | None:
    """JSON text PostgreSQL can hold: a NUL in a member's words is escaped by json.dumps already."""
    return json.dumps(value) if value is not None else None


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL: it is dropped (the SQLite backend keeps it)."""
    return value.replace("\x00", "")
