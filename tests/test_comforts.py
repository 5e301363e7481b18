"""Comforts without Discord: the question allowance, per-server settings saved whole, /my-data's file within
an upload limit, forgetting one place, grouped gaps."""

from __future__ import annotations

import base64
import gzip
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.core import gaps, mydata
from bot.core.advisor import Advisor
from bot.core.config import ConfigError, ServerConfig, ServerSettings
from bot.core.health import Incidents
from bot.core.place import Place
from bot.core.ratelimit import AUTOCOMPLETE, FREE, RateLimiter
from bot.core.storage import SQLiteStorage, Storage, StorageError, Store, store_for
from bot.discord.alerts import Alerts
from tests.test_cli import kb_env, run


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_allowance_is_a_burst_that_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert all(limiter.retry_after("g", "u", 10, 60) == 0 for _ in range(10))  # a burst of 10
    wait = limiter.retry_after("g", "u", 10, 60)
    assert 0 < wait <= 6  # one question comes back every 6 s
    clock.now += 6
    assert limiter.retry_after("g", "u", 10, 60) == 0
    assert limiter.retry_after("g", "u", 10, 60) > 0
    assert limiter.retry_after("g", "other", 10, 60) == 0  # per member
    assert limiter.retry_after("other-server", "u", 10, 60) == 0  # and per place


def test_small_talk_is_free_but_a_flood_of_it_is_not() -> None:
    limiter = RateLimiter(Clock())
    for _ in range(10):
        limiter.retry_after("g", "u", 10, 60)
    assert limiter.retry_after("g", "u", 10, 60) > 0
    free = [limiter.retry_after("g", "u", 10, 60, FREE) for _ in range(100)]
    assert free[:30] == [0.0] * 30 and all(w > 0 for w in free[30:])  # thanks are free, endless thanks are not


def test_typing_costs_a_fraction_and_refusals_are_told_once() -> None:
    limiter = RateLimiter(Clock())
    assert all(limiter.retry_after("g", "u", 10, 60, AUTOCOMPLETE) == 0 for _ in range(100))  # 100 keystrokes
    assert all(limiter.retry_after("g", "u", 10, 60) == 0 for _ in range(5))  # still 5 questions left
    assert limiter.retry_after("g", "u", 10, 60) > 0
    assert limiter.first_refusal("g", "u") and not limiter.first_refusal("g", "u")


@pytest.fixture
async def store(database: str) -> AsyncIterator[Store]:
    """A fresh store on each backend (SQLite, and PostgreSQL where its binaries are installed)."""
    async with store_for(database) as s:
        yield s


async def _sql(store: Store, statement: str) -> None:
    """Run raw SQL on either backend (to make a write fail on purpose)."""
    if isinstance(store, SQLiteStorage):
        await store.db.execute(statement)
    else:
        async with store.pool.acquire() as conn:  # type: ignore[attr-defined]
            await conn.execute(statement)


async def test_settings_change_all_or_nothing(store: Store) -> None:
    storage = store
    servers = ServerSettings(ServerConfig(), storage)
    with pytest.raises(ConfigError):
        await servers.set_many("1", {"question_rate": 3, "question_per": 0})  # the second value is invalid
    with pytest.raises(ConfigError):
        await servers.set_many("1", {"question_rate": 3, "question_per": "soon"})
    assert await storage.settings("1") == {} and servers.get("1") == ServerConfig()
    if isinstance(storage, SQLiteStorage):  # the second write fails, as on a full disk
        await _sql(storage, """CREATE TRIGGER fail_per BEFORE INSERT ON settings WHEN NEW.key = 'question_per'
                               BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END""")
    else:
        await _sql(storage, """CREATE FUNCTION fail_per() RETURNS trigger AS $$ BEGIN
                                 IF NEW.key = 'question_per' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW;
                               END $$ LANGUAGE plpgsql;
                               CREATE TRIGGER fail_per BEFORE INSERT ON settings FOR EACH ROW EXECUTE FUNCTION fail_per()""")
    with pytest.raises(StorageError):
        await servers.set_many("1", {"question_rate": 3, "question_per": 30})
    assert await storage.settings("1") == {} and servers.get("1") == ServerConfig()
    await _sql(storage, "DROP TRIGGER fail_per" + ("" if isinstance(storage, SQLiteStorage) else " ON settings"))
    config = await servers.set_many("1", {"question_rate": 3, "question_per": 30})
    assert (config.question_rate, config.question_per) == (3, 30.0)



async def test_a_servers_settings_apply_at_once_though_they_are_kept_between_interactions(store: Store) -> None:
    servers = ServerSettings(ServerConfig(question_rate=10), store)
    assert servers.get(1).question_rate == 10 and servers.get("1") is servers.get(1)  # built once, read many times
    await servers.set(1, "question_rate", 3)
    assert servers.get(1).question_rate == 3 and servers.get(2).question_rate == 10  # this server only, at once
    await servers.set("1", "answer_channel_ids", [5, 6])
    assert servers.get(1).answer_channel_ids == frozenset({5, 6}) and servers.get(1).question_rate == 3
    await servers.set(1, "question_rate", None)  # back to the default
    assert servers.get(1).question_rate == 10
    await store.set_settings("2", {"question_rate": 4})  # written by another process (or before a restart)
    assert servers.get(2).question_rate == 10
    await servers.load()  # read again at start
    assert servers.get(2).question_rate == 4 and servers.get(1).answer_channel_ids == frozenset({5, 6})

def _member_data(questions: int, text: str) -> dict:
    return {"user_id": "1", "profiles": [], "progress": [], "feedback": [], "context": [],
            "questions": [{"id": n, "place": "1", "question": f"{n} {text}", "asked_at": "2026"} for n in range(questions)]}


def test_my_data_is_plain_json_when_it_fits() -> None:
    packed = mydata.pack(_member_data(3, "what is mlops?"))
    assert packed.filename.endswith(".json") and not packed.note
    assert len(json.loads(packed.content)["questions"]) == 3


def test_a_heavy_members_data_is_compressed_whole() -> None:
    data = _member_data(12_000, "how do I become an ML engineer " * 60)
    packed = mydata.pack(data)
    assert packed.filename.endswith(".json.gz") and len(packed.content) <= mydata.DEFAULT_LIMIT
    assert len(json.loads(gzip.decompress(packed.content))["questions"]) == 12_000 and "compressed" in packed.note


def test_data_too_big_even_compressed_keeps_the_most_recent_and_says_so() -> None:
    rng = random.Random(7)  # text that hardly compresses
    data = {"user_id": "1", "profiles": [{"place": "1", "background": "physics"}], "progress": [], "feedback": [],
            "context": [], "questions": [{"id": n, "question": base64.b64encode(rng.randbytes(1100)).decode()}
                                         for n in range(2_000)]}
    limit = 256 * 1024
    packed = mydata.pack(data, limit)
    assert len(packed.content) <= limit and "most recent" in packed.note
    shown = json.loads(gzip.decompress(packed.content))
    kept = shown["questions"]
    assert 0 < len(kept) < 2_000 and kept[-1]["id"] == 1_999  # the newest are the ones kept
    assert shown["trimmed"]["questions"] == {"kept": len(kept), "stored": 2_000}
    assert shown["profiles"] == data["profiles"]  # everything else whole


async def test_forgetting_one_place_keeps_the_others(store: Store) -> None:
    storage = store
    for place in ("111", "222", "dm"):
        await storage.set_background(place, "u", "physics")
        await storage.mark_done(place, "u", "learn-to-code")
        ref = await storage.record_turn(place, "u", f"what is mlops in {place}?", "mlops", 0.9, True, channel="c",
                                        context_topic="mlops")
        await storage.add_feedback(ref, "other", False)  # someone else's 👎 on the member's question
    await storage.record_turn("111", "other", "mine", None, None, False)
    removed = await storage.forget("u", place="111")
    assert removed >= 5
    assert (await storage.profile("111", "u")).background is None and (await storage.profile("222", "u")).background
    data = await storage.my_data("u")
    assert {r["place"] for table in data.values() for r in table} == {"222", "dm"}
    assert [q["question"] for q in (await storage.my_data("other"))["questions"]] == ["mine"]
    # Their question stays, and so do their 👎 on the member's questions elsewhere; the one on 111's went with it.
    assert await storage.rows_about("other") == 1 + 2
    assert await storage.forget("u") > 0 and await storage.rows_about("u") == 0


async def test_my_data_names_places(advisor: Advisor, storage: Storage) -> None:
    await storage.set_background("111", "u", "physics")
    await storage.set_background("dm", "u", "software")
    await storage.set_background("999", "u", "software")
    asked: list[list[str]] = []

    async def names(ids: list[str]) -> dict[str, str]:
        asked.append(ids)
        return {"111": "ML Careers"}

    reply, data = await advisor.my_data("u", names)
    assert asked == [["111", "999"]]  # servers only, never DMs
    assert "“ML Careers”" in reply.body and "direct messages" in reply.body and "not in any more (id 999)" in reply.body
    assert "server 111" not in reply.body
    assert data["places"] == {"111": "ML Careers", "999": "a server I'm not in any more (id 999)",
                              "dm": "direct messages (DMs)"}
    plain, _ = await advisor.my_data("u")  # the command line knows no names: servers by id
    assert "server 111" in plain.body and "not in any more" not in plain.body


# --- gaps: one line per question, and empty lists say so -----------------------------------------------------


def test_near_identical_questions_are_one_gap() -> None:
    same = ["how much do ML engineers earn", "How much do ml engineers earn??", "hey, how much does an ML engineer earn",
            "  how much do ML engineers   earn ?  ", "how much do ml engineers earn please"]
    assert len({gaps.gap_key(q) for q in same}) == 1
    different = ["how much do ML engineers earn", "why do ML engineers earn so much", "do ML engineers not earn much",
                 "how much do data scientists earn"]
    assert len({gaps.gap_key(q) for q in different}) == len(different)


async def test_advisor_groups_gaps_and_dismisses_every_wording(advisor: Advisor, storage: Storage) -> None:
    for user, question in enumerate(["how much do ML engineers earn", "How much do ml engineers earn??",
                                     "how much does an ML engineer earn?", "what is the qwzx framework"]):
        await advisor.ask(str(user), question, Place.server("1", "c"))
    listed = await advisor.gaps("1")
    assert [(g.times, g.unanswered) for g in listed] == [(3, 3), (1, 1)]
    assert "earn" in listed[0].question
    assert await advisor.dismiss_gap("1", "HOW MUCH do ml engineers earn") == 3
    assert [g.question for g in await advisor.gaps("1")] == ["what is the qwzx framework"]


def test_cli_gaps_group_wordings_and_empty_lists_say_so(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    empty = run("kb", "gaps", env=env)
    assert empty.returncode == 0 and empty.stdout == "" and "No gaps" in empty.stderr
    history = run("kb", "history", env=env)
    assert history.returncode == 0 and history.stdout == "" and "No changes yet" in history.stderr
    lines = [json.dumps({"user": str(n), "question": q}) for n, q in enumerate(
        ["how much do ML engineers earn?", "how much do ml engineers earn", "How much do ML engineers earn??"])]
    run("ask", "--json", stdin="\n".join(lines) + "\n", env=env)
    out = run("kb", "gaps", env=env).stdout.splitlines()
    assert len(out) == 1 and out[0].startswith("3\tunanswered\thow much do ml engineers earn")


# --- the owner's alerts -----------------------------------------------------------------------------------------


def test_one_alert_per_incident_and_a_few_per_hour_at_most() -> None:
    clock = Clock()
    incidents = Incidents(clock, settle=600, remind=3600, per_hour=3)
    assert incidents.report("storage", "disk full") == "disk full"
    for _ in range(100):  # the same failure, again and again: counted, not announced
        clock.now += 1
        assert incidents.report("storage", "disk full") is None
    assert incidents.current() == ["storage: 101× in 2 min"]
    clock.now += 3600  # quiet for longer than `settle`: over; the next one is a new incident
    assert incidents.report("storage", "disk full") == "disk full"
    incidents.close("storage")
    assert incidents.current() == []
    assert incidents.report("reload", "bad yaml") == "bad yaml"
    assert incidents.report("watcher", "odd file") == "odd file"
    assert incidents.report("disconnect", "gone") is None  # three in this hour already: the cap holds
    clock.now += 3601
    assert incidents.report("disconnect", "gone") == "gone"


def test_a_long_incident_is_recalled_now_and_then() -> None:
    clock = Clock()
    incidents = Incidents(clock, settle=600, remind=3600, per_hour=6)
    incidents.report("storage", "locked")
    told = []
    for _ in range(2 * 3600 // 60):  # every minute for two hours
        clock.now += 60
        told.append(incidents.report("storage", "locked"))
    reminders = [t for t in told if t]
    assert len(reminders) == 2 and "still happening" in reminders[0]


async def test_processes_sharing_a_database_post_one_alert_between_them(store: Store) -> None:
    sent: list[str] = []

    class Channel:
        async def send(self, content: str, **_: object) -> None:
            sent.append(content)

    class Process:  # what Alerts needs of the bot
        settings = SimpleNamespace(alert_channel_id=5)
        storage = store

        def get_partial_messageable(self, channel_id: int) -> Channel:
            return Channel()

    first, second = Alerts(Process()), Alerts(Process())  # type: ignore[arg-type]
    assert await first.report("storage", "the database is locked") is True
    assert await second.report("storage", "the database is locked") is (not store.shared)
    assert len(sent) == (1 if store.shared else 2)  # one database, one process: each posts its own
    assert "⚠️" in sent[0] and "database is failing" in sent[0]
