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
        assert first["forgotten"] == (1, 1)  # a member forgotten before the move stays forgotten after it
    async with PostgresStorage(url) as s:
        profile = await s.profile(A, "ana")
        assert profile.background == "physics"
        assert (await s.profile("dm", "ana")).background_private
        assert await s.memory(A, "c1", "ana", timedelta(hours=1)) == (
            profile, {"learn-to-code"}, "time-to-learn")
        assert [q["question"] for q in (await s.my_data("bo"))["questions"]] == ["nul \ufffd inside"]
        assert await s.settings(A) == {"retention_days": 30}
        assert (await s.change()).files == {"entries/x.yaml": (None, "a: 1\n")}
        assert await s.forgotten("gone")
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


def test_doctor_checks_database_url_and_the_shard_settings(tmp_path: Path, pg_server: PgServer) -> None:
    from tests.test_cli import kb_env

    token = "MTEwMDAwMDAwMDAwMDAwMDAwMA.GAbcde.abcdefghijklmnopqrstuvwxyz0123456789AB"
    env = kb_env(tmp_path) | {"DISCORD_TOKEN": token, "DATABASE_URL": pg_server.create_database()}
    ok = run("doctor", env=env | {"SHARD_COUNT": "2", "SHARD_IDS": "1", "KB_EDIT_GUILD_IDS": "5"})
    assert ok.returncode == 0, ok.stdout
    assert "PostgreSQL" in ok.stdout and "shard(s) 1 of 2" in ok.stdout
    unreachable = f"postgresql://advisor:hunter22@/advisor?host={tmp_path}/none"
    bad = run("doctor", env=env | {"DATABASE_URL": unreachable})
    assert bad.returncode != 0 and "hunter22" not in bad.stdout
    assert any(line.startswith("FIX") and "DATABASE_URL" in line for line in bad.stdout.splitlines())
    alone = run("doctor", env=env | {"DATABASE_URL": "", "SHARD_COUNT": "2", "SHARD_IDS": "0"})
    assert any(line.startswith("FIX") and "set DATABASE_URL" in line for line in alone.stdout.splitlines())
    wrong = run("doctor", env=env | {"SHARD_COUNT": "2", "SHARD_IDS": "0,2"})
    assert any(line.startswith("FIX") and "SHARD_IDS" in line for line in wrong.stdout.splitlines())
