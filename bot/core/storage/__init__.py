"""Storage: one interface (`Store`), two backends.

SQLite (`SQLiteStorage`, one file, the embedded default) and PostgreSQL (asyncpg pool, chosen by
DATABASE_URL). Nothing outside this package writes SQL.
"""

from bot.core.storage.base import (
    DM,
    LEGACY,
    LOCAL,
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
    now,
    question_token,
)
from bot.core.storage.sqlite import MIGRATIONS, OUR_TABLES, SQLiteStorage, read_kb_state

Storage = SQLiteStorage
"""The embedded default backend, under the name the rest of the code has always used."""

__all__ = ["DM", "LEGACY", "LOCAL", "MAX_QUESTION_CHARS", "MEMBER_TABLES", "MIGRATIONS", "OUR_TABLES", "Change",
           "Gap", "KbConflict", "Profile", "QuestionRef", "SQLiteStorage", "Storage", "StorageError", "Store", "Usage", "now",
           "question_token", "read_kb_state"]
