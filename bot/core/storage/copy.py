"""`mle-advisor db copy`: move a server's data from the SQLite file into PostgreSQL.

Table by table, in one transaction each, rows whose key is already in the target are skipped, so the
copy can be run again (after an interruption, or to pick up rows written since) without doubling
anything. Ids keep their numbers and the target's sequences move past the highest id the SQLite file
ever gave, so no id is ever reused. Afterwards every table is counted on both sides.
"""

from __future__ import annotations

from bot.core.storage.base import COPIED_TABLES
from bot.core.storage.postgres import PostgresStorage
from bot.core.storage.sqlite import SQLiteStorage

# Parents before children: feedback refers to questions, kb_change_items to kb_changes. The tombstones go
# too: a member forgotten before the move stays forgotten after it.
ORDER = ("profiles", "progress", "questions", "feedback", "context", "settings", "kb_changes", "kb_change_items",
         "kb_overrides", "kb_meta", "forgotten")
assert set(ORDER) == set(COPIED_TABLES)


async def copy_into(source: SQLiteStorage, target: PostgresStorage) -> dict[str, tuple[int, int]]:
    """Copy every table; per table (rows in the source, rows in the target afterwards)."""
    for table in ORDER:
        names, rows, floor = await source.dump(table)
        await target.load(table, names, rows, floor)
    before, after = await source.table_counts(), await target.table_counts()
    return {table: (before[table], after[table]) for table in ORDER}
