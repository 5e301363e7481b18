"""The embedded backend: everything the advisor remembers, in one SQLite file (aiosqlite, WAL).

Tables:
  profiles    stated background per place and member (and whether it was stated privately)
  progress    roadmap steps marked done
  questions   what was asked, where, the match, its score, whether it was answered (moderators' gaps)
  feedback    👍/👎 on a question
  context     the topic of the last answer per place, channel and member (for follow-up questions)
  settings    per-server settings made from Discord (/config); the .env values are the defaults
  kb_changes  the history of knowledge edits (who, when, what); kb_change_items what each did per item
  kb_overrides the moderators' edits in force, one row per item; the shipped files are never changed
  forgotten   a tombstone per member who used forget-me (a hash of their id, no place, no words): what
              others do with their old messages (the message menu) re-creates nothing about them until
              they speak to the bot again themselves
  sweeps      the retention sweeps' clock: each sweep's reference time and the highest question id then

One writing connection, one operation at a time: each public method holds a lock for its whole
transaction, so concurrent members never interleave statements, and a write either commits or raises
StorageError (nothing reports "saved" otherwise). The short reads a message or command makes (a member's
memory, steps, profile, topic) run on the event loop from a second, read-only connection that never
waits (WAL lets it read while the writer writes), and go to the writer's thread when SQLite says busy.
Schema changes are numbered migrations recorded in PRAGMA user_version. Every query uses ? parameters.
A file that is damaged, locked, read-only, on a full disk, or another program's database raises
StorageError with its own plain message, and is never replaced.

Opening checks before anything is written: another program's file (any tables without our schema
version) is refused untouched; a damaged file is found by SQLite's quick_check (files up to
QUICK_CHECK_BYTES; a larger one gets a bounded check of its header and both ends of every table) and
refused; a file that cannot be written is refused at once rather than failing on every later write. A
damage found later stops every further write on that connection.

Checkpoints never wait: PASSIVE copies what no reader still needs, TRUNCATE runs only when nobody reads
(busy timeout 0 for it); what a long reader held back is copied by a later write's checkpoint, and by
SQLite when the last connection closes. Forget-me also VACUUMs, because a page SQLite rebalanced can keep
a stale copy of a row in its unused space even with secure_delete on.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.storage.base import (
    COPIED_TABLES,
    MAX_QUESTION_CHARS,
    MEMBER_TABLES,
    Change,
    Gap,
    KbConflict,
    Profile,
    QuestionRef,
    StorageError,
    Store,
    Usage,
    change_from_row,
    member_hash,
    memory_from_rows,
    now,
    question_token,
)

T = TypeVar("T")
log = logging.getLogger("mle_advisor.storage")

MIGRATIONS: Sequence[str] = (
    # 1: the first schema
    """
    CREATE TABLE profiles (
        user_id TEXT PRIMARY KEY,
        background TEXT,
        background_stated_at TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE progress (
        user_id TEXT NOT NULL,
        step_id TEXT NOT NULL,
        done_at TEXT NOT NULL,
        PRIMARY KEY (user_id, step_id)
    );
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        question TEXT NOT NULL,
        match_id TEXT,
        score REAL,
        answered INTEGER NOT NULL,
        asked_at TEXT NOT NULL
    );
    CREATE INDEX questions_by_user ON questions (user_id);
    CREATE TABLE feedback (
        question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        given_at TEXT NOT NULL,
        PRIMARY KEY (question_id, user_id)
    );
    CREATE INDEX feedback_by_user ON feedback (user_id);
    """,
    # 2: every row belongs to a place; question ids are never reused; conversation context, per-server
    # settings and the knowledge edit history. Rows from schema 1 go to the place 'legacy'.
    """
    CREATE TABLE profiles2 (
        place TEXT NOT NULL,
        user_id TEXT NOT NULL,
        background TEXT,
        background_stated_at TEXT,
        background_private INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (place, user_id)
    );
    INSERT INTO profiles2 SELECT 'legacy', user_id, background, background_stated_at, 1, updated_at FROM profiles;
    DROP TABLE profiles;
    ALTER TABLE profiles2 RENAME TO profiles;
    CREATE INDEX profiles_by_user ON profiles (user_id);

    CREATE TABLE progress2 (
        place TEXT NOT NULL,
        user_id TEXT NOT NULL,
        step_id TEXT NOT NULL,
        done_at TEXT NOT NULL,
        PRIMARY KEY (place, user_id, step_id)
    );
    INSERT INTO progress2 SELECT 'legacy', user_id, step_id, done_at FROM progress;
    DROP TABLE progress;
    ALTER TABLE progress2 RENAME TO progress;
    CREATE INDEX progress_by_user ON progress (user_id);

    CREATE TABLE questions2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        place TEXT NOT NULL,
        channel TEXT NOT NULL DEFAULT '',
        user_id TEXT NOT NULL,
        question TEXT NOT NULL,
        match_id TEXT,
        score REAL,
        answered INTEGER NOT NULL,
        asked_at TEXT NOT NULL,
        dismissed INTEGER NOT NULL DEFAULT 0,
        off_topic INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO questions2 (id, place, user_id, question, match_id, score, answered, asked_at)
        SELECT id, 'legacy', user_id, question, match_id, score, answered, asked_at FROM questions;
    CREATE TABLE feedback2 (
        question_id INTEGER NOT NULL REFERENCES questions2 (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        place TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        given_at TEXT NOT NULL,
        PRIMARY KEY (question_id, user_id)
    );
    INSERT INTO feedback2 SELECT question_id, user_id, 'legacy', helpful, given_at FROM feedback;
    DROP TABLE feedback;
    DROP TABLE questions;
    ALTER TABLE questions2 RENAME TO questions;
    ALTER TABLE feedback2 RENAME TO feedback;
    CREATE INDEX questions_by_user ON questions (user_id);
    CREATE INDEX questions_by_place ON questions (place, asked_at);
    CREATE INDEX feedback_by_user ON feedback (user_id);

    CREATE TABLE context (
        place TEXT NOT NULL,
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        topic_id TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (place, channel, user_id)
    );
    CREATE INDEX context_by_user ON context (user_id);

    CREATE TABLE settings (
        place TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (place, key)
    );

    CREATE TABLE kb_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        by_id TEXT NOT NULL,
        by_name TEXT NOT NULL,
        place TEXT NOT NULL,
        summary TEXT NOT NULL,
        files TEXT NOT NULL
    );
    """,
    # 3: moderators' edits live here, per item, instead of as files in an edits folder. kb_overrides holds
    # the edit in force for each item (section + id) that differs from the shipped files; kb_change_items
    # what each change did to each item (the override before and after, JSON or NULL), so undo and import
    # can tell when a later change touched the same item. A change, its items and the overrides are written
    # in one transaction. kb_meta marks one-off steps such as moving an old edits folder in.
    """
    CREATE TABLE kb_overrides (
        section TEXT NOT NULL,
        item_id TEXT NOT NULL,
        state TEXT NOT NULL,
        change_id INTEGER NOT NULL,
        PRIMARY KEY (section, item_id)
    );
    CREATE TABLE kb_change_items (
        change_id INTEGER NOT NULL REFERENCES kb_changes (id),
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
    """,
    # 4: tombstones of forgotten members (a hash of the id, and the place or "*") and the retention sweeps' clock
    """
    CREATE TABLE forgotten (
        member TEXT NOT NULL,
        place TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (member, place)
    );
    CREATE TABLE sweeps (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        reference TEXT NOT NULL,
        max_question_id INTEGER NOT NULL
    );
    """,
)

OUR_TABLES = frozenset({"profiles", "progress", "questions", "feedback", "context", "settings", "kb_changes",
                        "kb_overrides", "kb_change_items", "kb_meta",
                        "sqlite_sequence", "profiles2", "progress2", "questions2", "feedback2",
                        "forgotten", "sweeps"})
SCHEMA_1_TABLES = frozenset({"profiles", "progress", "questions", "feedback"})
BUSY_TIMEOUT = 10.0
SCRUB_WAIT = 1.0
"""Seconds forget-me's VACUUM waits for another process's write lock before leaving it for later."""
QUICK_CHECK_BYTES = 256 * 2**20
"""Files up to this size get SQLite's full quick_check at open (about 0.1 s per 30 MB when cached)."""


_NOT_TEXT = "that text cannot be stored: it is not valid Unicode (a lone surrogate); nothing was saved"


def _size_of(path: Path | str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


_KIND_BY_CODE = {
    5: "locked", 6: "locked",  # SQLITE_BUSY, SQLITE_LOCKED
    8: "read-only", 3: "read-only",  # SQLITE_READONLY, SQLITE_PERM
    10: "io", 11: "corrupt", 13: "full", 14: "cannot-open", 26: "not-a-database",
}


def _kind_of(exc: BaseException) -> str:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _KIND_BY_CODE:
        return _KIND_BY_CODE[code & 0xFF]
    text = str(exc).lower()
    for needle, kind in (("locked", "locked"), ("readonly", "read-only"), ("read-only", "read-only"),
                         ("full", "full"), ("malformed", "corrupt"), ("not a database", "not-a-database"),
                         ("unable to open", "cannot-open"), ("disk i/o", "io")):
        if needle in text:
            return kind
    return "error"


class SQLiteStorage(Store):
    migrations = MIGRATIONS

    def __init__(self, path: Path | str, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._reader: sqlite3.Connection | None = None  # short reads on the event loop (`_quick`)
        self._lock = asyncio.Lock()
        self._broken: StorageError | None = None  # damage found after opening: no more writes
        self._checkpoint_pending = False  # a reader held part of the WAL back: the next write tries again

    # --- opening and errors ---------------------------------------------------------------------

    def error(self, exc: BaseException) -> StorageError:
        """A plain, specific message for what went wrong with the file."""
        kind = _kind_of(exc)
        p = self.path
        message = {
            "corrupt": f"{p} is damaged ({exc}). It was left as it is: restore it from a backup, or move it away "
                       "to start with an empty database",
            "not-a-database": f"{p} is not a SQLite database. It was left as it is: set DATABASE_PATH to another file, "
                              "or move this one away",
            "locked": f"{p} is locked by another program (another copy of the bot, or a backup tool) for more than "
                      f"{self.busy_timeout:g} s: stop that program, then try again",
            "read-only": f"{p} cannot be written (read-only file or folder): give the bot's user write permission "
                         "on the file and its folder",
            "full": f"the disk holding {p} is full: free some space; nothing was saved",
            "cannot-open": f"cannot open {p}: check that its folder exists and the bot may write there",
            "io": f"a disk error occurred on {p} ({exc}): check the disk, then restart the bot",
        }.get(kind, f"{p}: database error ({exc})")
        return StorageError(message, kind)

    async def open(self, *, verify: bool = True) -> None:
        """Open (creating the file and its folder when missing, readable by this user only), check it is
        ours, undamaged and writable, and migrate. Nothing is changed in a file that fails a check.

        verify=False skips the damage check (only for a file this process has just checked)."""
        if str(self.path) != ":memory:":
            if self.path.exists() and not self.path.is_file():
                raise StorageError(f"{self.path} is not a regular file; set DATABASE_PATH to a file path", "cannot-open")
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {self.path}: {exc.strerror or exc}", "cannot-open") from None
            if self.path.exists() and not os.access(self.path, os.R_OK):
                raise StorageError(f"cannot read {self.path} (permission denied): give the bot's user read and write "
                                   "permission on the file and its folder", "read-only")
            if not self.path.exists():
                try:  # created here so that it is never world-readable, whatever the umask (SQLite gives the
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # WAL the same mode)
                except FileExistsError:
                    pass
                except OSError as exc:
                    kind = "read-only" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else \
                        "full" if exc.errno == errno.ENOSPC else "cannot-open"
                    raise StorageError(f"cannot create {self.path}: {exc.strerror or exc}", kind) from None
        try:
            self._db = await aiosqlite.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            db = self._db
            await db.execute_fetchall(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            # Read before writing anything: a database of another program is left exactly as it is.
            version = (await (await db.execute("PRAGMA user_version")).fetchone())[0]
            tables = {r[0] for r in await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version > len(MIGRATIONS):
                raise StorageError(f"{self.path} was written by a newer version of MLE Advisor (schema {version}, "
                                   f"this one knows {len(MIGRATIONS)}); upgrade the bot", "newer")
            ours = not tables if version == 0 else SCHEMA_1_TABLES <= tables and not tables - OUR_TABLES
            if not ours:
                others = ", ".join(sorted(tables - {"sqlite_sequence"})[:5])
                raise StorageError(f"{self.path} is the database of another program (tables: {others}). It was left "
                                   "untouched: set DATABASE_PATH to a new file", "not-ours")
            if verify and tables:
                await self._check_damage(db, tables)
            wal = (await (await db.execute("PRAGMA journal_mode = WAL")).fetchone())[0] == "wal"
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not left in free pages
            await self._migrate(version)
            await self._check_writable(db)
            if wal and str(self.path) != ":memory:":
                self._reader = self._open_reader()
        except sqlite3.Error as exc:
            await self.close()
            raise self.error(exc) from None
        except BaseException:  # a refusal, a cancellation: never leave the connection open
            await self.close()
            raise

    async def _check_damage(self, db: aiosqlite.Connection, tables: set[str]) -> None:
        """SQLite's quick_check on a file of ordinary size; on a very large one, a check bounded in time:
        the header's page count against the file, and the first and last rows of every table."""
        size = _size_of(self.path)
        if size <= QUICK_CHECK_BYTES:
            rows = await db.execute_fetchall("PRAGMA quick_check(5)")
            problems = [r[0] for r in rows if r[0] != "ok"]
            if problems or not rows:
                raise sqlite3.DatabaseError(f"database disk image is malformed: {'; '.join(problems)[:300] or 'no answer'}")
            return
        pages = await _scalar(db, "PRAGMA page_count")
        page_size = await _scalar(db, "PRAGMA page_size")
        if pages * page_size > size + _size_of(f"{self.path}-wal"):
            raise sqlite3.DatabaseError("database disk image is malformed: the file is shorter than its header says")
        for table in sorted(tables & OUR_TABLES - {"sqlite_sequence"}):
            for order in ("ASC", "DESC"):
                await db.execute_fetchall(f"SELECT * FROM {table} ORDER BY rowid {order} LIMIT 200")  # noqa: S608 - our names

    async def _check_writable(self, db: aiosqlite.Connection) -> None:
        """A write that is rolled back: a read-only file or folder is found now, not at every later write.
        (With another program holding the write lock, this waits up to the busy timeout, then goes on.)"""
        if str(self.path) == ":memory:":
            return
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                version = await _scalar(db, "PRAGMA user_version")
                await db.execute(f"PRAGMA user_version = {int(version)}")
            finally:
                await _rollback(db)
        except sqlite3.Error as exc:
            if _kind_of(exc) != "locked":  # held by another writer right now: its writes will say so
                raise

    def _open_reader(self) -> sqlite3.Connection:
        """A second connection, read-only, for the short reads a message or command makes (`_quick`): run on
        the event loop, they skip the trip to the writer's thread and back, which costs more than the read.
        Busy timeout 0: it never waits; in WAL mode a reader is not held up by the writer, and when SQLite
        says busy all the same the read goes to the writer's thread (`_quick`)."""
        reader = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=0, isolation_level=None,
                                 check_same_thread=False)  # only ever used on the event loop, one statement at a time
        try:
            reader.execute("PRAGMA query_only = ON")
        except sqlite3.Error:
            reader.close()
            raise
        return reader

    async def close(self) -> None:
        if self._reader is not None:  # first: the writer, closing last, checkpoints and removes the WAL
            reader, self._reader = self._reader, None
            with contextlib.suppress(sqlite3.Error):
                reader.close()
        if self._db is not None:
            db, self._db = self._db, None
            try:
                await db.close()
            except (sqlite3.Error, ValueError):
                pass

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError(f"{self.path} is not open (the bot may be shutting down)", "closed")
        return self._db

    async def _migrate(self, version: int) -> None:
        for number in range(version, len(MIGRATIONS)):
            await self.db.executescript(f"BEGIN IMMEDIATE;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;")

    async def schema_version(self) -> int:
        return await self._read(lambda db: _scalar(db, "PRAGMA user_version"))

    # One operation at a time on the shared connection: a lock around each whole transaction.

    async def _read(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        async with self._lock:
            with self._plain_errors():
                return await work(self.db)

    async def _quick(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """The rows of one short read (a member's memory, their steps): on the event loop from the reader
        connection, which is cheaper than the trip to the writer's thread and back; on that thread when
        there is no reader (":memory:", a journal that is not WAL) or SQLite answers busy or locked. It
        sees every write committed before it starts, as a read on the writer's connection does."""
        reader = self._reader
        if reader is not None:
            with self._plain_errors():
                try:
                    return reader.execute(sql, params).fetchall()
                except sqlite3.OperationalError as exc:
                    if _kind_of(exc) != "locked":
                        raise
        return await self._read(lambda db: db.execute_fetchall(sql, params))  # type: ignore[arg-type]

    @contextlib.contextmanager
    def _plain_errors(self) -> Iterator[None]:
        """What went wrong, as StorageError with its kind (a damaged file also stops every later write)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise self._failed(exc) from None
        except UnicodeError:
            raise StorageError(_NOT_TEXT, "bad-text") from None
        except ValueError as exc:  # aiosqlite: the connection was closed meanwhile
            raise StorageError(f"{self.path} is not open ({exc})", "closed") from None

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `work` in one transaction; it is committed, or nothing of it is, and StorageError is raised."""
        async with self._lock:
            if self._broken is not None:  # never write to a file found damaged
                raise self._broken
            db = self.db
            with self._plain_errors():
                await db.execute("BEGIN IMMEDIATE")
                try:
                    result = await work(db)
                    await db.execute("COMMIT")
                except BaseException:
                    await _rollback(db)
                    raise
            if self._checkpoint_pending:
                await self._checkpoint(db)
            return result

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Like `_write`, for a `work` that is plain sqlite3 code: BEGIN IMMEDIATE, `work`, COMMIT (or
        ROLLBACK) and a pending checkpoint run as ONE function on aiosqlite's thread (`_on_thread`), so a
        whole transaction costs one round trip to it instead of one per statement (issue 17: a question
        is one read and one write). Same guard against a damaged file, same lock, same errors. A caller
        cancelled meanwhile leaves nothing half-done: the function commits or rolls back whole, on its
        thread, before anything queued after it runs there."""
        async with self._lock:
            if self._broken is not None:  # never write to a file found damaged
                raise self._broken
            db = self.db
            with self._plain_errors():
                return await _on_thread(db, lambda conn: self._in_transaction(conn, work))

    def _in_transaction(self, conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
        """On aiosqlite's thread: `work` in one transaction, then the checkpoint a reader held back.
        A checkpoint that fails after the commit does not report the committed write as failed."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # no transaction left to roll back (SQLite ended it)
                conn.execute("ROLLBACK")
            raise
        if self._checkpoint_pending:
            try:
                self._checkpoint_on(conn)
            except sqlite3.Error as exc:
                log.warning("could not checkpoint %s after a write: %s", self.path, exc)
        return result

    def _failed(self, exc: BaseException) -> StorageError:
        error = self.error(exc)
        if error.kind in ("corrupt", "not-a-database"):
            self._broken = error
        return error

    # --- profiles -------------------------------------------------------------------------------

    async def profile(self, place: str, user_id: str) -> Profile:
        """The member's background in this place; one from before places existed counts everywhere."""
        rows = await self._quick(
            """SELECT background, background_stated_at, background_private FROM profiles
               WHERE user_id = ? AND place IN (?, 'legacy') ORDER BY place = 'legacy' LIMIT 1""", (user_id, place))
        row = next(iter(rows), None)
        return Profile(user_id, row[0], row[1], bool(row[2])) if row else Profile(user_id, None, None)

    async def memory(self, place: str, channel: str, user_id: str,
                     context_age: timedelta) -> tuple[Profile, set[str], str | None]:
        """What answering a question needs, read at once: profile, done steps, conversation topic."""

        since = (datetime.now(UTC) - context_age).isoformat(timespec="seconds")
        # One statement: profile row, done steps, topic, tagged (on the event loop, or one trip to the thread).
        rows = await self._quick(
            """SELECT * FROM (SELECT 'p', background, background_stated_at, background_private FROM profiles
                              WHERE user_id = ?1 AND place IN (?2, 'legacy') ORDER BY place = 'legacy' LIMIT 1)
               UNION ALL SELECT 'd', step_id, NULL, NULL FROM progress WHERE user_id = ?1 AND place IN (?2, 'legacy')
               UNION ALL SELECT 'c', topic_id, NULL, NULL FROM context
                   WHERE place = ?2 AND channel = ?3 AND user_id = ?1 AND updated_at >= ?4""",
            (user_id, place, channel, since))
        return memory_from_rows(user_id, rows)

    async def set_background(self, place: str, user_id: str, background: str | None, *, private: bool = False) -> None:
        stamp = now()

        await self._transaction(lambda conn: _set_background(conn, place, user_id, background, private, stamp))

    # --- progress -------------------------------------------------------------------------------

    async def done_steps(self, place: str, user_id: str) -> set[str]:
        rows = await self._quick("SELECT step_id FROM progress WHERE user_id = ? AND place IN (?, 'legacy')", (user_id, place))
        return {r[0] for r in rows}

    async def mark_done(self, place: str, user_id: str, step_id: str, done: bool = True) -> bool:
        """Tick a step off (or un-tick it); True when that changed anything."""

        async def work(db: aiosqlite.Connection) -> bool:
            if done:
                cursor = await db.execute("INSERT OR IGNORE INTO progress (place, user_id, step_id, done_at) VALUES (?, ?, ?, ?)",
                                          (place, user_id, step_id, now()))
            else:
                cursor = await db.execute("DELETE FROM progress WHERE user_id = ? AND step_id = ? AND place IN (?, 'legacy')",
                                          (user_id, step_id, place))
            return cursor.rowcount > 0

        return await self._write(work)

    # --- questions and feedback -----------------------------------------------------------------

    async def record_turn(self, place: str, user_id: str, question: str, match_id: str | None, score: float | None,
                          answered: bool, *, channel: str = "", off_topic: bool = False,
                          context_topic: str | None = None, background: tuple[str, bool] | None = None,
                          by_them: bool = True) -> QuestionRef | None:
        asked_at = now()

        def work(conn: sqlite3.Connection) -> int | None:  # one trip to the database's thread
            if by_them:
                conn.execute("DELETE FROM forgotten WHERE member = ?", (member_hash(user_id),))
            elif _is_forgotten(conn, user_id, place):
                return None
            cursor = conn.execute(
                """INSERT INTO questions (place, channel, user_id, question, match_id, score, answered, asked_at, off_topic)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (place, channel, user_id, question[:MAX_QUESTION_CHARS], match_id, score, int(answered), asked_at,
                 int(off_topic)))
            if context_topic is not None:
                _set_context(conn, place, channel, user_id, context_topic)
            if background is not None:
                _set_background(conn, place, user_id, background[0], background[1], asked_at)
            return int(cursor.lastrowid or 0)

        number = await self._transaction(work)
        return None if number is None else QuestionRef(number, question_token(number, asked_at))

    async def add_feedback(self, ref: QuestionRef, user_id: str, helpful: bool) -> bool:
        """Store (or change) a 👍/👎; False when that question is gone or the button was made for another."""

        async def work(db: aiosqlite.Connection) -> bool:
            row = await (await db.execute("SELECT asked_at, place FROM questions WHERE id = ?", (ref.id,))).fetchone()
            if row is None or question_token(ref.id, row[0]) != ref.token:
                return False
            await db.execute(
                """INSERT INTO feedback (question_id, user_id, place, helpful, given_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (question_id, user_id) DO UPDATE SET helpful = excluded.helpful, given_at = excluded.given_at""",
                (ref.id, user_id, row[1], int(helpful), now()))
            return True

        return await self._write(work)

    async def feedback_for(self, question_id: int) -> list[tuple[str, bool]]:
        rows = await self._read(lambda db: db.execute_fetchall(
            "SELECT user_id, helpful FROM feedback WHERE question_id = ? ORDER BY user_id", (question_id,)))
        return [(r[0], bool(r[1])) for r in rows]

    async def gaps(self, place: str, limit: int = 15) -> list[Gap]:
        """This place's questions not answered or marked unhelpful (and not dismissed), grouped by their
        text, most frequent first."""
        rows = await self._read(lambda db: db.execute_fetchall(
            """SELECT lower(trim(q.question)) AS text, COUNT(*) AS times,
                      SUM(q.answered = 0) AS unanswered,
                      SUM(EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0)) AS unhelpful,
                      MAX(q.asked_at) AS last_asked, MAX(q.question) AS asked_as
               FROM questions q
               WHERE q.place = ? AND q.dismissed = 0 AND q.off_topic = 0
                 AND (q.answered = 0 OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0))
               GROUP BY text
               ORDER BY times DESC, last_asked DESC
               LIMIT ?""", (place, limit)))
        return [Gap(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def dismiss_gap(self, place: str, text: str) -> int:
        """Hide a gap (every question of this place with this text) from the list; how many rows."""

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute("UPDATE questions SET dismissed = 1 WHERE place = ? AND lower(trim(question)) = ?",
                                      (place, " ".join(text.lower().split())))
            return cursor.rowcount

        return await self._write(work)

    async def usage(self, place: str, days: int) -> Usage:
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")

        async def work(db: aiosqlite.Connection) -> Usage:
            asked, answered = await (await db.execute(
                "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM questions WHERE place = ? AND asked_at >= ?",
                (place, since))).fetchone()
            helpful, unhelpful = await (await db.execute(
                """SELECT COALESCE(SUM(f.helpful = 1), 0), COALESCE(SUM(f.helpful = 0), 0) FROM feedback f
                   JOIN questions q ON q.id = f.question_id WHERE q.place = ? AND q.asked_at >= ?""",
                (place, since))).fetchone()
            topics = await db.execute_fetchall(
                """SELECT match_id, COUNT(*) AS n FROM questions WHERE place = ? AND asked_at >= ? AND answered = 1
                   AND match_id IS NOT NULL GROUP BY match_id ORDER BY n DESC, match_id LIMIT 5""", (place, since))
            gaps = await db.execute_fetchall(
                """SELECT lower(trim(question)) AS text, COUNT(*) AS n FROM questions WHERE place = ? AND asked_at >= ?
                   AND answered = 0 AND dismissed = 0 AND off_topic = 0 GROUP BY text ORDER BY n DESC, text LIMIT 5""",
                (place, since))
            by_day = dict(await db.execute_fetchall(
                "SELECT substr(asked_at, 1, 10), COUNT(*) FROM questions WHERE place = ? AND asked_at >= ? GROUP BY 1",
                (place, since)))
            today = datetime.now(UTC).date()
            per_day = [by_day.get((today - timedelta(days=d)).isoformat(), 0) for d in range(days - 1, -1, -1)]
            return Usage(days, asked, answered, helpful, unhelpful, [tuple(r) for r in topics],  # type: ignore[misc]
                         [tuple(r) for r in gaps], per_day)  # type: ignore[misc]

        return await self._read(work)

    # --- conversation context -------------------------------------------------------------------

    async def context(self, place: str, channel: str, user_id: str, max_age: timedelta) -> str | None:
        """The topic of the member's last answer here, if it is more recent than `max_age`."""
        since = (datetime.now(UTC) - max_age).isoformat(timespec="seconds")
        rows = await self._quick("SELECT topic_id FROM context WHERE place = ? AND channel = ? AND user_id = ? AND updated_at >= ?",
                                 (place, channel, user_id, since))
        return rows[0][0] if rows else None

    async def set_context(self, place: str, channel: str, user_id: str, topic_id: str | None) -> None:
        await self._transaction(lambda conn: _set_context(conn, place, channel, user_id, topic_id))

    # --- per-server settings --------------------------------------------------------------------

    async def settings(self, place: str) -> dict[str, Any]:
        rows = await self._read(lambda db: db.execute_fetchall("SELECT key, value FROM settings WHERE place = ?", (place,)))
        return {key: json.loads(value) for key, value in rows}

    async def all_settings(self) -> dict[str, dict[str, Any]]:
        rows = await self._read(lambda db: db.execute_fetchall("SELECT place, key, value FROM settings"))
        out: dict[str, dict[str, Any]] = {}
        for place, key, value in rows:
            out.setdefault(place, {})[key] = json.loads(value)
        return out

    async def set_settings(self, place: str, values: dict[str, Any], by: str = "") -> None:
        """Store several settings of a place in one transaction: all of them or, on any failure, none.
        None removes a setting (back to the default)."""
        encoded = {key: None if value is None else json.dumps(value) for key, value in values.items()}

        async def work(db: aiosqlite.Connection) -> None:
            for key, value in encoded.items():
                if value is None:
                    await db.execute("DELETE FROM settings WHERE place = ? AND key = ?", (place, key))
                else:
                    await db.execute(
                        """INSERT INTO settings (place, key, value, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
                           ON CONFLICT (place, key) DO UPDATE SET value = excluded.value,
                           updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
                        (place, key, value, now(), by))

        await self._write(work)

    # --- knowledge history ----------------------------------------------------------------------

    async def record_change(self, by_id: str, by_name: str, place: str, summary: str,
                            files: dict[str, tuple[str | None, str | None]]) -> int:
        """A change of whole files (how edits were kept before they moved into the database)."""
        payload = json.dumps({path: {"before": before, "after": after} for path, (before, after) in files.items()})

        async def work(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "INSERT INTO kb_changes (at, by_id, by_name, place, summary, files) VALUES (?, ?, ?, ?, ?, ?)",
                (now(), by_id, by_name, place, summary, payload))
            return int(cursor.lastrowid or 0)

        return await self._write(work)

    async def kb_state(self) -> tuple[int, dict[tuple[str, str], tuple[dict[str, Any], int]]]:
        """The latest change's id and every override in force: (section, id) → (state, change id); one read."""

        async def work(db: aiosqlite.Connection) -> tuple[int, dict[tuple[str, str], tuple[dict[str, Any], int]]]:
            last = await _scalar(db, "SELECT COALESCE(MAX(id), 0) FROM kb_changes")
            rows = await db.execute_fetchall("SELECT section, item_id, state, change_id FROM kb_overrides")
            return int(last), {(r[0], r[1]): (json.loads(r[2]), r[3]) for r in rows}

        return await self._read(work)

    async def kb_last_change(self) -> int:
        """The id of the latest knowledge change (0: none): a cheap check whether another process changed it."""
        return int(await self._read(lambda db: _scalar(db, "SELECT COALESCE(MAX(id), 0) FROM kb_changes")))

    async def kb_commit(self, expected_last: int, items: dict[tuple[str, str], tuple[dict[str, Any] | None, dict[str, Any] | None]],
                        *, by_id: str, by_name: str, place: str, summary: str, shared_summary: str = "",
                        mark: str | None = None) -> int:
        """Record a knowledge change and put its overrides in force, in ONE transaction: both land or
        neither does. Raises KbConflict when a change was recorded after `expected_last` (another process
        got there first: catch up and prepare the change again). `mark` records a one-off step as done."""

        async def work(db: aiosqlite.Connection) -> int:
            last = await _scalar(db, "SELECT COALESCE(MAX(id), 0) FROM kb_changes")
            if int(last) != expected_last:
                raise KbConflict(f"change #{last} was made meanwhile")
            cursor = await db.execute(
                "INSERT INTO kb_changes (at, by_id, by_name, place, summary, files, shared_summary) VALUES (?, ?, ?, ?, ?, '{}', ?)",
                (now(), by_id, by_name, place, summary, shared_summary))
            change_id = int(cursor.lastrowid or 0)
            for (section, item_id), (before, after) in items.items():
                await db.execute(
                    "INSERT INTO kb_change_items (change_id, section, item_id, before, after) VALUES (?, ?, ?, ?, ?)",
                    (change_id, section, item_id, _json_or_none(before), _json_or_none(after)))
                if after is None:
                    await db.execute("DELETE FROM kb_overrides WHERE section = ? AND item_id = ?", (section, item_id))
                else:
                    await db.execute(
                        """INSERT INTO kb_overrides (section, item_id, state, change_id) VALUES (?, ?, ?, ?)
                           ON CONFLICT (section, item_id) DO UPDATE SET state = excluded.state, change_id = excluded.change_id""",
                        (section, item_id, json.dumps(after), change_id))
            if mark is not None:
                await db.execute("INSERT OR REPLACE INTO kb_meta (key, value) VALUES (?, ?)", (mark, str(change_id)))
            return change_id

        return await self._write(work)

    async def kb_meta(self, key: str) -> str | None:
        rows = await self._read(lambda db: db.execute_fetchall("SELECT value FROM kb_meta WHERE key = ?", (key,)))
        return rows[0][0] if rows else None

    async def changes(self, limit: int = 20) -> list[Change]:
        rows = await self._read(lambda db: db.execute_fetchall(
            "SELECT id, at, by_id, by_name, place, summary, files, shared_summary FROM kb_changes ORDER BY id DESC LIMIT ?", (max(0, min(limit, 10_000)),)))
        return [change_from_row(r) for r in rows]

    async def changes_since(self, change_id: int, limit: int = 1000) -> list[Change]:
        """The changes after `change_id`, oldest first, with what each did per item: how a process catches up."""

        async def work(db: aiosqlite.Connection) -> list[Change]:
            rows = await db.execute_fetchall(
                "SELECT id, at, by_id, by_name, place, summary, files, shared_summary FROM kb_changes WHERE id > ? ORDER BY id LIMIT ?", (change_id, limit))
            return [change_from_row(r, await _change_items(db, r[0])) for r in rows]

        return await self._read(work)

    async def change(self, change_id: int | None = None) -> Change | None:
        """One change by id, or the latest, with what it did per item."""

        async def work(db: aiosqlite.Connection) -> Change | None:
            if change_id is not None:
                rows = await db.execute_fetchall("SELECT id, at, by_id, by_name, place, summary, files, shared_summary FROM kb_changes WHERE id = ?", (change_id,))
            else:
                rows = await db.execute_fetchall("SELECT id, at, by_id, by_name, place, summary, files, shared_summary FROM kb_changes ORDER BY id DESC LIMIT 1")
            return change_from_row(rows[0], await _change_items(db, rows[0][0])) if rows else None

        return await self._read(work)

    async def item_changes(self, section: str, item_id: str, *, after: int = 0, limit: int = 20) -> list[Change]:
        """The changes that touched one item after change `after`, newest first (without their items)."""
        rows = await self._read(lambda db: db.execute_fetchall(
            """SELECT id, at, by_id, by_name, place, summary, files, shared_summary FROM kb_changes WHERE id IN
                (SELECT change_id FROM kb_change_items WHERE section = ? AND item_id = ? AND change_id > ?)
                ORDER BY id DESC LIMIT ?""", (section, item_id, after, limit)))
        return [change_from_row(r) for r in rows]

    async def topic_usage(self, topic_id: str, days: int, place: str | None = None) -> tuple[int, int, int]:
        """How often `topic_id` answered in the last `days` (in one place, or every place), and its 👍 and 👎."""
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
        where = "q.match_id = ? AND q.answered = 1 AND q.asked_at >= ?" + (" AND q.place = ?" if place is not None else "")
        params = (topic_id, since, *((place,) if place is not None else ()))

        async def work(db: aiosqlite.Connection) -> tuple[int, int, int]:
            answered = await _scalar(db, f"SELECT COUNT(*) FROM questions q WHERE {where}", params)  # noqa: S608 - fixed text
            up, down = await (await db.execute(
                f"""SELECT COALESCE(SUM(f.helpful = 1), 0), COALESCE(SUM(f.helpful = 0), 0) FROM feedback f
                    JOIN questions q ON q.id = f.question_id WHERE {where}""", params)).fetchone()  # noqa: S608
            return int(answered), int(up), int(down)

        return await self._read(work)

    # --- retention and the member's own data -----------------------------------------------------

    async def retention_clock(self) -> datetime:
        reference = self.sweep_reference()

        async def work(db: aiosqlite.Connection) -> datetime:
            top = await _scalar(db, "SELECT COALESCE(MAX(id), 0) FROM questions")
            await db.execute("INSERT INTO sweeps (reference, max_question_id) VALUES (?, ?)",
                             (reference.isoformat(timespec="seconds"), top))
            await db.execute("DELETE FROM sweeps WHERE id <= (SELECT MAX(id) FROM sweeps) - 2000")
            return reference

        return await self._write(work)

    async def purge(self, place: str, older_than_days: float, *, reference: datetime | None = None) -> int:
        cutoff, future = await self._purge_window(older_than_days, reference)

        async def work(db: aiosqlite.Connection) -> int:
            seen = await _scalar(db, "SELECT COALESCE(MAX(max_question_id), 0) FROM sweeps WHERE reference < ?", (cutoff,))
            removed = 0
            for sql, params in (("DELETE FROM feedback WHERE question_id IN (SELECT id FROM questions WHERE place = ? "
                                 "AND (asked_at < ? OR id <= ?))", (place, cutoff, seen)),
                                ("DELETE FROM questions WHERE place = ? AND (asked_at < ? OR id <= ?)", (place, cutoff, seen)),
                                ("DELETE FROM context WHERE place = ? AND (updated_at < ? OR updated_at > ?)",
                                 (place, cutoff, future))):
                removed += max((await db.execute(sql, params)).rowcount, 0)
            return removed

        removed = await self._write(work)
        if removed:
            await self.checkpoint()
        return removed

    async def places(self) -> set[str]:
        """Every place that has questions or context stored (for the retention sweep)."""
        rows = await self._read(lambda db: db.execute_fetchall("SELECT place FROM questions UNION SELECT place FROM context"))
        return {r[0] for r in rows}

    async def my_data(self, user_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every row about `user_id`, table by table, as plain data (for /my-data)."""

        async def work(db: aiosqlite.Connection) -> dict[str, list[dict[str, Any]]]:
            out: dict[str, list[dict[str, Any]]] = {}
            queries = {
                "profiles": "SELECT place, background, background_stated_at, background_private FROM profiles WHERE user_id = ?",
                "progress": "SELECT place, step_id, done_at FROM progress WHERE user_id = ? ORDER BY done_at",
                "questions": "SELECT id, place, question, match_id, answered, asked_at FROM questions WHERE user_id = ? ORDER BY id",
                "feedback": "SELECT question_id, place, helpful, given_at FROM feedback WHERE user_id = ? ORDER BY question_id",
                "context": "SELECT place, channel, topic_id, updated_at FROM context WHERE user_id = ?",
            }
            for table, sql in queries.items():
                cursor = await db.execute(sql, (user_id,))
                names = [d[0] for d in cursor.description]
                out[table] = [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]
            return out

        return await self._read(work)

    async def forget(self, user_id: str, place: str | None = None) -> int:
        """Delete every row about `user_id`, in every place (or, with `place`, in that place only: its
        rows, the feedback the member gave there, and others' feedback on their questions there), in one
        transaction with a tombstone, so that others' actions on their old messages store nothing about
        them (see `record_turn`). Then VACUUM and checkpoint, so that the deleted words are in no page of
        the file either (best effort: a full disk or a long reader only delays that; the rows themselves
        are gone). Returns the rows removed."""
        where, params = ("user_id = ?", (user_id,)) if place is None else ("user_id = ? AND place = ?", (user_id, place))

        async def work(db: aiosqlite.Connection) -> int:
            removed = 0
            for sql in (
                f"DELETE FROM feedback WHERE {where}",  # noqa: S608 - fixed text
                f"DELETE FROM feedback WHERE question_id IN (SELECT id FROM questions WHERE {where})",  # noqa: S608
                f"DELETE FROM questions WHERE {where}",  # noqa: S608
                f"DELETE FROM progress WHERE {where}",  # noqa: S608
                f"DELETE FROM profiles WHERE {where}",  # noqa: S608
                f"DELETE FROM context WHERE {where}",  # noqa: S608
            ):
                removed += max((await db.execute(sql, params)).rowcount, 0)
            await db.execute("INSERT INTO forgotten (member, place, at) VALUES (?, ?, ?) ON CONFLICT (member, place) "
                             "DO UPDATE SET at = excluded.at", (member_hash(user_id), place or "*", now()))
            return removed

        removed = await self._write(work)
        await self.scrub()
        return removed

    async def scrub(self) -> bool:
        """Rewrite the file without its free space (VACUUM), then checkpoint: deleted rows leave no
        trace in any page. False when that could not be done now (it is retried by the next forget)."""
        async with self._lock:
            try:
                # Another writer (a second process) gets a second at most: then this waits for the next forget.
                await self.db.execute_fetchall(f"PRAGMA busy_timeout = {int(min(self.busy_timeout, SCRUB_WAIT) * 1000)}")
                try:
                    await self.db.execute("VACUUM")
                finally:
                    await self.db.execute_fetchall(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                return await self._checkpoint(self.db)
            except (sqlite3.Error, ValueError) as exc:
                log.warning("could not compact %s after deleting: %s", self.path, exc)
                self._checkpoint_pending = True
                return False

    async def forgotten(self, user_id: str, place: str | None = None) -> bool:
        return await self._read(lambda db: _on_thread(db, lambda conn: _is_forgotten(conn, user_id, place)))

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and empty it, without waiting for anyone; False when a
        reader still needed part of it (a later write, or the last connection's close, finishes)."""
        async with self._lock:
            try:
                return await self._checkpoint(self.db)
            except sqlite3.Error as exc:
                raise self._failed(exc) from None
            except ValueError as exc:
                raise StorageError(f"{self.path} is not open ({exc})", "closed") from None

    async def _checkpoint(self, db: aiosqlite.Connection) -> bool:
        return await _on_thread(db, self._checkpoint_on)

    def _checkpoint_on(self, conn: sqlite3.Connection) -> bool:
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        done = not busy and frames == copied
        if done and frames > 0:  # all copied and nobody reading: empty the WAL, but never wait for it
            conn.execute("PRAGMA busy_timeout = 0")
            try:
                done = not conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        self._checkpoint_pending = not done
        return done

    async def rows_about(self, user_id: str) -> int:
        """How many rows in all tables mention `user_id`: what /forget-me must bring to zero."""

        async def work(db: aiosqlite.Connection) -> int:
            total = 0
            for table in MEMBER_TABLES:
                total += await _scalar(db, f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608 - fixed names
            return total

        return await self._read(work)

    async def dump(self, table: str) -> tuple[list[str], list[tuple[Any, ...]], int]:
        """Every row of one of COPIED_TABLES as it is (for `db copy`): column names, rows, and the highest
        id ever given in it (0 for tables without ids), so the copy never reuses one."""
        assert table in COPIED_TABLES

        async def work(db: aiosqlite.Connection) -> tuple[list[str], list[tuple[Any, ...]], int]:
            cursor = await db.execute(f"SELECT * FROM {table}")  # noqa: S608 - a fixed name
            names = [d[0] for d in cursor.description]
            rows = [tuple(r) for r in await cursor.fetchall()]
            floor = await _scalar(db, "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
            return names, rows, int(floor or 0)

        return await self._read(work)

    async def table_counts(self) -> dict[str, int]:
        union = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in COPIED_TABLES)  # noqa: S608 - fixed names
        return {r[0]: int(r[1]) for r in await self._read(lambda db: db.execute_fetchall(union))}

    def size_bytes(self) -> int:
        """The database file plus its WAL, for /status."""
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += Path(str(self.path) + suffix).stat().st_size
            except OSError:
                pass
        return total


def read_kb_state(path: Path) -> tuple[int, dict[tuple[str, str], tuple[dict[str, Any], int]]]:
    """`kb_state` from a database file opened read-only, changing nothing (for `doctor`); none before
    schema 3. Raises sqlite3.Error when it cannot be read."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)) as db:
        if db.execute("PRAGMA user_version").fetchone()[0] < 3:
            return 0, {}
        last = db.execute("SELECT COALESCE(MAX(id), 0) FROM kb_changes").fetchone()[0]
        rows = db.execute("SELECT section, item_id, state, change_id FROM kb_overrides").fetchall()
        return int(last), {(r[0], r[1]): (json.loads(r[2]), r[3]) for r in rows}


async def _on_thread(db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """`work(conn)` on aiosqlite's thread, with its sqlite3 connection: ONE round trip however many
    statements `work` runs (each `await db.execute` is one trip, and a fetch another).

    aiosqlite (0.22) has no public call for "run this function on the connection's thread"; its
    `Connection._execute(fn)` is that call (every public method is built on it) and `_conn` its sqlite3
    connection, which refuses use from any other thread: a change in aiosqlite fails loudly here, never
    silently (test_a_question_is_two_trips_to_the_database_thread pins it). Weighed and left: one
    statement per question (SQLite has no writes in a WITH clause; a trigger on a view cannot hand back
    the question's id) and executescript (no parameters, and it commits on its own)."""
    return await db._execute(lambda: work(db._conn))


async def _scalar(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> Any:
    row = await (await db.execute(sql, tuple(params))).fetchone()
    return row[0] if row else None


async def _rollback(db: aiosqlite.Connection) -> None:
    try:
        await db.execute("ROLLBACK")
    except (sqlite3.Error, ValueError):  # no transaction left to roll back (SQLite ended it), or closed
        pass


async def _change_items(db: aiosqlite.Connection, change_id: int) -> dict[tuple[str, str], tuple[Any, Any]]:
    rows = await db.execute_fetchall(
        "SELECT section, item_id, before, after FROM kb_change_items WHERE change_id = ? ORDER BY section, item_id",
        (change_id,))
    return {(r[0], r[1]): (json.loads(r[2]) if r[2] is not None else None, json.loads(r[3]) if r[3] is not None else None)
            for r in rows}


def _json_or_none(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None


# --- queries shared by several operations (each runs inside the caller's read or transaction) ---------


def _is_forgotten(conn: sqlite3.Connection, user_id: str, place: str | None = None) -> bool:
    """A tombstone for the member everywhere ("*") or in `place` (any place when None)."""
    if place is None:
        return bool(conn.execute("SELECT COUNT(*) FROM forgotten WHERE member = ?", (member_hash(user_id),)).fetchone()[0])
    return bool(conn.execute("SELECT COUNT(*) FROM forgotten WHERE member = ? AND place IN ('*', ?)",
                             (member_hash(user_id), place)).fetchone()[0])


def _set_background(conn: sqlite3.Connection, place: str, user_id: str, background: str | None, private: bool,
                    stamp: str) -> None:
    conn.execute(
        """INSERT INTO profiles (place, user_id, background, background_stated_at, background_private, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (place, user_id) DO UPDATE SET background = excluded.background,
           background_stated_at = excluded.background_stated_at,
           background_private = excluded.background_private, updated_at = excluded.updated_at""",
        (place, user_id, background, stamp if background else None, int(private), stamp))
    conn.execute("DELETE FROM profiles WHERE place = 'legacy' AND user_id = ?", (user_id,))


def _set_context(conn: sqlite3.Connection, place: str, channel: str, user_id: str, topic_id: str | None) -> None:
    if topic_id is None:
        conn.execute("DELETE FROM context WHERE place = ? AND channel = ? AND user_id = ?", (place, channel, user_id))
    else:
        conn.execute(
            """INSERT INTO context (place, channel, user_id, topic_id, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (place, channel, user_id) DO UPDATE SET topic_id = excluded.topic_id,
               updated_at = excluded.updated_at""", (place, channel, user_id, topic_id, now()))
