"""PostgreSQL failing under the bot: a server that crashes mid-load loses no acknowledged write (fsync on,
as shipped), and while it is down members get answers saying nothing was saved, never a crash; once it
is back the bot saves again without a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.advisor import NOT_SAVED, Advisor
from bot.core.place import Place
from bot.core.storage import StorageError
from bot.core.storage.postgres import PostgresStorage
from tests.pgserver import PgServer, why_no_postgres

A = "111"


@pytest.fixture
def durable_pg():
    reason = why_no_postgres()
    if reason:
        pytest.skip(reason)
    server = PgServer(fsync=True).start()  # never fsync off in a crash test
    yield server
    server.stop()


async def test_a_crash_of_postgres_loses_no_acknowledged_write(durable_pg: PgServer) -> None:
    url = durable_pg.create_database("advisor")
    acknowledged: list[int] = []
    enough = asyncio.Event()
    async with PostgresStorage(url, connect_timeout=2) as store:

        async def writer(n: int) -> None:
            for k in range(1000):
                try:
                    ref = await store.record_turn(A, f"u{n}", f"question {n}-{k}", "t", 0.5, True, context_topic="t")
                except StorageError:
                    return  # the server is gone: this write was not acknowledged
                acknowledged.append(ref.id)
                if len(acknowledged) >= 200:
                    enough.set()

        writers = [asyncio.create_task(writer(n)) for n in range(8)]
        await asyncio.wait_for(enough.wait(), 60)
        await asyncio.to_thread(durable_pg.kill)  # immediate stop: no shutdown checkpoint, like a crash
        await asyncio.wait_for(asyncio.gather(*writers), 60)
    await asyncio.to_thread(durable_pg.restart)
    async with PostgresStorage(url) as store:
        mine = set()
        for n in range(8):
            mine |= {q["id"] for q in (await store.my_data(f"u{n}"))["questions"]}
    assert acknowledged and set(acknowledged) <= mine


async def test_postgres_down_answers_without_saving_and_recovers(durable_pg: PgServer, kb) -> None:
    url = durable_pg.create_database("advisor")
    async with PostgresStorage(url, connect_timeout=2) as store:
        advisor = Advisor(kb, store)
        place = Place(A, channel="c", public=False)
        assert NOT_SAVED not in (await advisor.ask("ana", "I'm a physicist, how do I start?", place)).body
        await asyncio.to_thread(durable_pg.kill)
        down = await advisor.ask("ana", "what is mlops?", place)
        assert down.text and NOT_SAVED in down.body
        with pytest.raises(StorageError) as info:
            await store.set_background(A, "ana", "software")
        assert info.value.kind in ("cannot-open", "closed") and "\n" not in str(info.value)
        await asyncio.to_thread(durable_pg.restart)
        for _ in range(3):  # the pool replaces its broken connections as they are used
            back = await advisor.ask("ana", "what is mlops?", place)
            if NOT_SAVED not in back.body:
                break
        assert NOT_SAVED not in back.body
        profile, _, _ = await store.memory(A, "c", "ana", timedelta(hours=1))
        assert profile.background == "physics"  # said before the outage, still there
