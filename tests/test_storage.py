"""What the advisor remembers: kept across restarts, kept apart per member and per place, never
reported saved unless committed, and forgotten on request.

Every test that takes `storage` or `database` runs once on SQLite and once on PostgreSQL (a server the
suite starts itself; those runs are skipped, saying why, only where PostgreSQL is not installed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.core.advisor import Advisor
from bot.core.knowledge import Knowledge
from bot.core.place import Place
from bot.core.storage import MIGRATIONS, QuestionRef, Storage, StorageError, Store, is_postgres_url, store_for
from bot.core.storage.postgres import MIGRATIONS as PG_MIGRATIONS
from bot.core.storage.postgres import PostgresStorage, kind_of, safe_url
from tests.pgserver import PgServer

A, B = "111", "222"  # two servers


@pytest.fixture
async def storage(database: str) -> AsyncIterator[Store]:
    async with store_for(database) as s:
        yield s


async def test_memory_survives_a_restart(database: str) -> None:
    async with store_for(database) as s:
        await s.set_background(A, "u1", "physics")
        await s.mark_done(A, "u1", "learn-to-code")
    async with store_for(database) as s:
        profile = await s.profile(A, "u1")
        assert profile.background == "physics" and profile.background_stated_at
        assert await s.done_steps(A, "u1") == {"learn-to-code"}


async def test_schema_is_versioned_and_migrated_to_the_latest(storage: Store) -> None:
    assert await storage.schema_version() == len(type(storage).migrations) > 0


async def test_sqlite_uses_wal(tmp_path: Path) -> None:
    async with Storage(tmp_path / "a.db") as s:
        assert await s.schema_version() == len(MIGRATIONS)
        mode = await (await s.db.execute("PRAGMA journal_mode")).fetchone()
        assert mode[0] == "wal"


async def test_users_and_places_are_kept_apart(storage: Store) -> None:
    await storage.set_background(A, "a", "software")
    await storage.mark_done(A, "a", "classical-ml")
    assert (await storage.profile(A, "b")).background is None
    assert await storage.done_steps(A, "b") == set()
    assert (await storage.profile(B, "a")).background is None  # what a member said in A is A's
    assert await storage.done_steps(B, "a") == set()


async def test_hundred_users_writing_at_once_lose_nothing(storage: Store) -> None:
    async def user(n: int) -> None:
        await storage.set_background(A, f"user{n}", "beginner" if n % 2 else "software")
        for step in ("learn-to-code", "classical-ml", "deep-learning"):
            await storage.mark_done(A, f"user{n}", step)
        await storage.log_question(A, f"user{n}", f"question {n}", "your-route", 0.9, True)

    await asyncio.gather(*(user(n) for n in range(100)))
    for n in range(100):
        assert (await storage.profile(A, f"user{n}")).background == ("beginner" if n % 2 else "software")
        assert len(await storage.done_steps(A, f"user{n}")) == 3
    assert (await storage.table_counts())["questions"] == 100


async def test_two_processes_worth_of_connections_share_the_database(database: str) -> None:
    async with store_for(database) as first, store_for(database) as second:
        await asyncio.gather(*(first.mark_done(A, "x", f"s{n}") for n in range(20)),
                             *(second.mark_done(A, "y", f"s{n}") for n in range(20)))
        assert len(await first.done_steps(A, "y")) == 20 and len(await second.done_steps(A, "x")) == 20


async def test_forgetting_removes_the_user_from_every_table_and_place(storage: Store) -> None:
    await storage.set_background(A, "me", "physics")
    await storage.set_background("dm", "me", "software", private=True)
    await storage.mark_done(A, "me", "learn-to-code")
    await storage.set_context(A, "chan", "me", "deep-learning")
    mine = await storage.log_question(A, "me", "how long?", "time-to-learn", 0.9, True)
    other = await storage.log_question(B, "other", "what is mle?", "what-is-ml-engineering", 0.9, True)
    await storage.add_feedback(mine, "me", True)
    await storage.add_feedback(other, "me", False)
    await storage.add_feedback(other, "other", True)
    assert await storage.rows_about("me") > 0
    await storage.forget("me")
    assert await storage.rows_about("me") == 0
    assert await storage.feedback_for(other.id) == [("other", True)]  # other people's data stays
    assert await storage.rows_about("other") == 2


async def test_gaps_list_this_places_unanswered_and_unhelpful_most_frequent_first(storage: Store) -> None:
    for _ in range(3):
        await storage.log_question(A, "u", "How do I bake bread?", None, None, False)
    await storage.log_question(A, "u", "how do i bake bread? ", None, None, False)
    disliked = await storage.log_question(A, "u", "what is mlops", "mlops-production", 0.7, True)
    await storage.add_feedback(disliked, "v", False)
    await storage.log_question(A, "u", "fine question", "x", 0.9, True)
    await storage.log_question(B, "u", "a question only server B saw", None, None, False)
    await storage.log_question("dm", "u", "my private question", None, None, False)
    gaps = await storage.gaps(A)
    assert [g.question for g in gaps] == ["how do i bake bread?", "what is mlops"]
    assert gaps[0].times == 4 and gaps[1].unhelpful == 1
    assert [g.question for g in await storage.gaps(B)] == ["a question only server b saw"]
    assert await storage.dismiss_gap(A, "How do I bake bread?") == 4
    assert [g.question for g in await storage.gaps(A)] == ["what is mlops"]


async def test_feedback_on_a_missing_or_different_question_is_refused(storage: Store) -> None:
    assert await storage.add_feedback(QuestionRef(999, "00000000"), "u", True) is False
    ref = await storage.log_question(A, "u", "q", None, None, False)
    assert await storage.add_feedback(QuestionRef(ref.id, "deadbeef"), "u", True) is False
    assert await storage.add_feedback(ref, "u", True) is True


async def test_question_ids_are_never_reused(storage: Store) -> None:
    first = await storage.log_question(A, "gone", "q", None, None, False)
    await storage.forget("gone")
    second = await storage.log_question(A, "new", "q", None, None, False)
    assert second.id > first.id
    assert await storage.add_feedback(first, "someone", True) is False  # the old button rates nothing


async def test_corrupt_database_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    garbage = b"this is not a database at all" * 100
    path.write_bytes(garbage)
    with pytest.raises(StorageError) as info:
        async with Storage(path):
            pass
    assert str(path) in str(info.value)
    assert path.read_bytes() == garbage  # never silently replaced


async def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StorageError, match="newer version"):
        async with Storage(path):
            pass


async def test_hostile_text_is_stored_as_data(storage: Store) -> None:
    evil = "'); DROP TABLE profiles; -- @everyone \x00 🙂"
    ref = await storage.log_question(A, evil, evil, None, None, False)
    await storage.set_background(A, evil, "physics")
    assert (await storage.profile(A, evil)).background == "physics"
    [row] = (await storage.my_data(evil))["questions"]
    # PostgreSQL cannot hold NUL in text: it is kept as U+FFFD there (documented), and as it is on SQLite.
    assert row["id"] == ref.id
    assert row["question"] == (evil.replace("\x00", "\ufffd") if is_postgres_url(storage.where) else evil)
    assert (await storage.table_counts())["profiles"] == 1


# --- PostgreSQL: what only a shared server has ------------------------------------------------------


async def _sql(url: str, *statements: str) -> list:
    conn = await asyncpg.connect(url)
    try:
        out = []
        for sql in statements:
            out.append(await conn.fetch(sql))
        return out
    finally:
        await conn.close()


async def test_many_processes_starting_at_once_migrate_once(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    stores = [PostgresStorage(url, pool_size=2) for _ in range(8)]
    await asyncio.gather(*(s.open() for s in stores))  # each would fail on CREATE TABLE if two migrated
    try:
        [rows] = await _sql(url, "SELECT version FROM mle_advisor_schema ORDER BY version")
        assert [r[0] for r in rows] == list(range(1, len(PG_MIGRATIONS) + 1))
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_postgres_database_of_another_program_or_newer_version_is_refused(pg_server: PgServer) -> None:
    theirs = pg_server.create_database()
    await _sql(theirs, "CREATE TABLE invoices (id int)")
    with pytest.raises(StorageError, match="another program") as info:
        async with PostgresStorage(theirs):
            pass
    assert info.value.kind == "not-ours"
    [rows] = await _sql(theirs, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert [r[0] for r in rows] == ["invoices"]  # left untouched

    newer = pg_server.create_database()
    async with PostgresStorage(newer):
        pass
    await _sql(newer, f"INSERT INTO mle_advisor_schema VALUES ({len(PG_MIGRATIONS) + 3}, 'later')")  # noqa: S608 - a number
    with pytest.raises(StorageError, match="newer version") as info:
        async with PostgresStorage(newer):
            pass
    assert info.value.kind == "newer"


async def test_unreachable_postgres_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://advisor:s3cr3t-pw@/advisor?host={tmp_path}/nowhere"
    with pytest.raises(StorageError) as info:
        async with PostgresStorage(url, connect_timeout=2):
            pass
    message = str(info.value)
    assert info.value.kind == "cannot-open"
    assert "s3cr3t-pw" not in message and "\n" not in message
    assert "advisor:***@" in message and "DATABASE_URL" in message
    assert "s3cr3t-pw" not in safe_url("postgres://u:s3cr3t-pw@db.example:5432/x")
    for malformed in ("postgresql://u:s3cr3t-pw@host:notaport/db", "postgresql://u:s3cr3t-pw@[bad/db"):
        with pytest.raises(StorageError) as info:
            async with PostgresStorage(malformed, connect_timeout=2):
                pass
        assert info.value.kind == "cannot-open" and "s3cr3t-pw" not in str(info.value)


async def test_postgres_missing_database_and_read_only_database_get_their_kinds(pg_server: PgServer) -> None:
    with pytest.raises(StorageError) as info:
        async with PostgresStorage(pg_server.url("no_such_database")):
            pass
    assert info.value.kind == "cannot-open" and "no_such_database" in str(info.value)

    url = pg_server.create_database("readonly_db")
    async with PostgresStorage(url) as s:
        await s.set_background(A, "u", "physics")
    await _sql(pg_server.url(), "ALTER DATABASE readonly_db SET default_transaction_read_only = on")
    async with PostgresStorage(url) as s:  # opening needs no write once migrated
        assert (await s.profile(A, "u")).background == "physics"
        with pytest.raises(StorageError) as info:
            await s.set_background(A, "u", "software")
        assert info.value.kind == "read-only"
        assert (await s.profile(A, "u")).background == "physics"  # nothing half-written


def test_sqlstates_map_to_the_same_kinds_as_sqlite() -> None:
    assert kind_of(asyncpg.exceptions.DiskFullError()) == "full"
    assert kind_of(asyncpg.exceptions.DataCorruptedError()) == "corrupt"
    assert kind_of(asyncpg.exceptions.DeadlockDetectedError()) == "locked"
    assert kind_of(asyncpg.exceptions.ReadOnlySQLTransactionError()) == "read-only"
    assert kind_of(asyncpg.exceptions.InvalidPasswordError()) == "cannot-open"
    assert kind_of(asyncpg.exceptions.AdminShutdownError()) == "cannot-open"
    assert kind_of(ConnectionRefusedError()) == "cannot-open"


async def test_postgres_question_ids_are_never_reused_across_restarts(pg_server: PgServer) -> None:
    url = pg_server.create_database()
    async with PostgresStorage(url) as s:
        first = await s.log_question(A, "gone", "q", None, None, False)
        await s.forget("gone")
    async with PostgresStorage(url) as s:
        second = await s.log_question(A, "new", "q", None, None, False)
        assert second.id > first.id
        assert await s.add_feedback(first, "x", True) is False


async def test_a_question_is_one_read_and_one_transaction(storage: Store, kb) -> None:
    """Issue 17: the question path asks the store once (memory) and writes once (record_turn), also when
    the member states a background in it, which is saved in the same transaction."""
    from bot.core.advisor import Advisor
    from bot.core.place import Place

    calls: list[str] = []
    for name in ("memory", "record_turn", "set_background", "profile", "done_steps", "context", "set_context"):
        method = getattr(storage, name)

        def counted(*args, _name=name, _method=method, **kwargs):
            calls.append(_name)
            return _method(*args, **kwargs)

        setattr(storage, name, counted)
    advisor = Advisor(kb, storage)
    place = Place(A, channel="c1", public=False)
    reply = await advisor.ask("ana", "I'm a physicist, how do I become an ML engineer?", place)
    assert calls == ["memory", "record_turn"], calls
    assert reply.question_id
    profile, _, topic = await storage.memory(A, "c1", "ana", timedelta(hours=1))
    assert profile.background == "physics" and topic is not None
    calls.clear()
    await advisor.ask("ana", "what about deep learning?", place)
    assert calls == ["memory", "record_turn"], calls


class _CountedQueue:
    """aiosqlite's queue of work for its thread, counting what is put on it: one put, one round trip."""

    def __init__(self, queue) -> None:
        self.queue, self.trips = queue, 0

    def put_nowait(self, item) -> None:
        self.trips += 1
        self.queue.put_nowait(item)


@pytest.mark.parametrize("question", ["I'm a physicist, how do I become an ML engineer?",
                                      "how do I become an ML engineer?"], ids=["background stated", "no background"])
async def test_a_question_is_one_read_on_the_event_loop_and_one_trip_for_its_write(tmp_path: Path, kb: Knowledge,
                                                                                   question: str) -> None:
    """Issue 17: on SQLite each statement awaited on aiosqlite is a trip to its thread and back, which costs
    more than a short read itself: a question's read runs on the event loop, on the read-only connection,
    and its whole transaction is the one trip to the writer's thread, a background stated or not, still one
    BEGIN IMMEDIATE ... COMMIT."""
    async with Storage(tmp_path / "a.db") as store:
        statements: list[str] = []
        await store.db.set_trace_callback(statements.append)
        reads: list[str] = []
        assert store._reader is not None
        store._reader.set_trace_callback(reads.append)
        counted = store.db._tx = _CountedQueue(store.db._tx)  # every trip goes through this queue
        advisor = Advisor(kb, store)
        reply = await advisor.ask("ana", question, Place(A, channel="c1", public=False))
        trips = counted.trips
        assert reply.question_id and trips == 1, (trips, statements)
        assert len(reads) == 1 and reads[0].lstrip().startswith("SELECT"), reads
        assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
        assert any("INSERT INTO questions" in s for s in statements)
        stated = any("INSERT INTO profiles" in s for s in statements)
        assert stated == question.startswith("I'm"), statements
        profile, _, topic = await store.memory(A, "c1", "ana", timedelta(hours=1))
        assert topic is not None and (profile.background == "physics") == stated


class _BusyReader:
    """The read-only connection when SQLite answers "database is locked" (it never waits: busy timeout 0)."""

    def __init__(self) -> None:
        self.tries = 0

    def execute(self, *_: object) -> None:
        self.tries += 1
        raise sqlite3.OperationalError("database is locked")

    def close(self) -> None:
        pass


async def test_a_read_the_read_only_connection_cannot_make_now_goes_to_the_writers_thread(tmp_path: Path,
                                                                                          kb: Knowledge) -> None:
    """Busy or locked, the event loop's read is not an error: the same read goes to the writer's connection
    (which waits for the lock as every write does) and the member gets the answer that uses what they said."""
    async with Storage(tmp_path / "a.db") as store:
        advisor = Advisor(kb, store)
        here = Place(A, channel="c1", public=False)
        await advisor.set_background("ana", "physics", here)
        busy = store._reader = _BusyReader()  # type: ignore[assignment]
        counted = store.db._tx = _CountedQueue(store.db._tx)
        nxt = await advisor.next_step("ana", here)
        assert "route from physics" in nxt.body and busy.tries == 1 and counted.trips == 1
        assert (await store.profile(here.id, "ana")).background == "physics"


async def test_without_a_wal_file_reads_stay_on_the_writers_connection(kb: Knowledge) -> None:
    """An in-memory database is one connection's alone: no reader, every read is a trip, answers the same."""
    async with Storage(":memory:") as store:
        assert store._reader is None
        advisor = Advisor(kb, store)
        here = Place(A, channel="c1", public=False)
        await advisor.set_background("ana", "physics", here)
        assert "route from physics" in (await advisor.next_step("ana", here)).body


async def test_the_route_commands_read_the_members_background_and_steps_in_one_read(tmp_path: Path, kb: Knowledge) -> None:
    """/next, /roadmap and a topic's button need the member's background and done steps: one read for
    both (two before), on the event loop, and still this place's own; /done reads them in one after its write."""
    async with Storage(tmp_path / "a.db") as store:
        advisor = Advisor(kb, store)
        here, elsewhere = Place(A, channel="c1", public=False), Place(B, channel="c1", public=False)
        await advisor.set_background("ana", "physics", here)
        await advisor.mark_done("ana", "python", place=here)
        reads: list[str] = []
        assert store._reader is not None
        store._reader.set_trace_callback(reads.append)
        counted = store.db._tx = _CountedQueue(store.db._tx)
        nxt = await advisor.next_step("ana", here)
        roadmap = await advisor.roadmap("ana", here)
        shown = await advisor.show_topic("ana", "deep-learning", here)
        assert len(reads) == 3 and counted.trips == 0
        assert "route from physics" in nxt.body and nxt.title.endswith("Maths foundations")  # python is done
        assert roadmap.title == "Your roadmap from physics" and "1 of 9 done" in roadmap.body and shown.title
        done = await advisor.mark_done("ana", "maths", place=here)
        assert "2 of 9 steps of your route done" in done.body
        other = await advisor.next_step("ana", elsewhere)  # another server knows nothing of either
        assert "route from physics" not in other.body

async def test_a_question_whose_write_fails_half_way_leaves_nothing_and_says_why(tmp_path: Path) -> None:
    """The one-trip transaction is still all or nothing: when its last statement fails, the question,
    its context and the lifted tombstone are all rolled back, and the error is the plain StorageError."""
    async with Storage(tmp_path / "a.db") as store:
        await store.forget("ana")
        await store.db.execute("CREATE TRIGGER no_room BEFORE INSERT ON profiles "
                               "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        with pytest.raises(StorageError) as info:
            await store.record_turn(A, "ana", "how do I start?", "t", 0.9, True, channel="c",
                                    context_topic="t", background=("physics", False))
        assert info.value.kind == "full"
        assert await store.rows_about("ana") == 0 and await store.forgotten("ana")
        await store.db.execute("DROP TRIGGER no_room")
        assert await store.record_turn(A, "ana", "how do I start?", "t", 0.9, True, channel="c", context_topic="t")
        assert await store.rows_about("ana") == 2 and not await store.forgotten("ana")


async def test_both_backends_give_the_same_answers_to_the_same_story(tmp_path: Path, pg_server: PgServer) -> None:
    """The same operations on SQLite and on PostgreSQL read back the same (timestamps aside): the dialects'
    differences (booleans, grouping, ordering, NULLs) stay inside the backends."""

    async def story(store: Store) -> list:
        await store.set_background(A, "ana", "physics")
        await store.set_background("dm", "ana", "software", private=True)
        await store.mark_done(A, "ana", "learn-to-code")
        await store.mark_done(A, "ana", "classical-ml")
        await store.mark_done(A, "ana", "classical-ml", done=False)
        refs = [await store.record_turn(A, user, text, match, score, answered, channel="c", context_topic=match)
                for user, text, match, score, answered in (
                    ("ana", "How do I bake bread?", None, None, False), ("bo", "how do i bake bread? ", None, None, False),
                    ("bo", "what is mlops", "mlops-production", 0.7, True), ("cy", "Zebra question", None, 0.1, False),
                    ("cy", "apple question", None, 0.2, False))]
        await store.log_question(A, "cy", "off topic thing", None, None, False, off_topic=True)
        await store.add_feedback(refs[2], "ana", False)
        await store.add_feedback(refs[2], "bo", True)
        await store.set_setting(A, "question_rate", 9, by="admin")
        await store.set_setting(A, "retention_days", 30)
        await store.set_setting(A, "retention_days", None)
        await store.record_change("1", "mod", A, "s", {"b.yaml": ("x", None), "a.yaml": (None, "é\n")})
        await store.dismiss_gap(A, "zebra question")

        def timeless(rows: dict) -> dict:
            return {t: [{k: v for k, v in r.items() if not k.endswith("_at")} for r in rs] for t, rs in rows.items()}

        def stated(memory: tuple) -> tuple:  # when a background was stated differs by the clock, not the backend
            profile, *rest = memory
            return (dataclasses.replace(profile, background_stated_at=None), *rest)

        usage = await store.usage(A, 7)
        return [stated(await store.memory(A, "c", "ana", timedelta(hours=1))),
                dataclasses.replace(await store.profile("dm", "ana"), background_stated_at=None),
                await store.done_steps(A, "ana"), [(g.question, g.times, g.unanswered, g.unhelpful, g.asked_as)
                                                   for g in await store.gaps(A)],
                await store.feedback_for(refs[2].id), (usage.asked, usage.answered, usage.helpful, usage.unhelpful,
                                                       usage.top_topics, usage.top_gaps, usage.per_day),
                await store.settings(A), await store.all_settings(), (await store.change()).files,
                timeless(await store.my_data("ana")), timeless(await store.my_data("cy")), await store.places(),
                await store.rows_about("bo"), await store.table_counts(), await store.forget("bo"),
                await store.rows_about("bo")]

    async with store_for(str(tmp_path / "a.db")) as lite, store_for(pg_server.create_database()) as pg:
        assert await story(lite) == await story(pg)


# --- issue 15: forget-me sticks; retention survives a clock that steps (both backends) --------------------

async def test_a_forgotten_member_is_not_recreated_by_others_until_they_speak(kb: Knowledge, storage: Store) -> None:
    advisor = Advisor(kb, storage)
    place = Place(A, "chan", public=True)
    await advisor.ask("alice", "I'm a physicist, how do I start with deep learning?", place)
    await advisor.forget("alice")
    # Others use the message menu on Alice's old messages: answered, but nothing about her is stored.
    reply = await advisor.ask("alice", "I'm a physicist, how do I start with deep learning?", place, by_them=False)
    assert "Deep learning" in reply.text and "nothing from this message was saved" not in reply.text
    await advisor.ask("alice", "which book for deep learning?", place, by_them=False)
    assert await storage.rows_about("alice") == 0 and await storage.forgotten("alice")
    # Someone never forgotten is remembered as before when others ask with their message.
    await advisor.ask("bob", "I'm a physicist, how do I start?", place, by_them=False)
    assert await storage.rows_about("bob") > 0
    # Alice speaks again herself: from then on she is remembered, by her own words and others' menus.
    await advisor.ask("alice", "what is mlops?", place)
    assert not await storage.forgotten("alice") and await storage.rows_about("alice") == 2  # question, context
    await advisor.ask("alice", "I'm a physicist", place, by_them=False)
    assert (await storage.profile(A, "alice")).background == "physics"


def _clocks(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The host's clock and the monotonic one, moved by the test: {"wall": days ahead, "real": days elapsed}."""
    from bot.core.storage import base

    wall, tick = base.wall_clock(), base.monotonic_clock()
    moved = {"wall": 0.0, "real": 0.0}
    monkeypatch.setattr(base, "wall_clock", lambda: wall + timedelta(days=moved["wall"] + moved["real"]))
    monkeypatch.setattr(base, "monotonic_clock", lambda: tick + moved["real"] * 86400)
    return moved


async def test_a_sweep_while_the_clock_is_a_year_ahead_keeps_fresh_questions(storage: Store,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = _clocks(monkeypatch)
    for n in range(5):
        await storage.log_question(A, "u", f"fresh question {n}", None, None, False)
    await storage.purge(A, 180)  # the sweep at start, on a right clock
    clocks["real"], clocks["wall"] = 1, 365  # a day later, the host's clock jumps a year ahead
    assert await storage.purge(A, 180) == 0  # the clock says a year passed; a day did
    assert await storage.rows_about("u") == 5
    clocks["real"] = 200  # but time does pass: after the retention period they go
    assert await storage.purge(A, 180) == 5


async def test_questions_written_while_the_clock_was_ahead_go_after_the_retention_period(
        storage: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = _clocks(monkeypatch)
    clocks["wall"] = 365
    await storage.log_question(A, "u", "written while the clock was a year ahead", None, None, False)
    await storage.set_context(A, "c", "u", "mlops")
    clocks["wall"] = 0  # the clock is put right
    await storage.purge(A, 30)  # today's sweep: the question is not old yet
    assert await storage.rows_about("u") == 1  # the context stamped a year ahead is dropped at once
    for day in range(1, 40):  # daily sweeps, 30 days' retention
        clocks["real"] = day
        await storage.purge(A, 30)
    assert await storage.rows_about("u") == 0  # gone about 30 days after the clock was right, not a year later


async def test_after_a_long_downtime_the_first_sweep_deletes_what_is_old(storage: Store,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    clocks = _clocks(monkeypatch)
    await storage.log_question(A, "u", "asked before the downtime", None, None, False)
    clocks["real"] = 400  # the bot was off for 400 days; a new process sweeps at start
    storage._last_sweep = None
    assert await storage.purge(A, 180) == 1


async def test_a_member_forgotten_in_one_server_is_not_recreated_there_by_others(kb: Knowledge, storage: Store) -> None:
    advisor = Advisor(kb, storage)
    here, there = Place(A, "chan", public=True), Place(B, "chan", public=True)
    await advisor.ask("alice", "I'm a physicist, how do I start?", here)
    await advisor.ask("alice", "I'm a physicist, how do I start?", there)
    await storage.forget("alice", place=A)
    await advisor.ask("alice", "I'm a physicist, how do I start?", here, by_them=False)  # the menu, here
    assert (await storage.my_data("alice"))["questions"] and all(
        q["place"] == B for q in (await storage.my_data("alice"))["questions"])
    await advisor.ask("alice", "which book for deep learning?", there, by_them=False)  # the other server: as before
    assert len([q for q in (await storage.my_data("alice"))["questions"] if q["place"] == B]) == 2
