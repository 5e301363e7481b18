"""The store's part in moderators' edits (issue 15.5, 16.1, 18.4): a change and the overrides it puts in
force are recorded in one transaction, refused whole when another process recorded a change first, and
readable as "what changed since" so a process can catch up. Behaviour only: it holds for every backend."""

from __future__ import annotations

import pytest

from bot.core.storage import KbConflict, QuestionRef, Storage

A, B = "111", "222"
WHO = {"by_id": "42", "by_name": "alice", "place": A}


def state(body: str | None) -> dict[str, object]:
    return {"file": "entries/x.yaml", "body": body, "base": None, "after_id": "", "origins": {}}


async def test_a_change_and_its_overrides_are_recorded_together(storage: Storage) -> None:
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


async def test_a_change_prepared_on_an_old_state_is_refused_whole(storage: Storage) -> None:
    first = await storage.kb_commit(0, {("entries", "a"): (None, state("- id: a\n"))}, summary="one", **WHO)
    with pytest.raises(KbConflict):  # another process recorded change `first` since this one was prepared
        await storage.kb_commit(0, {("entries", "c"): (None, state("- id: c\n"))}, summary="stale", mark="x", **WHO)
    assert await storage.kb_last_change() == first and set((await storage.kb_state())[1]) == {("entries", "a")}
    assert await storage.kb_meta("x") is None and [c.summary for c in await storage.changes()] == ["one"]


async def test_a_one_off_step_is_marked_with_its_change(storage: Storage) -> None:
    assert await storage.kb_meta("edits-folder-moved") is None
    change_id = await storage.kb_commit(0, {("steps", "s"): (None, state("- id: s\n"))}, summary="moved",
                                        mark="edits-folder-moved", **WHO)
    assert await storage.kb_meta("edits-folder-moved") == str(change_id)


async def test_a_summary_without_members_words_is_kept_for_other_servers(storage: Storage) -> None:
    change_id = await storage.kb_commit(0, {("entries", "a"): (None, state("- id: a\n"))},
                                        summary="taught 'my secret question' to a", shared_summary="taught a phrasing to a",
                                        **WHO)
    change = await storage.change(change_id)
    assert change is not None and change.shared_summary == "taught a phrasing to a" and "secret" in change.summary


async def test_topic_usage_counts_answers_and_feedback_per_place(storage: Storage) -> None:
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


async def test_a_huge_history_limit_is_not_an_error(storage: Storage) -> None:
    await storage.kb_commit(0, {("entries", "a"): (None, state("- id: a\n"))}, summary="one", **WHO)
    assert len(await storage.changes(10**20)) == 1 and await storage.changes(-5) == []
