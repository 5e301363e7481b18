"""Storage: one interface (`Store`), two backends.

SQLite (`SQLiteStorage`, one file, the embedded default) and PostgreSQL (asyncpg pool, chosen by
DATABASE_URL). Nothing outside this package writes SQL.
"""

from pathlib import Path

from bot.core.storage.base import (
    DM,
    LEGACY,
    LOCAL,
    MAX_QUESTION_CHARS,
    MEMBER_TABLES,
    Change,
    Gap,
    Heartbeat,
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

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(where: str | Path | None) -> bool:
    return isinstance(where, str) and where.startswith(POSTGRES_SCHEMES)


def store_for(where: str | Path) -> Store:
    """The backend for a place to keep data: a postgresql:// URL, or a SQLite file path."""
    if is_postgres_url(where):
        from bot.core.storage.postgres import PostgresStorage  # asyncpg is imported only when it is used

        return PostgresStorage(str(where))
    return SQLiteStorage(where)

__all__ = ["DM", "LEGACY", "LOCAL", "MAX_QUESTION_CHARS", "MEMBER_TABLES", "MIGRATIONS", "OUR_TABLES", "Change",
           "Gap", "Heartbeat", "KbConflict", "Profile", "QuestionRef", "SQLiteStorage", "Storage", "StorageError", "Store",
           "Usage", "is_postgres_url", "now", "question_token", "read_kb_state", "store_for"]
