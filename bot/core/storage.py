"""Everything the advisor remembers, in one SQLite file (aiosqlite, WAL).

Tables: profiles (stated background), progress (steps marked done), questions (what was asked, the
match, its score and whether it was answered: moderators read the gaps from it) and feedback (👍/👎).
Schema changes are numbered migrations recorded in PRAGMA user_version. Every query uses ? parameters.
A file that is not a readable database raises StorageError naming it: it is never replaced.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import aiosqlite

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
)

MAX_QUESTION_CHARS = 2000


class StorageError(Exception):
    """The database cannot be used; the message names the file and says what to do."""


@dataclass(frozen=True)
class Profile:
    user_id: str
    background: str | None
    background_stated_at: str | None


@dataclass(frozen=True)
class Gap:
    question: str
    times: int
    unanswered: int
    unhelpful: int
    last_asked: str


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Storage:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None

    async def __aenter__(self) -> Storage:
        await self.open()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    async def open(self, *, verify: bool = False) -> None:
        """Open (creating the file and its folder when missing) and migrate.

        verify=True also runs SQLite's quick_check, which reads the whole file: the bot does it at
        start, a one-shot command does not.
        """
        if str(self.path) != ":memory:":
            if self.path.exists() and not self.path.is_file():
                raise StorageError(f"{self.path} is not a file; set DATABASE_PATH to a file path")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder for {self.path}: {exc.strerror or exc}") from None
        try:
            self._db = await aiosqlite.connect(self.path, timeout=10)
            await self._db.execute("PRAGMA busy_timeout = 10000")
            await self._db.execute("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._db.execute("PRAGMA foreign_keys = ON")
            if verify:
                row = await (await self._db.execute("PRAGMA quick_check")).fetchone()
                if row is None or row[0] != "ok":
                    raise sqlite3.DatabaseError(row[0] if row else "quick_check gave no answer")
            await self._migrate()
        except sqlite3.Error as exc:
            await self.close()
            raise StorageError(
                f"{self.path} is not a usable SQLite database ({exc}). It was left as it is: "
                "restore it from a backup, or move it away to start with an empty one."
            ) from None
        except BaseException:  # a refused schema version, a cancellation: never leave the connection open
            await self.close()
            raise

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            try:
                await db.close()
            except sqlite3.Error:
                pass

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("the database is not open")
        return self._db

    async def _migrate(self) -> None:
        version = (await (await self.db.execute("PRAGMA user_version")).fetchone())[0]
        if version > len(MIGRATIONS):
            raise StorageError(
                f"{self.path} was written by a newer version of MLE Advisor (schema {version}, "
                f"this one knows {len(MIGRATIONS)}); upgrade the bot"
            )
        for number in range(version, len(MIGRATIONS)):
            await self.db.executescript(f"BEGIN;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number + 1};\nCOMMIT;")

    async def schema_version(self) -> int:
        return (await (await self.db.execute("PRAGMA user_version")).fetchone())[0]

    # --- profiles -------------------------------------------------------------------------------

    async def profile(self, user_id: str) -> Profile:
        rows = await self.db.execute_fetchall(
            "SELECT background, background_stated_at FROM profiles WHERE user_id = ?", (user_id,)
        )
        row = next(iter(rows), None)
        return Profile(user_id, row[0], row[1]) if row else Profile(user_id, None, None)

    async def set_background(self, user_id: str, background: str | None) -> None:
        stamp = now()
        await self.db.execute(
            """INSERT INTO profiles (user_id, background, background_stated_at, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET background = excluded.background,
               background_stated_at = excluded.background_stated_at, updated_at = excluded.updated_at""",
            (user_id, background, stamp if background else None, stamp),
        )
        await self.db.commit()

    # --- progress -------------------------------------------------------------------------------

    async def done_steps(self, user_id: str) -> set[str]:
        rows = await self.db.execute_fetchall("SELECT step_id FROM progress WHERE user_id = ?", (user_id,))
        return {r[0] for r in rows}

    async def mark_done(self, user_id: str, step_id: str, done: bool = True) -> None:
        if done:
            await self.db.execute(
                "INSERT OR IGNORE INTO progress (user_id, step_id, done_at) VALUES (?, ?, ?)", (user_id, step_id, now())
            )
        else:
            await self.db.execute("DELETE FROM progress WHERE user_id = ? AND step_id = ?", (user_id, step_id))
        await self.db.commit()

    # --- questions and feedback -----------------------------------------------------------------

    async def log_question(self, user_id: str, question: str, match_id: str | None, score: float | None, answered: bool) -> int:
        cursor = await self.db.execute(
            "INSERT INTO questions (user_id, question, match_id, score, answered, asked_at) VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, question[:MAX_QUESTION_CHARS], match_id, score, int(answered), now()),
        )
        await self.db.commit()
        return int(cursor.lastrowid or 0)

    async def add_feedback(self, question_id: int, user_id: str, helpful: bool) -> bool:
        """Store (or change) a user's 👍/👎 on a question; False when the question is gone."""
        exists = await (await self.db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,))).fetchone()
        if not exists:
            return False
        await self.db.execute(
            """INSERT INTO feedback (question_id, user_id, helpful, given_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (question_id, user_id) DO UPDATE SET helpful = excluded.helpful, given_at = excluded.given_at""",
            (question_id, user_id, int(helpful), now()),
        )
        await self.db.commit()
        return True

    async def feedback_for(self, question_id: int) -> list[tuple[str, bool]]:
        rows = await (
            await self.db.execute("SELECT user_id, helpful FROM feedback WHERE question_id = ? ORDER BY user_id", (question_id,))
        ).fetchall()
        return [(r[0], bool(r[1])) for r in rows]

    async def gaps(self, limit: int = 15) -> list[Gap]:
        """Questions not answered or marked unhelpful, grouped by their text, most frequent first."""
        rows = await (
            await self.db.execute(
                """SELECT lower(trim(q.question)) AS text, COUNT(*) AS times,
                          SUM(q.answered = 0) AS unanswered,
                          SUM(EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0)) AS unhelpful,
                          MAX(q.asked_at) AS last_asked
                   FROM questions q
                   WHERE q.answered = 0
                      OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0)
                   GROUP BY text
                   ORDER BY times DESC, last_asked DESC
                   LIMIT ?""",
                (limit,),
            )
        ).fetchall()
        return [Gap(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    # --- privacy --------------------------------------------------------------------------------

    async def forget(self, user_id: str) -> int:
        """Delete every row about `user_id` from every table, in one transaction; the rows removed."""
        removed = 0
        await self.db.execute("BEGIN")
        try:
            for sql in (
                "DELETE FROM feedback WHERE user_id = ?",
                "DELETE FROM feedback WHERE question_id IN (SELECT id FROM questions WHERE user_id = ?)",
                "DELETE FROM questions WHERE user_id = ?",
                "DELETE FROM progress WHERE user_id = ?",
                "DELETE FROM profiles WHERE user_id = ?",
            ):
                cursor = await self.db.execute(sql, (user_id,))
                removed += max(cursor.rowcount, 0)
            await self.db.commit()
        except BaseException:
            await self.db.rollback()
            raise
        return removed

    async def rows_about(self, user_id: str) -> int:
        """How many rows in all tables mention `user_id`: what /forget-me must bring to zero."""
        total = 0
        for table in ("profiles", "progress", "questions", "feedback"):
            row = await (await self.db.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user_id,))).fetchone()  # noqa: S608 - fixed table names
            total += row[0]
        return total
