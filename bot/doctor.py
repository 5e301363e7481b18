"""`mle-advisor doctor`: check a setup before the first start and say what to fix, one line each.

Nothing is changed: the database is opened read-only, folders are tested for write permission without
writing, and the token is only checked for its shape (Discord itself is not contacted).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.core.knowledge import KnowledgeError
from bot.core.overrides import Override, Shipped, from_rows, load_with, moved_upstream
from bot.core.storage import MIGRATIONS, OUR_TABLES, read_kb_state
from bot.settings import ENV_ENCODING, Settings

Check = tuple[bool, str]


def _writable_folder(folder: Path) -> Path | None:
    """The folder itself if it exists, else its nearest existing parent, when the bot may write there."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK) else None


def _token(settings: Settings) -> Check:
    if not settings.token:
        return False, ("DISCORD_TOKEN is not set: in the Developer Portal, your application → Bot → Reset Token, "
                       "then put it in .env (see .env.example)")
    if not settings.token_looks_right:
        return False, ("DISCORD_TOKEN does not look like a bot token (three parts separated by dots): copy it again "
                       "from the Developer Portal (Bot → Reset Token)")
    return True, "DISCORD_TOKEN is set and shaped like a bot token (Discord checks it at start)"


def _database(path: Path) -> Check:
    if path.is_dir():
        return False, f"DATABASE_PATH {path} is a folder: set it to a file path, like data/advisor.db"
    if path.exists() and not path.is_file():
        return False, f"DATABASE_PATH {path} is not a regular file (a device or a pipe): set it to a file path, like data/advisor.db"
    if not path.exists():
        if _writable_folder(path.parent) is None:
            return False, f"DATABASE_PATH {path}: the bot cannot create its folder or write there; fix the permissions"
        return True, f"database {path} will be created at the first start"
    if not os.access(path, os.R_OK | os.W_OK) or _writable_folder(path.parent) is None:
        return False, f"database {path} (or its folder) is not writable by this user: fix the permissions"
    try:
        # As a URI, so that "?" or "#" in the file's name are part of the name (quoted), not options.
        with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=2)) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            check = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        return False, f"database {path} cannot be read ({exc}): restore it from a backup or move it away"
    if version == 0 and tables - OUR_TABLES:
        return False, f"database {path} belongs to another program: set DATABASE_PATH to a new file"
    if version > len(MIGRATIONS):
        return False, f"database {path} was written by a newer MLE Advisor (schema {version}): upgrade the bot"
    if check != "ok":
        return False, f"database {path} is damaged ({check}): restore it from a backup"
    return True, f"database {path} is readable and writable (schema {version})"


def _postgres(url: str) -> Check:
    """Connect (5 s at most), and read without writing whether the database is ours and not newer."""
    import asyncio

    import asyncpg

    from bot.core.storage.postgres import MIGRATIONS as PG_MIGRATIONS
    from bot.core.storage.postgres import OUR_TABLES as PG_TABLES
    from bot.core.storage.postgres import SCHEMA_TABLE, PostgresStorage

    store = PostgresStorage(url)

    async def look() -> tuple[int, set[str]]:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            tables = {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
            version = (await conn.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {SCHEMA_TABLE}")  # noqa: S608
                       if SCHEMA_TABLE in tables else 0)
            return int(version), tables
        finally:
            await conn.close()

    try:
        version, tables = asyncio.run(look())
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError, ValueError) as exc:
        return False, f"DATABASE_URL: {store.error(exc)}"
    if version == 0 and tables - PG_TABLES:
        return False, f"DATABASE_URL {store.where} holds another program's tables: give the bot a database of its own"
    if version > len(PG_MIGRATIONS):
        return False, f"DATABASE_URL {store.where} was written by a newer MLE Advisor (schema {version}): upgrade the bot"
    state = f"schema {version}" if version else "empty: the bot creates its tables at the first start"
    return True, f"PostgreSQL {store.where} answers ({state})"


def _shards(settings: Settings) -> list[Check]:
    if not settings.sharded:
        return []
    mine = ",".join(map(str, settings.my_shards))
    checks: list[Check] = [(True, f"this process serves shard(s) {mine} of {settings.shard_count}")]
    if len(settings.my_shards) < (settings.shard_count or 1) and not settings.database_url:
        checks.append((False, "SHARD_IDS leaves shards to other processes, but they can only share a PostgreSQL "
                              "database: set DATABASE_URL (see README, running on several machines)"))
    if not settings.kb_edit_guild_ids:
        checks.append((True, "note: sharded, the knowledge can be edited from Discord only in the servers "
                             "KB_EDIT_GUILD_IDS lists (none now)"))
    return checks


def _knowledge(settings: Settings) -> list[Check]:
    try:
        kb, moved = _with_edits(settings)
    except OSError as exc:  # a folder like /proc, whose files come and go, or one this user can't read
        return [(False, f"KNOWLEDGE_DIR {settings.knowledge_dir} cannot be read ({exc.strerror or exc}): set it to the "
                        "folder of the knowledge YAML files")]
    except KnowledgeError as exc:
        shown = [(False, f"knowledge: {p}") for p in exc.problems[:5]]
        if len(exc.problems) > 5:
            shown.append((False, f"knowledge: …and {len(exc.problems) - 5} more (mle-advisor kb check)"))
        return shown
    counts = ", ".join(f"{n} {k}" for k, n in kb.counts().items())
    edited = sum(1 for o in kb.overrides.values() if o.body is not None)
    where = ("the moderators' edits in PostgreSQL are not read here: `mle-advisor kb check` checks with them"
             if settings.database_url else f"{edited} item(s) edited by moderators")
    checks = [(True, f"knowledge in {settings.knowledge_dir} is valid ({counts}; {where})")]
    if moved:
        names = ", ".join(o.item_id for o in moved[:5]) + ("…" if len(moved) > 5 else "")
        checks.append((True, f"note: {len(moved)} edited item(s) changed upstream since they were edited ({names}): "
                             "the edit is what members get; `mle-advisor kb diff` shows what upstream changed"))
    folder = settings.edits_dir()
    if folder.is_dir() and any(folder.rglob("*.y*ml")):
        checks.append((True, f"note: the edits folder {folder} of an older version moves into the database at the next start"))
    return checks


def _with_edits(settings: Settings) -> tuple[Any, list[Override]]:
    """The knowledge with the moderators' edits from the database (read-only, when it exists and reads),
    and the edited items whose shipped version moved since they were edited."""
    path = settings.database_path
    if settings.database_url:  # doctor changes nothing, and opening PostgreSQL would migrate it: shipped only
        return load_with(settings.knowledge_dir, {}), []
    try:
        change_id, rows = read_kb_state(path) if path.is_file() else (0, {})
    except (sqlite3.Error, ValueError):  # the database check says what is wrong with it
        change_id, rows = 0, {}
    overrides = from_rows(rows)
    shipped = Shipped(settings.knowledge_dir)
    kb = load_with(settings.knowledge_dir, overrides, change_id=change_id, shipped=shipped)
    return kb, [override for override, _now in moved_upstream(shipped, overrides)]


def _files_and_settings(settings: Settings, env: Mapping[str, str]) -> list[Check]:
    checks: list[Check] = []
    if settings.log_file is not None and _writable_folder(settings.log_file.parent) is None:
        checks.append((False, f"LOG_FILE {settings.log_file}: its folder is not writable"))
    if env.get("MODERATOR_ROLE") and not settings.moderator_role_id:
        checks.append((False, "MODERATOR_ROLE is no longer read (roles are matched by id): set MODERATOR_ROLE_ID to the "
                              "role's id (Discord: Developer Mode on, right-click the role → Copy Role ID)"))
    if settings.dev_guild_id and settings.kb_edit_guild_ids and settings.dev_guild_id not in settings.kb_edit_guild_ids:
        checks.append((True, "note: DEV_GUILD_ID is not in KB_EDIT_GUILD_IDS, so knowledge can't be edited from that server"))
    if settings.answer_channel_ids:
        checks.append((True, "note: ANSWER_CHANNEL_IDS needs the Message Content intent (Developer Portal → Bot)"))
    return checks


def checkup(settings: Settings, env: Mapping[str, str] | None = None, files: Sequence[Path] = ()) -> list[Check]:
    """Every check, in order; (ok, line). `files`: the .env files the settings were read from."""
    merged = dict(_dotenv(files))
    merged.update(env or {})
    database = (_postgres(settings.database_url.get_secret_value()) if settings.database_url
                else _database(settings.database_path))
    return [_token(settings), database, *_shards(settings), *_knowledge(settings),
            *_files_and_settings(settings, merged)]


def _dotenv(files: Sequence[Path]) -> dict[str, str]:
    from dotenv import dotenv_values  # pydantic-settings' own dependency

    values: dict[str, str] = {}
    for file in files:
        try:
            values.update({k: v for k, v in dotenv_values(file, encoding=ENV_ENCODING).items() if v is not None})
        except (OSError, UnicodeDecodeError):
            continue
    return values
