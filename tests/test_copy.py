"""Moving a server's data from the SQLite file into PostgreSQL: everything arrives, counted on both
sides, ids are never reused, and running the copy again changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.core.storage import SQLiteStorage
from bot.core.storage.postgres import PostgresStorage
from tests.pgserver import PgServer
from tests.test_cli import run

A = "111"


async def _fill(path: Path) -> int:
    async with SQLiteStorage(path) as s:
        await s.set_background(A, "ana", "physics")
        await s.set_background("dm", "ana", "software", private=True)
        await s.mark_done(A, "ana", "learn-to-code")
        ref = await s.record_turn(A, "ana", "how long?", "time-to-learn", 0.75, True, channel="c1",
                                  context_topic="time-to-learn")
        await s.add_feedback(ref, "bo", False)
        await s.log_question(A, "bo", "nul \x00 inside", None, None, False)
        gone = await s.log_question(A, "gone", "last question", None, None, False)
        await s.forget("gone")  # its id was given once and must never be given again
        await s.set_setting(A, "retention_days", 30, by="admin")
        await s.record_change("7", "mod", A, "taught a phrasing", {"entries/x.yaml": (None, "a: 1\n")})
        return gone.id


async def test_copy_moves_every_row_and_is_safe_to_rerun(tmp_path: Path, pg_server: PgServer) -> None:
    from bot.core.storage.copy import copy_into

    path = tmp_path / "advisor.db"
    last_id = await _fill(path)
    url = pg_server.create_database()
    async with SQLiteStorage(path) as source, PostgresStorage(url) as target:
        first = await copy_into(source, target)
        again = await copy_into(source, target)
        assert first == again
        assert all(had == has for had, has in first.values()), first
        assert first["questions"] == (2, 2) and first["kb_changes"] == (1, 1)
    async with PostgresStorage(url) as s:
        profile = await s.profile(A, "ana")
        assert profile.background == "physics"
        assert (await s.profile("dm", "ana")).background_private
        assert await s.memory(A, "c1", "ana", timedelta(hours=1)) == (
            profile, {"learn-to-code"}, "time-to-learn")
        assert [q["question"] for q in (await s.my_data("bo"))["questions"]] == ["nul \ufffd inside"]
        assert await s.settings(A) == {"retention_days": 30}
        assert (await s.change()).files == {"entries/x.yaml": (None, "a: 1\n")}
        new = await s.log_question(A, "new", "q", None, None, False)
        assert new.id > last_id


def test_db_copy_command_reports_counts_and_hides_the_password(tmp_path: Path, pg_server: PgServer) -> None:
    path = tmp_path / "advisor.db"
    asyncio.run(_fill(path))
    url = pg_server.create_database().replace("postgres@", "postgres:pa55word@")  # trust auth ignores it
    for _ in range(2):
        result = run("db", "copy", "--to", url, "--db", str(path))
        assert result.returncode == 0, result.stderr
        assert "questions" in result.stdout and "safe to run again" in result.stdout
        assert "pa55word" not in result.stdout + result.stderr
    refused = run("db", "copy", "--db", str(path), env={"DATABASE_URL": ""})
    assert refused.returncode != 0 and "--to postgresql://" in refused.stderr
