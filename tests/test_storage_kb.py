"""The store's part in moderators' edits (issue 15.5, 16.1, 18.4): a change and the overrides it puts in
force are recorded in one transaction, refused whole when another process recorded a change first, and
readable as "what changed since" so a process can catch up. Behaviour only: it holds for every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.storage import KbConflict, QuestionRef, SQLiteStorage, Store, store_for
from bot.core.storage.postgres import PostgresStorage
from tests.pgserver import PgServer


@pytest.fixture
async def storage(database: str) -> AsyncIterator[Store]:
    """A fresh store on each backend (SQLite, and PostgreSQL where its binaries are installed)."""
    async with store_for(database) as s:
        yield s

A, B = "111", "222"
WHO = {"by_id": "42", "by_name": "alice", "place": A}


def state(body: str | None) -> dict[str, object]:
    return {"file": "entries/x.yaml", "body": body, "base": None, "after_id": "", "origins": {}}


async def test_a_change_and_its_overrides_are_recorded_together(storage: Store) -> None:
    assert await storage.kb_state() == (0, {}) and await storage.kb_last_change() == 0
    first = await storage.kb_commit(0, {("entries", "a"): (None, state("- id: a\n")),
                                        ("entries", "b"): (None, state(None))}, summary="added a, removed b", **WHO)
    last, overrides = await storage.kb_state()
    assert last == first == await storage.kb_last_change()
    assert overrides == {("entries", "a"): (state("- id: a\n"), first), ("entries", "b"): (state(None), first)}
    change = await storage.change(first)
    assert change is not None and change.summary == "added a, removed b" and change.by_name == "alice"
    assert change.items == {("entries", "a"): (None, state("- id: a\n")), ("entries", "b"): (None, state(None))}
    second = await storage.kb_commit(first, {("entries", "a"): (state("- id: a\n"), None)}, summary="undid", **WHO)
    assert (await storage.kb_state())[1] == {("entries", "b"): (state(None), first)}  # None: back to the shipped item
    assert [c.id for c in await storage.changes_since(first)] == [second]
    assert (await storage.changes_since(0))[0].items == change.items  # with what each did, to catch up
    assert [c.id for c in await storage.item_changes("entries", "a")] == [second, first]
    assert [c.id for c in await storage.item_changes("entries", "a", after=first)] == [second]
    assert await storage.item_changes("entries", "b", after=first) == []


async def test_a_change_prepared_on_an_old_state_is_refused_whole(storage: Store) -> None:
    first = await storage.kb_commit(0, {("entries", "a"): (None, state("- id: a\n"))}, summary="one", **WHO)
    with pytest.raises(KbConflict):  # another process recorded change `first` since this one was prepared
        await storage.kb_commit(0, {("entries", "c"): (None, state("- id: c\n"))}, summary="stale", mark="x", **WHO)
    assert await storage.kb_last_change() == first and set((await storage.kb_state())[1]) == {("entries", "a")}
    assert await storage.kb_meta("x") is None and [c.summary for c in await storage.changes()] == ["one"]


async def test_a_one_off_step_is_marked_with_its_change(storage: Store) -> None:
    assert await storage.kb_meta("edits-folder-moved") is None
    change_id = await storage.kb_commit(0, {("steps", "s"): (None, state("- id: s\n"))}, summary="moved",
                                        mark="edits-folder-moved", **WHO)
    assert await storage.kb_meta("edits-folder-moved") == str(change_id)


async def test_a_summary_without_members_words_is_kept_for_other_servers(storage: Store) -> None:
    change_id = await storage.kb_commit(0, {("entries", "a"): (None, state("- id: a\n"))},
                                        summary="taught 'my secret question' to a", shared_summary="taught a phrasing to a",
                                        **WHO)
    change = await storage.change(change_id)
    assert change is not None and change.shared_summary == "taught a phrasing to a" and "secret" in change.summary


async def test_topic_usage_counts_answers_and_feedback_per_place(storage: Store) -> None:
    ref = await storage.log_question(A, "u1", "do i need git", "git-basics", 0.9, True)
    await storage.log_question(A, "u2", "git?", "git-basics", 0.8, True)
    await storage.log_question(A, "u3", "unrelated", None, None, False)
    other = await storage.log_question(B, "u1", "git please", "git-basics", 0.9, True)
    await storage.add_feedback(QuestionRef(ref.id, ref.token), "u1", True)
    await storage.add_feedback(QuestionRef(other.id, other.token), "u1", False)
    assert await storage.topic_usage("git-basics", 30, A) == (2, 1, 0)
    assert await storage.topic_usage("git-basics", 30, B) == (1, 0, 1)
    assert await storage.topic_usage("git-basics", 30) == (3, 1, 1)
    assert await storage.topic_usage("nothing", 30) == (0, 0, 0)


async def test_a_huge_history_limit_is_not_an_error(storage: Store) -> None:
    await storage.kb_commit(0, {("entries", "a"): (None, state("- id: a\n"))}, summary="one", **WHO)
    assert len(await storage.changes(10**20)) == 1 and await storage.changes(-5) == []


async def test_db_copy_moves_the_moderators_edits_into_postgresql(tmp_path: Path, pg_server: PgServer) -> None:
    """Issue 18.2 with 18.4: after `db copy`, PostgreSQL holds the same edits in force and history, and
    the next change continues the numbering."""
    from bot.core.storage.copy import copy_into

    async with SQLiteStorage(tmp_path / "advisor.db") as source:
        first = await source.kb_commit(0, {("entries", "a"): (None, state("- id: a\n"))}, summary="taught", **WHO)
        await source.kb_commit(first, {("entries", "b"): (None, state(None))}, summary="removed b", mark="m", **WHO)
        url = pg_server.create_database()
        async with PostgresStorage(url) as target:
            counts = await copy_into(source, target)
            assert all(had == has for had, has in counts.values()) and counts["kb_overrides"] == (2, 2)
            assert await target.kb_state() == await source.kb_state()
            assert (await target.change(first)).items == (await source.change(first)).items
            assert await target.kb_meta("m") == await source.kb_meta("m")
            third = await target.kb_commit(first + 1, {("entries", "c"): (None, state("- id: c\n"))}, summary="c", **WHO)
            assert third == first + 2
