"""What the advisor remembers: kept across restarts, kept apart per member and per place, never
reported saved unless committed, and forgotten on request."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.core.storage import MIGRATIONS, QuestionRef, Storage, StorageError

A, B = "111", "222"  # two servers


async def test_memory_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    async with Storage(path) as s:
        await s.set_background(A, "u1", "physics")
        await s.mark_done(A, "u1", "learn-to-code")
    async with Storage(path) as s:
        profile = await s.profile(A, "u1")
        assert profile.background == "physics" and profile.background_stated_at
        assert await s.done_steps(A, "u1") == {"learn-to-code"}


async def test_schema_is_versioned_and_uses_wal(tmp_path: Path) -> None:
    async with Storage(tmp_path / "a.db") as s:
        assert await s.schema_version() == len(MIGRATIONS)
        mode = await (await s.db.execute("PRAGMA journal_mode")).fetchone()
        assert mode[0] == "wal"


async def test_users_and_places_are_kept_apart(storage: Storage) -> None:
    await storage.set_background(A, "a", "software")
    await storage.mark_done(A, "a", "classical-ml")
    assert (await storage.profile(A, "b")).background is None
    assert await storage.done_steps(A, "b") == set()
    assert (await storage.profile(B, "a")).background is None  # what a member said in A is A's
    assert await storage.done_steps(B, "a") == set()


async def test_hundred_users_writing_at_once_lose_nothing(storage: Storage) -> None:
    async def user(n: int) -> None:
        await storage.set_background(A, f"user{n}", "beginner" if n % 2 else "software")
        for step in ("learn-to-code", "classical-ml", "deep-learning"):
            await storage.mark_done(A, f"user{n}", step)
        await storage.log_question(A, f"user{n}", f"question {n}", "your-route", 0.9, True)

    await asyncio.gather(*(user(n) for n in range(100)))
    for n in range(100):
        assert (await storage.profile(A, f"user{n}")).background == ("beginner" if n % 2 else "software")
        assert len(await storage.done_steps(A, f"user{n}")) == 3
    count = await (await storage.db.execute("SELECT COUNT(*) FROM questions")).fetchone()
    assert count[0] == 100


async def test_two_processes_worth_of_connections_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    async with Storage(path) as first, Storage(path) as second:
        await asyncio.gather(*(first.mark_done(A, "x", f"s{n}") for n in range(20)),
                             *(second.mark_done(A, "y", f"s{n}") for n in range(20)))
        assert len(await first.done_steps(A, "y")) == 20 and len(await second.done_steps(A, "x")) == 20


async def test_forgetting_removes_the_user_from_every_table_and_place(storage: Storage) -> None:
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


async def test_gaps_list_this_places_unanswered_and_unhelpful_most_frequent_first(storage: Storage) -> None:
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


async def test_feedback_on_a_missing_or_different_question_is_refused(storage: Storage) -> None:
    assert await storage.add_feedback(QuestionRef(999, "00000000"), "u", True) is False
    ref = await storage.log_question(A, "u", "q", None, None, False)
    assert await storage.add_feedback(QuestionRef(ref.id, "deadbeef"), "u", True) is False
    assert await storage.add_feedback(ref, "u", True) is True


async def test_question_ids_are_never_reused(storage: Storage) -> None:
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


async def test_hostile_text_is_stored_as_data(storage: Storage) -> None:
    evil = "'); DROP TABLE profiles; -- @everyone \x00 🙂"
    ref = await storage.log_question(A, evil, evil, None, None, False)
    await storage.set_background(A, evil, "physics")
    assert (await storage.profile(A, evil)).background == "physics"
    row = await (await storage.db.execute("SELECT question FROM questions WHERE id = ?", (ref.id,))).fetchone()
    assert row[0] == evil
