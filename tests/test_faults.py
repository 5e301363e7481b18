"""The database under stress and faults (issue 8): concurrent writers and forget-me, a full disk, a lock
held by another process, a damaged file, a read-only database, another program's file, a crash mid-burst,
and a database from the previous schema. Each must be reported plainly, lose nothing acknowledged, and
never leave a forgotten member's words on the disk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.core.knowledge import Knowledge
from bot.core.place import Place
from bot.core.storage import MIGRATIONS, Storage, StorageError

A = "111"
ROOT = Path(__file__).resolve().parent.parent


# --- concurrency ------------------------------------------------------------------------------------

async def test_forget_me_racing_a_hundred_writers_removes_everything(storage: Storage) -> None:
    async def other(n: int) -> None:
        await storage.set_background(A, f"u{n}", "software")
        await storage.log_question(A, f"u{n}", f"question {n}", None, None, False)
        await storage.mark_done(A, f"u{n}", "learn-to-code")

    async def mine(n: int) -> None:  # one operation each, all started before the forget
        if n % 2:
            await storage.log_question(A, "me", f"my question {n}", None, None, False)
        else:
            await storage.set_context(A, f"chan{n}", "me", "deep-learning")

    # My writes were started before I asked to be forgotten; the others' run all around it.
    results = await asyncio.gather(*(mine(n) for n in range(10)), storage.forget("me"), storage.forget("nobody"),
                                   *(other(n) for n in range(100)), return_exceptions=True)
    assert not [r for r in results if isinstance(r, BaseException)]
    assert await storage.rows_about("me") == 0
    for n in range(100):
        assert await storage.rows_about(f"u{n}") == 3


async def test_two_members_forgotten_at_the_same_moment(storage: Storage) -> None:
    for who in ("a", "b"):
        await storage.set_background(A, who, "physics")
        await storage.log_question(A, who, "q", None, None, False)
    removed = await asyncio.gather(storage.forget("a"), storage.forget("b"))
    assert removed == [2, 2]
    assert await storage.rows_about("a") == 0 and await storage.rows_about("b") == 0


async def test_forgotten_words_are_off_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    secret = "my employer pays me in zorblax tokens"
    async with Storage(path) as storage:
        for n in range(50):
            await storage.log_question(A, "me", f"{secret} {n}", None, None, False)
        await storage.forget("me")
        for suffix in ("", "-wal"):
            file = Path(str(path) + suffix)
            if file.exists():
                assert b"zorblax" not in file.read_bytes(), suffix


# --- a full disk ------------------------------------------------------------------------------------

async def test_a_full_disk_never_reports_an_unsaved_write_as_saved(storage: Storage, kb: Knowledge) -> None:
    pages = (await (await storage.db.execute("PRAGMA page_count")).fetchone())[0]
    await storage.db.execute(f"PRAGMA max_page_count = {pages + 3}")  # SQLite's own SQLITE_FULL, a few pages on

    async def write(n: int) -> int | StorageError:
        try:
            return (await storage.log_question(A, f"w{n}", "x" * 1500 + str(n), None, None, False)).id
        except StorageError as exc:
            return exc

    results = await asyncio.gather(*(write(n) for n in range(60)))
    saved = [r for r in results if isinstance(r, int)]
    failed = [r for r in results if isinstance(r, StorageError)]
    assert failed and all(e.kind == "full" and "full" in str(e) for e in failed)
    stored = {r[0] for r in await storage.db.execute_fetchall("SELECT id FROM questions")}
    assert stored == set(saved)  # what said "saved" is there; nothing else is

    advisor = Advisor(kb, storage)
    pages = (await (await storage.db.execute("PRAGMA page_count")).fetchone())[0]
    await storage.db.execute(f"PRAGMA max_page_count = {pages}")  # not one more page
    with pytest.raises(StorageError):  # /done must not say "Marked done"
        for n in range(2000):
            await advisor.mark_done(f"member{n}", "learn-to-code", place=Place(A))
    long_question = "which book for deep learning? " + "really " * 130  # needs a page the disk hasn't got
    reply = await advisor.ask("someone", long_question, Place(A, "c", True))
    assert reply.title == "Deep learning" and "nothing from this message was saved" in reply.text


# --- another program holds the lock ---------------------------------------------------------------

async def test_a_lock_held_by_another_process_is_reported(tmp_path: Path, kb: Knowledge) -> None:
    path = tmp_path / "l.db"
    async with Storage(path):
        pass
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        db.execute("INSERT INTO settings (place, key, value, updated_at) VALUES ('x', 'y', '1', 'now')")
        print("locked", flush=True)
        time.sleep(30)
    """), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        async with Storage(path, busy_timeout=0.3) as storage:
            with pytest.raises(StorageError) as info:
                await storage.mark_done(A, "u", "learn-to-code")
            assert info.value.kind == "locked" and "locked by another program" in str(info.value)
            reply = await Advisor(kb, storage).ask("u", "what is mlops?")
            assert "Full Stack Deep Learning" in reply.text and "nothing from this message was saved" in reply.text
    finally:
        holder.kill()
        holder.wait()


# --- damaged, read-only, missing, not ours ------------------------------------------------------------

async def test_a_damaged_file_is_reported_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    async with Storage(path) as storage:
        for n in range(300):
            await storage.log_question(A, "u", f"question number {n} " * 5, None, None, False)
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 2 : page * 4] = b"\xde\xad\xbe\xef" * (page // 2)  # two pages of table data destroyed
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError) as info:
        await Storage(path).open(verify=True)
    assert info.value.kind == "corrupt" and str(path) in str(info.value) and "backup" in str(info.value)
    assert path.read_bytes() == bytes(data)


async def test_a_read_only_database_says_so(storage: Storage) -> None:
    await storage.db.execute("PRAGMA query_only = ON")  # SQLite refuses writes as for a read-only file
    with pytest.raises(StorageError) as info:
        await storage.set_background(A, "u", "physics")
    assert info.value.kind == "read-only" and "write permission" in str(info.value)
    assert "backup" not in str(info.value)


async def test_a_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StorageError) as info:
        await Storage(blocker / "advisor.db").open()
    assert info.value.kind == "cannot-open" and str(blocker) in str(info.value)


async def test_another_programs_database_is_left_truly_untouched(tmp_path: Path) -> None:
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
        db.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    before = path.read_bytes()
    with pytest.raises(StorageError) as info:
        await Storage(path).open()
    assert info.value.kind == "not-ours" and "invoices" in str(info.value)
    assert path.read_bytes() == before and before[18:20] == b"\x01\x01"  # still a rollback-journal database
    assert not Path(str(path) + "-wal").exists()


# --- the previous schema ----------------------------------------------------------------------------

async def test_a_database_of_the_previous_schema_migrates(tmp_path: Path, kb: Knowledge) -> None:
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
        db.execute("INSERT INTO profiles VALUES ('old', 'software', '2025-01-01T00:00:00+00:00', '2025-01-01')")
        db.execute("INSERT INTO progress VALUES ('old', 'classical-ml', '2025-01-02')")
        db.execute("INSERT INTO questions VALUES (7, 'old', 'my private DM question', NULL, NULL, 0, '2025-01-03')")
        db.execute("INSERT INTO feedback VALUES (7, 'old', 0, '2025-01-03')")
    async with Storage(path) as storage:
        assert await storage.schema_version() == len(MIGRATIONS)
        assert await storage.gaps(A) == []  # a question of unknown origin is shown to no server
        profile = await storage.profile(A, "old")
        assert profile.background == "software" and profile.background_private  # kept, never named in public
        assert await storage.done_steps(A, "old") == {"classical-ml"}
        new = await storage.log_question(A, "someone", "q", None, None, False)
        assert new.id > 7  # ids go on from the old ones, never reused
        reply = await Advisor(kb, storage).ask("old", "how long will it take me?", Place(A, "c", public=True))
        assert "software" not in reply.text.lower()  # a public reply does not name it
        await storage.forget("old")
        assert await storage.rows_about("old") == 0


# --- a crash in the middle of writing ------------------------------------------------------------------

WRITER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from bot.core.storage import Storage

async def main():
    async with Storage({path!r}) as storage:
        n = 0
        while True:
            for _ in range(50):  # a burst
                ref = await storage.log_question("111", "w", "burst write %d" % n, None, None, False)
                await storage.mark_done("111", "w%d" % n, "learn-to-code")
                print(ref.id, n, flush=True)  # acknowledged: both writes committed
                n += 1
            await asyncio.sleep(0.01)

asyncio.run(main())
"""


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    acknowledged: list[tuple[int, int]] = []
    for round_ in range(6):
        child = subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), path=str(path))],
                                 stdout=subprocess.PIPE, text=True)
        lines = []
        for _ in range(40 + 37 * round_):  # kill at a different point each time
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line)
        os.kill(child.pid, signal.SIGKILL)
        rest = child.communicate()[0]
        acknowledged += [tuple(map(int, ln.split())) for ln in lines + rest.splitlines(keepends=True) if ln.strip()]
    assert len(acknowledged) > 200
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {r[0] for r in db.execute("SELECT id FROM questions")}
        done = {r[0] for r in db.execute("SELECT user_id FROM progress")}
    for question_id, n in acknowledged:
        assert question_id in ids and f"w{n}" in done


# --- issue 15: checkpoints that never wait, forget-me that sticks, a clock that steps ------------------

def _reader_holding_a_snapshot(path: Path) -> sqlite3.Connection:
    """Another program (a backup, a DB browser) in the middle of a read transaction."""
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM questions").fetchone()
    return reader


async def test_a_long_reader_does_not_hold_forget_or_purge_in_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    # A long busy timeout, as for a busy bot: the checkpoint used to sit in it, 5 times, holding the
    # bot's only database lock; now a hang here shows as the wait_for below giving up.
    async with Storage(path, busy_timeout=600) as storage:
        for n in range(40):
            await storage.log_question(A, "me", f"my words about quokka farming {n}", None, None, False)
        reader = _reader_holding_a_snapshot(path)
        try:
            assert await asyncio.wait_for(storage.forget("me"), 60) == 40
            assert await asyncio.wait_for(storage.checkpoint(), 60) is False  # the reader needs old pages: later
            await storage.log_question(A, "stale", "an old question", None, None, False)
            assert await asyncio.wait_for(storage.purge(A, 0.0001), 60) >= 0
            await asyncio.wait_for(storage.log_question(A, "other", "a question while the reader reads", None, None,
                                                        False), 60)
        finally:
            reader.execute("COMMIT")
            reader.close()
        await storage.log_question(A, "other", "the next write finishes the checkpoint", None, None, False)
        assert Path(f"{path}-wal").stat().st_size == 0
        assert b"quokka" not in path.read_bytes()


async def test_forget_me_leaves_no_word_in_any_page_five_members_in_turn(tmp_path: Path) -> None:
    import random

    path = tmp_path / "five.db"
    members = [f"m{n}" for n in range(5)] + ["stays1", "stays2"]
    rng = random.Random(1)
    async with Storage(path) as storage:
        for n in range(3000):  # rows of every size, interleaved, so that deletions rebalance pages
            who = rng.choice(members)
            await storage.log_question(A, who, f"secret{who}word {n} " + "pad " * rng.randint(1, 300), None, None, False)
        for who in members[:5]:
            await storage.forget(who)
    data = path.read_bytes()  # every connection closed, as after every process exited
    assert [data.count(f"secret{who}word".encode()) for who in members[:5]] == [0] * 5
    assert data.count(b"secretstays1word") > 100  # the others' questions are all still there
    assert not Path(f"{path}-wal").exists() or b"secretm" not in Path(f"{path}-wal").read_bytes()


async def test_the_tombstone_keeps_no_id_and_no_words(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    async with Storage(path) as storage:
        await storage.log_question(A, "987654321", "my question", None, None, False)
        await storage.forget("987654321")
    with sqlite3.connect(path) as db:
        dump = "\n".join(db.iterdump())
    assert "987654321" not in dump and "my question" not in dump


async def test_damage_found_after_opening_stops_every_later_write(tmp_path: Path) -> None:
    path = tmp_path / "later.db"
    async with Storage(path) as storage:
        for n in range(300):
            await storage.log_question(A, "u", f"question number {n} " * 5, None, None, False)
    data = bytearray(path.read_bytes())
    data[4096 * 2: 4096 * 4] = b"\xde\xad\xbe\xef" * 2048
    path.write_bytes(bytes(data))
    damaged = bytes(data)
    storage = Storage(path)
    with pytest.raises(StorageError) as refused:
        await storage.open()  # found at open by the quick check, with nothing written
    assert refused.value.kind == "corrupt" and path.read_bytes() == damaged
    storage = Storage(path)
    await storage.open(verify=False)  # had it been missed at open (a file too large to check whole)...
    try:
        with pytest.raises(StorageError):
            await storage.my_data("u")  # ...the first read of a damaged page finds it...
        with pytest.raises(StorageError) as info:
            await storage.set_background(A, "v", "physics")  # ...and no write follows it
        assert info.value.kind == "corrupt"
    finally:
        await storage.close()
    assert path.read_bytes() == damaged


async def test_forget_me_on_a_full_disk_is_all_or_nothing_and_finishes_when_space_is_back(tmp_path: Path) -> None:
    from tests.test_setup import tiny_disk

    with tiny_disk(tmp_path / "disk", "8m") as disk:
        path = disk / "full.db"
        async with Storage(path) as storage:
            for n in range(400):
                await storage.log_question(A, "me" if n % 2 else "other", f"zorblax secret {n} " + "pad " * 100,
                                           None, None, False)
            filler = disk / "filler"
            with contextlib.suppress(OSError), filler.open("wb") as handle:
                while True:
                    handle.write(b"\0" * 4096)
                    handle.flush()
            try:
                removed = await storage.forget("me")
            except StorageError as exc:  # nothing could be written: nothing was deleted either
                assert exc.kind in ("full", "io")
                assert await storage.rows_about("me") == 200
            else:  # deleted; the compaction may have had to wait for space
                assert removed == 200 and await storage.rows_about("me") == 0
            filler.unlink()
            await storage.forget("me")
            assert await storage.rows_about("me") == 0 and await storage.rows_about("other") == 200
        assert b"zorblax secret 1 " not in path.read_bytes() and b"zorblax secret 0 " in path.read_bytes()


async def test_a_file_too_large_for_the_quick_check_gets_a_bounded_one(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core.storage import sqlite as sqlite_module

    path = tmp_path / "large.db"
    async with Storage(path) as storage:
        for n in range(300):
            await storage.log_question(A, "u", f"question number {n} " * 5, None, None, False)
    monkeypatch.setattr(sqlite_module, "QUICK_CHECK_BYTES", 0)  # as if the file were larger than the limit
    async with Storage(path) as storage:  # a sound file passes the bounded check
        assert await storage.rows_about("u") == 300
    data = bytearray(path.read_bytes())
    data[4096 * 2: 4096 * 4] = b"\xde\xad\xbe\xef" * 2048
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError) as info:
        await Storage(path).open()
    assert info.value.kind == "corrupt" and path.read_bytes() == bytes(data)
    path.write_bytes(bytes(data[: 4096 * 3]))  # cut short: shorter than its header says
    with pytest.raises(StorageError) as info:
        await Storage(path).open()
    assert info.value.kind == "corrupt"
