"""What several bot processes agree on through the database: identify slots, daily jobs claimed once,
one knowledge editor at a time, heartbeats, and hearing about each other's knowledge changes. Each
test runs on both backends where it makes sense (SQLite serves one process: its answers hold within it)."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.storage import store_for
from bot.core.storage.postgres import PostgresStorage
from tests.pgserver import PgServer

A = "111"


async def test_identify_slots_of_a_bucket_are_spaced_and_buckets_are_independent(database: str) -> None:
    async with store_for(database) as first, store_for(database) as second:
        # On PostgreSQL two stores are two processes; on SQLite one store serves the one process.
        bookers = (first, second, first, second) if first.shared else (first,) * 4
        waits = sorted(await asyncio.gather(*(s.reserve_identify(0, 5.0) for s in bookers)))
        assert waits[0] < 1.0
        assert all(b - a >= 4.9 for a, b in zip(waits, waits[1:], strict=False)), waits
        assert await first.reserve_identify(1, 5.0) < 1.0  # another bucket is not held up


async def test_a_daily_job_is_claimed_once_per_place_and_day(database: str) -> None:
    async with store_for(database) as first, store_for(database) as second:
        stores = (first, second) if first.shared else (first, first)
        results = await asyncio.gather(*(s.claim("retention", f"{A} 2026-12-02") for s in stores for _ in range(3)))
        assert sorted(results) == [False] * 5 + [True]
        assert await first.claim("retention", f"{A} 2026-12-03") is True  # the next day runs again


async def test_one_knowledge_editor_at_a_time(database: str) -> None:
    async with store_for(database) as first, store_for(database) as second:
        stores = (first, second) if first.shared else (first, first)
        inside, most = 0, 0

        async def edit(store) -> None:
            nonlocal inside, most
            async with store.knowledge_lock():
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(0.02)
                inside -= 1

        await asyncio.gather(*(edit(s) for s in stores for _ in range(3)))
        assert most == 1


async def test_changes_since_gives_the_newer_changes_oldest_first(storage_pair) -> None:
    store = storage_pair[0]
    first = await store.record_change("1", "mod", A, "one", {"a.yaml": (None, "x: 1\n")})
    second = await store.record_change("1", "mod", A, "two", {"a.yaml": ("x: 1\n", "x: 2\n")})
    assert [c.id for c in await store.changes_since(0)] == [first, second]
    assert [c.summary for c in await store.changes_since(first)] == ["two"]
    assert await store.changes_since(second) == []


@pytest.fixture
async def storage_pair(database: str):
    async with store_for(database) as first, store_for(database) as second:
        yield first, second


async def test_processes_see_each_others_heartbeats_and_changes(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    async with PostgresStorage(url) as one, PostgresStorage(url) as two:
        await one.beat("host-a:1", [0], 1000.0, 12.5)
        await two.beat("host-b:2", [1], 1001.0, None, "Discord can't be reached")
        beats = {h.process: h for h in await one.heartbeats()}
        assert beats["host-a:1"].shards == [0] and beats["host-b:2"].shards == [1]
        assert beats["host-b:2"].last_error == "Discord can't be reached" and beats["host-a:1"].latency_ms == 12.5
        heard: asyncio.Queue[int] = asyncio.Queue()
        assert await one.listen_changes(heard.put_nowait)
        number = await two.record_change("5", "mod", A, "taught", {"a.yaml": (None, "x: 1\n")})
        assert await asyncio.wait_for(heard.get(), 10) == number


async def test_a_dropped_listener_is_replaced_on_the_next_poll(pg_server: PgServer) -> None:
    import asyncpg

    url = pg_server.create_database()
    async with PostgresStorage(url) as one, PostgresStorage(url) as two:
        heard: asyncio.Queue[int] = asyncio.Queue()
        assert await one.listen_changes(heard.put_nowait)
        old = one._listener
        admin = await asyncpg.connect(url)
        try:  # the server drops the listening connection (a restart, a network cut, an admin)
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
        finally:
            await admin.close()
        for _ in range(100):
            if old.is_closed():
                break
            await asyncio.sleep(0.05)
        assert old.is_closed()
        assert await one.listen_changes(heard.put_nowait)  # what the 5 s poll does
        assert one._listener is not old
        number = await two.record_change("5", "mod", A, "after the drop", {"a.yaml": (None, "x: 2\n")})
        assert await asyncio.wait_for(heard.get(), 10) == number
