"""The bot split by shard (issue 18), over the wire: the emulator routes each server's events to its
shard and DMs to shard 0, and the processes share one PostgreSQL.

The big test runs two real bot processes (shards 0 and 1 of 2), each with its own edits folder as if
on its own machine, against one emulator and one PostgreSQL server started here (fsync on: a process
is killed in it)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.core.storage.postgres import PostgresStorage
from bot.discord.app import make_bot
from tests.conftest import ROOT
from tests.e2e.conftest import bot_settings, shut
from tests.e2e.emulator import DiscordEmulator, Outcome
from tests.pgserver import PgServer, why_no_postgres

pytestmark = pytest.mark.e2e


def _answered_by_the_kb(outcome: Outcome) -> bool:
    return bool(outcome.text) and "Only" not in outcome.text


async def test_one_process_serving_both_shards_answers_both_servers(emulator_pair, tmp_path: Path, kb_copy: Path) -> None:
    emulator = emulator_pair
    settings = bot_settings(emulator, tmp_path, kb_copy, shard_count=2)
    bot = make_bot(settings, guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start("emulated-token"))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        assert sorted(shard for _, shard in emulator.identifies) == [0, 1]
        assert emulator.shard_of(emulator.guild_id) != emulator.shard_of(emulator.other_guild_id)
        assert {g.id for g in bot.guilds} == {int(emulator.guild_id), int(emulator.other_guild_id)}
        for guild in (emulator.guild_id, emulator.other_guild_id):
            assert "Full Stack" in (await emulator.slash("ask", guild=guild, question="what is mlops?")).text
        assert (await emulator.slash("ask", dm=True, question="what is mlops?")).text
    finally:
        await shut(bot, task)


async def test_a_mismatched_shard_count_is_refused(emulator_pair, tmp_path: Path, kb_copy: Path) -> None:
    emulator = emulator_pair
    bot = make_bot(bot_settings(emulator, tmp_path, kb_copy, shard_count=3), guild_ready_timeout=0.05)
    with pytest.raises(Exception):  # noqa: B017 - discord.py's ConnectionClosed (4010) ends the start
        await asyncio.wait_for(bot.start("emulated-token"), 30)
    await bot.close()
    assert emulator.refused_identifies and all(count == 3 for _, count in emulator.refused_identifies)
    assert emulator.identifies == []  # no shard was served


@pytest.fixture
async def emulator_pair(monkeypatch: pytest.MonkeyPatch):
    from tests.e2e.conftest import point_discord_at

    emu = DiscordEmulator(shard_count=2)
    await emu.start()
    point_discord_at(emu, monkeypatch)
    yield emu
    await emu.stop()


# --- two processes, one PostgreSQL ----------------------------------------------------------------------


class BotProcess:
    def __init__(self, emulator: DiscordEmulator, url: str, shard: int, folder: Path, kb: Path) -> None:
        self.shard, self.folder = shard, folder
        self.log = folder / "stderr.log"
        self.env = {**os.environ, "DISCORD_TOKEN": "emulated-token", "DATABASE_URL": url, "SHARD_COUNT": "2",
                    "SHARD_IDS": str(shard), "KNOWLEDGE_DIR": str(kb), "KNOWLEDGE_EDITS_DIR": str(folder / "edits"),
                    "DATABASE_PATH": str(folder / "unused.db"), "DEV_GUILD_ID": emulator.guild_id,
                    "MODERATOR_ROLE_ID": emulator.moderator_role,
                    "KB_EDIT_GUILD_IDS": f"{emulator.guild_id},{emulator.other_guild_id}",
                    "KB_WATCH_SECONDS": "0", "QUESTION_RATE": "1000", "LOG_LEVEL": "INFO"}
        self.args = [sys.executable, "-m", "tests.e2e.run_bot_against", emulator.api_base, emulator.gateway_url]
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.folder.mkdir(exist_ok=True)
        handle = open(self.log, "ab")
        self.process = await asyncio.create_subprocess_exec(*self.args, cwd=ROOT, env=self.env, stdout=handle,
                                                            stderr=handle)
        handle.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def _until(check, within: float, step: float = 0.1):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(step)


@pytest.fixture
def pg_durable():
    """A PostgreSQL of this test's own with fsync on: a process gets killed here."""
    reason = why_no_postgres()
    if reason:
        pytest.skip(reason)
    server = PgServer(fsync=True).start()
    yield server
    server.stop()


async def test_two_processes_split_by_shard_share_one_postgres(pg_durable: PgServer, tmp_path: Path, kb_copy: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_durable.create_database("advisor")
    emulator = DiscordEmulator(shard_count=2)
    await emulator.start()
    by_shard = {emulator.shard_of(g): g for g in (emulator.guild_id, emulator.other_guild_id)}
    assert set(by_shard) == {0, 1}
    # Old rows in both servers, for the retention sweep each process runs at start.
    async with PostgresStorage(url) as store:
        for guild in by_shard.values():
            for n in range(3):
                await store.log_question(guild, "old-member", f"old question {n}", None, None, False)
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat(timespec="seconds")
    conn = await asyncpg.connect(url)
    await conn.execute("UPDATE questions SET asked_at = $1", old)

    processes = [BotProcess(emulator, url, shard, tmp_path / f"machine{shard}", kb_copy) for shard in (0, 1)]
    try:
        await asyncio.gather(*(p.start() for p in processes))
        assert await _until(lambda: _both_identified(emulator), 60), [p.text() for p in processes]
        first, second = sorted(t for t, _ in emulator.identifies)[:2]
        assert second - first >= 5.0  # one max_concurrency bucket: 5 s apart as they arrive, booked through the database
        # Only the process serving the dev server's shard synced its commands.
        assert len(emulator.requests_to("PUT", f"/guilds/{emulator.guild_id}/commands")) == 1

        # Members of both servers are answered, each by its own shard; a DM goes to shard 0.
        for guild in by_shard.values():
            reply = await _until(lambda g=guild: emulator.slash("ask", guild=g, question="what is mlops?"), 30)
            assert "Full Stack" in reply.text
        mine = await emulator.slash("my-data", dm=True)
        data = json.loads(mine.files["mle-advisor-my-data.json"])
        assert {q["place"] for q in data["questions"]} == set(by_shard.values())

        # Retention ran in both processes at start; each old row was deleted once, each place claimed once.
        async def swept() -> bool:
            return await conn.fetchval("SELECT COUNT(*) FROM questions WHERE user_id = 'old-member'") == 0
        assert await _until(swept, 30)
        claims = await conn.fetch("SELECT key FROM job_claims WHERE job = 'retention'")
        assert len(claims) == len({r[0] for r in claims}) >= 2
        assert sum(int(line.split("deleted ")[1].split()[0]) for p in processes for line in p.text().splitlines()
                   if "retention: deleted" in line) == 6

        # A moderator's edit in the shard-1 server is answered in the shard-0 server.
        editor_guild, other_guild = by_shard[1], by_shard[0]
        editor = emulator.moderator if editor_guild == emulator.guild_id else emulator.other_admin
        rival = emulator.moderator if other_guild == emulator.guild_id else emulator.other_admin
        form = await emulator.slash("kb add", user=editor, guild=editor_guild)
        saved = await emulator.submit(form, {"Title": "Study groups", "How people ask": "is there a study group for ml",
                                             "Answer": "Ask in this server's study channel; learning with others helps."},
                                      user=editor, guild=editor_guild)
        assert "Saved" in saved.all_text, saved.all_text
        saved_at = time.monotonic()

        async def taught() -> bool:
            reply = await emulator.slash("ask", guild=other_guild, question="is there a study group for ml?")
            return reply.text.startswith("Study groups")
        assert await _until(taught, 15)
        print(f"edit on shard 1 answered on shard 0 after {time.monotonic() - saved_at:.2f} s")

        # Two moderators on different shards edit the same entry: the second is told it changed meanwhile.
        one = await emulator.slash("kb edit", user=editor, guild=editor_guild, topic="git-basics")
        two = await emulator.slash("kb edit", user=rival, guild=other_guild, topic="git-basics")
        assert "Saved" in (await emulator.submit(one, {"Answer": "First moderator's answer about git."},
                                                 user=editor, guild=editor_guild)).all_text
        late = await emulator.submit(two, {"Answer": "Second moderator's answer about git."}, user=rival,
                                     guild=other_guild)
        assert "meanwhile" in late.all_text, late.all_text

        # /status shows both processes.
        status = await emulator.slash("status", user=emulator.owner, guild=emulator.guild_id)
        assert "Processes** (2" in status.text, status.text

        # Acknowledged writes on shard 1, then kill -9 of its process: all stored; shard 0 keeps answering.
        acknowledged = 0
        for n in range(5):
            reply = await emulator.slash("ask", guild=by_shard[1], user=emulator.member, question=f"what is mlops? {n}")
            acknowledged += bool(reply.text)
        await processes[1].stop(signal.SIGKILL)
        stored = await conn.fetchval("SELECT COUNT(*) FROM questions WHERE place = $1 AND question LIKE 'what is mlops? %'",
                                     by_shard[1])
        assert stored == acknowledged == 5
        assert "Full Stack" in (await emulator.slash("ask", guild=by_shard[0], question="what is mlops?")).text

        # The restarted process resumes its shard (after its identify slot).
        count = len(emulator.identifies)
        await processes[1].start()
        assert await _until(lambda: _identified_more(emulator, count), 60), processes[1].text()
        reply = await _until(lambda: emulator.slash("ask", guild=by_shard[1], question="what is mlops?"), 30)
        assert "Full Stack" in reply.text
        for p in processes:
            assert "Traceback" not in p.text() or "Failed to connect" in p.text(), p.text()[-3000:]
    finally:
        await asyncio.gather(*(p.stop() for p in processes))
        await conn.close()
        await emulator.stop()


async def _both_identified(emulator: DiscordEmulator) -> bool:
    return {shard for _, shard in emulator.identifies} == {0, 1}


async def _identified_more(emulator: DiscordEmulator, count: int) -> bool:
    return len(emulator.identifies) > count


async def test_sharded_editing_from_discord_needs_the_explicit_list(tmp_path: Path, kb_copy: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Unsharded, a bot in one server lets that server edit (test_moderators); sharded, no process sees
    every server, so even a bot in one server needs KB_EDIT_GUILD_IDS."""
    from tests.e2e.conftest import point_discord_at

    emulator = DiscordEmulator(servers=1, shard_count=2)
    await emulator.start()
    point_discord_at(emulator, monkeypatch)
    bot = make_bot(bot_settings(emulator, tmp_path, kb_copy, shard_count=2, kb_edit_guild_ids=[]),
                   guild_ready_timeout=0.05)
    task = asyncio.create_task(bot.start("emulated-token"))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        assert len(bot.guilds) == 1
        refused = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
        assert refused.modal is None and "KB_EDIT_GUILD_IDS" in refused.text
    finally:
        await shut(bot, task)
        await emulator.stop()
