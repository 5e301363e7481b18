"""Comforts for members, admins and the owner, through the emulator: a rate limit that fits a chat, 🗑 on
answers, /my-data that names servers and never fails, /forget-me here or everywhere, /config that saves
all or nothing."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from bot.discord.app import AdvisorBot
from tests.e2e.conftest import StartBot
from tests.e2e.emulator import AUTOCOMPLETE_RESULT, THREAD, DiscordEmulator, Member

pytestmark = pytest.mark.e2e


def _button(outcome, prefix: str) -> str:  # type: ignore[no-untyped-def]
    return next(c for c in outcome.custom_ids if c.startswith(prefix))


# --- the rate limit fits a chat -------------------------------------------------------------------------


async def test_a_natural_chat_in_an_answer_channel_is_never_refused(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    await start_bot(question_rate=10, question_per=60, answer_channel_ids=[int(emulator.answers_channel_id)])
    chat = ["hi!", "I'm a backend dev, how do I get into ML?", "thanks!", "which book for deep learning?", "ok cool",
            "and for NLP?", "thank you so much", "how do I learn MLOps?", "lol nice", "where do I learn calculus?",
            "thanks!!", "what about a portfolio?", "cheers"]
    for line in chat:
        outcome = await emulator.say(line, channel=emulator.answers_channel_id)
        assert "Easy there" not in outcome.text, line


async def test_a_flood_of_questions_is_stopped_after_the_burst_and_told_once(start_bot: StartBot,
                                                                            emulator: DiscordEmulator) -> None:
    await start_bot(question_rate=10, question_per=600)
    for n in range(10):
        assert "Easy there" not in (await emulator.say(f"how do I learn MLOps? {n}", mention_bot=True)).text
    refused = await emulator.say("how do I learn MLOps? again", mention_bot=True)
    assert "Easy there" in refused.text
    assert await emulator.say("how do I learn MLOps? and again", mention_bot=True, expect_reply=False) is None  # said once
    assert "Easy there" in (await emulator.slash("ask", question="what is mlops?")).text  # /ask shares the allowance
    assert "Easy there" not in (await emulator.slash("ask", question="thanks!")).text  # small talk stays free
    assert "Easy there" not in (await emulator.slash("help")).text
    assert "Easy there" in (await emulator.slash("step", name="python")).text  # so do /step and /resources
    assert "Easy there" in (await emulator.slash("resources", topic="nlp")).text
    blocked = await emulator.autocomplete("step", "name", name="deep")
    assert blocked.type == AUTOCOMPLETE_RESULT and blocked.choices == []  # no matching for a member over the limit
    other = await emulator.autocomplete("step", "name", user=emulator.moderator, name="deep")
    assert "deep-learning" in [c["value"] for c in other.choices]  # per member


async def test_admins_still_set_the_allowance(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("config rate", user=emulator.manager, questions=1, seconds=3600)
    assert "Easy there" not in (await emulator.slash("ask", question="what is mlops?")).text
    assert "Easy there" in (await emulator.slash("ask", question="what is mlops?")).text


async def test_config_rate_is_all_or_nothing(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    before = bot.server_config(int(emulator.guild_id))
    # A storage failure between the two values: neither is stored, and the member is told nothing was saved.
    await bot.storage.db.execute("""CREATE TRIGGER fail_per BEFORE INSERT ON settings WHEN NEW.key = 'question_per'
                                    BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END""")
    failed = await emulator.slash("config rate", user=emulator.manager, questions=3, seconds=30)
    assert "nothing was saved" in failed.text
    assert await bot.storage.settings(emulator.guild_id) == {}
    assert bot.server_config(int(emulator.guild_id)) == before
    await bot.storage.db.execute("DROP TRIGGER fail_per")
    saved = await emulator.slash("config rate", user=emulator.manager, questions=3, seconds=30)
    assert "Saved" in saved.text
    assert await bot.storage.settings(emulator.guild_id) == {"question_rate": 3, "question_per": 30.0}


# --- 🗑 on answers ----------------------------------------------------------------------------------


async def test_the_member_answered_or_a_moderator_can_delete_an_answer(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    answer = await emulator.say("how do I learn MLOps?", mention_bot=True)
    delete = _button(answer, "mle:del:")
    assert delete == f"mle:del:{emulator.member.id}"
    refused = await emulator.click(answer.final, delete, user=Member("42", "stranger"))
    assert refused.ephemeral and "Only the member this answered" in refused.text and not refused.deleted
    gone = await emulator.click(answer.final, delete)
    assert gone.deleted
    asked = await emulator.slash("ask", question="which book for deep learning?")
    by_moderator = await emulator.click(asked.final, _button(asked, "mle:del:"), user=emulator.moderator)
    assert by_moderator.deleted
    for public in (await emulator.slash("step", name="python"), await emulator.slash("resources", topic="nlp")):
        assert _button(public, "mle:del:")
    private = await emulator.slash("roadmap")
    assert not any(c.startswith("mle:del:") for c in private.custom_ids)  # nothing to delete in an ephemeral answer


# --- /my-data and /forget-me ------------------------------------------------------------------------------


async def test_my_data_names_servers_and_dms_and_attaches_valid_json(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    await emulator.slash("background set", value="I studied physics")
    await emulator.slash("ask", question="what is mlops?", guild=emulator.other_guild_id)
    await emulator.say("what podcasts are good?", dm=True)
    await bot.storage.record_turn("1100000000000000999", emulator.member.id, "from a server I left", None, None, False)
    # Another process serves the other server's shard: this one asks Discord for its name.
    bot._connection._remove_guild(bot.get_guild(int(emulator.other_guild_id)))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        mine = await emulator.slash("my-data")
    assert not [r for r in caplog.records if r.name.startswith("aiohttp")]  # the emulator took the upload as Discord does
    assert "ML Careers" in mine.text and "direct messages" in mine.text
    assert "Another Server" in mine.text and emulator.guild_id not in mine.text
    assert emulator.requests_to("GET", f"/guilds/{emulator.other_guild_id}")
    assert "a server I'm not in any more (id 1100000000000000999)" in mine.text
    attachment = mine.final["attachments"][0]
    assert attachment["filename"] == "mle-advisor-my-data.json" and attachment["size"] > 0
    data = json.loads(mine.files["mle-advisor-my-data.json"])
    assert data["places"] == {emulator.guild_id: "ML Careers", emulator.other_guild_id: "Another Server",
                              "dm": "direct messages (DMs)",
                              "1100000000000000999": "a server I'm not in any more (id 1100000000000000999)"}
    assert data["profiles"][0]["background"] == "physics"
    assert {q["question"] for q in data["questions"]} == {"what is mlops?", "what podcasts are good?",
                                                          "from a server I left"}


async def test_my_data_of_a_heavy_member_fits_one_attachment(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    rows = [(emulator.guild_id, emulator.member.id, f"question {n}: " + "how do I become an ML engineer " * 60,
             "2026-01-01T00:00:00+00:00") for n in range(12_000)]
    await bot.storage.db.executemany(
        "INSERT INTO questions (place, user_id, question, answered, asked_at) VALUES (?, ?, ?, 0, ?)", rows)
    mine = await emulator.slash("my-data", within=60)
    assert "Questions you asked: 12000" in mine.text and "compressed" in mine.text
    (name, content), = mine.files.items()
    assert name.endswith(".json.gz") and len(content) <= 8 * 2**20
    plain = gzip.decompress(content)
    assert len(plain) > 8 * 2**20  # it would not have fitted as JSON
    assert len(json.loads(plain)["questions"]) == 12_000


async def test_forget_me_here_keeps_the_other_server_and_dms(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    me = emulator.member.id
    await emulator.slash("done", step="python")
    await emulator.slash("ask", question="what is mlops?")
    await emulator.slash("ask", question="what is mlops?", guild=emulator.other_guild_id)
    await emulator.say("what podcasts are good?", dm=True)
    prompt = await emulator.slash("forget-me")
    labels = {c["custom_id"]: c.get("label") for c in prompt.components}
    here = f"mle:forget:{me}:1:{emulator.guild_id}"
    assert labels[here] == "Only this server" and labels[f"mle:forget:{me}:1"] == "Everywhere"
    done = await emulator.click(prompt.final, here)
    assert "in this server" in done.text
    places = {r[0] for r in await bot.storage.db.execute_fetchall("SELECT place FROM questions WHERE user_id = ?", (me,))}
    assert places == {emulator.other_guild_id, "dm"}
    assert await bot.storage.done_steps(emulator.guild_id, me) == set()
    in_dm = await emulator.slash("forget-me", dm=True)
    assert f"mle:forget:{me}:1:dm" in in_dm.custom_ids
    everywhere = await emulator.click(in_dm.final, f"mle:forget:{me}:1")
    assert "every server and in DMs" in everywhere.text and await bot.storage.rows_about(me) == 0


async def test_kb_gaps_shows_near_identical_questions_as_one(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    empty = await emulator.slash("kb gaps", user=emulator.moderator)
    assert "No gaps" in empty.text
    assert "No changes yet" in (await emulator.slash("kb history", user=emulator.moderator)).text
    for user, question in ((emulator.member, "how much do ML engineers earn?"),
                           (emulator.moderator, "How much do ml engineers earn"),
                           (emulator.manager, "hey, how much does an ML engineer earn??")):
        await emulator.slash("ask", question=question, user=user)
    listed = await emulator.slash("kb gaps", user=emulator.moderator)
    assert listed.text.count("earn") == 1 and "**3×**" in listed.text


# --- the owner's tools --------------------------------------------------------------------------------------


async def _posted(emulator: DiscordEmulator, channel: str, at_least: int = 1) -> list[str]:
    """The messages the bot posted in `channel` (alerts go out in the background: wait a moment for them)."""
    for _ in range(50):
        outcome = emulator._outcomes.get(f"channel:{channel}")
        if outcome and len(outcome.messages) >= at_least:
            break
        await asyncio.sleep(0.05)
    outcome = emulator._outcomes.get(f"channel:{channel}")
    return [m["content"] for m in outcome.messages] if outcome else []


async def test_alerts_go_to_the_owners_channel_once_per_incident(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                 kb_copy: Path) -> None:
    channel = emulator.log_channel_id
    assert "Only the bot's owner" in (await emulator.slash("owner alerts", user=emulator.manager, channel=channel)).text
    chosen = await emulator.slash("owner alerts", user=emulator.owner, channel=channel)
    assert chosen.ephemeral and "Saved" in chosen.text
    (kb_copy / "entries" / "broken.yaml").write_text("entries: [\n")
    for _ in range(3):
        assert "Reload refused" in (await emulator.slash("kb reload", user=emulator.moderator)).text
    posted = await _posted(emulator, channel)
    await asyncio.sleep(0.3)
    assert len(await _posted(emulator, channel)) == 1 and "reload failed" in posted[0]
    (kb_copy / "entries" / "broken.yaml").unlink()
    assert "Knowledge reloaded" in (await emulator.slash("kb reload", user=emulator.moderator)).text
    await bot.storage.close()  # the database fails under the bot: every question now logs a storage problem
    for _ in range(4):
        await emulator.slash("next")
    posted = await _posted(emulator, channel, 2)
    await asyncio.sleep(0.3)
    posted = await _posted(emulator, channel, 2)
    assert len(posted) == 2 and "database is failing" in posted[1]
    assert all(message["allowed_mentions"] == {"parse": []} for message in
               emulator._outcomes[f"channel:{channel}"].messages)


async def test_a_long_disconnect_is_told_once_it_is_back(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("owner alerts", user=emulator.owner, channel=emulator.log_channel_id)
    clock = [1000.0]
    bot.alerts.incidents.clock = lambda: clock[0]
    await bot.on_disconnect()
    clock[0] += 30
    await bot.on_resumed()  # a short blip: nothing to tell
    await bot.on_disconnect()
    clock[0] += 900
    await bot.on_resumed()
    posted = await _posted(emulator, emulator.log_channel_id)
    assert len(posted) == 1 and "unreachable" in posted[0] and "15 min" in posted[0]
    await bot.on_disconnect()  # a second outage, told while it lasts, and only then
    clock[0] += 60
    await bot.check_disconnect()
    clock[0] += 600
    await bot.check_disconnect()
    await bot.check_disconnect()
    clock[0] += 60
    await bot.on_resumed()
    posted = await _posted(emulator, emulator.log_channel_id, 2)
    assert len(posted) == 2 and "has been lost for 11 min" in posted[1]


async def test_status_shows_memory_cpu_tasks_and_loop_lag(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await asyncio.sleep(1.2)  # one lag sample
    status = await emulator.slash("status", user=emulator.owner)
    for figure in ("Memory", "MiB resident", "CPU", "Tasks", "threads", "event-loop lag", "Alerts"):
        assert figure in status.text, figure
    assert "not measured yet" not in status.text


async def test_the_owner_erases_one_users_data_after_confirming(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    me = emulator.member.id
    await emulator.slash("ask", question="what is mlops?")
    await emulator.slash("ask", question="what is mlops?", guild=emulator.other_guild_id)
    assert "Only the bot's owner" in (await emulator.slash("owner forget-user", user=emulator.manager, user_id=me)).text
    assert "isn't a Discord user id" in (await emulator.slash("owner forget-user", user=emulator.owner, user_id="bob")).text
    prompt = await emulator.slash("owner forget-user", user=emulator.owner, user_id=me)
    assert "4 record(s)" in prompt.text and prompt.ephemeral  # two questions, two conversations
    buttons = {c["label"]: c["custom_id"] for c in prompt.components}
    cancel = await emulator.click(prompt.final, buttons["Cancel"], user=emulator.owner)
    assert "nothing was erased" in cancel.text and await bot.storage.rows_about(me) == 4
    prompt = await emulator.slash("owner forget-user", user=emulator.owner, user_id=me)
    buttons = {c["label"]: c["custom_id"] for c in prompt.components}
    done = await emulator.click(prompt.final, buttons["Erase everywhere"], user=emulator.owner)
    assert "Erased user" in done.text and await bot.storage.rows_about(me) == 0
    nothing = await emulator.slash("owner forget-user", user=emulator.owner, user_id=me)
    assert "I store nothing" in nothing.text


async def _requests(emulator: DiscordEmulator, method: str, fragment: str) -> list:
    """What the bot asked of Discord, once it has (it may do so just after answering the click)."""
    for _ in range(50):
        if emulator.requests_to(method, fragment):
            break
        await asyncio.sleep(0.05)
    return emulator.requests_to(method, fragment)


# --- help forums ----------------------------------------------------------------------------------------------


async def test_the_posts_author_or_a_moderator_marks_it_solved(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    await start_bot(answer_channel_ids=[int(emulator.forum_id)])
    answer = await emulator.forum_post("MLOps?", "how do I learn MLOps?")
    post = answer.final["channel_id"]
    solved = _button(answer, "mle:solved:")
    assert solved == f"mle:solved:{emulator.member.id}" and _button(answer, "mle:del:")
    refused = await emulator.click(answer.final, solved, user=Member("42", "stranger"), channel=post)
    assert "Only the post's author" in refused.text and not emulator.requests_to("PATCH", f"/channels/{post}")
    done = await emulator.click(answer.final, solved, channel=post)
    assert "Marked solved" in done.text and not done.ephemeral and done.final["allowed_mentions"] == {"parse": []}
    (closing,) = await _requests(emulator, "PATCH", f"/channels/{post}")
    assert closing["archived"] is True and closing["locked"] is True and closing["applied_tags"] == [emulator.solved_tag_id]
    other = await emulator.forum_post("Books?", "which book for deep learning?")
    by_moderator = await emulator.click(other.final, _button(other, "mle:solved:"), user=emulator.moderator,
                                        channel=other.final["channel_id"])
    assert "Marked solved" in by_moderator.text
    mention = await emulator.say("how do I learn MLOps?", mention_bot=True)  # not a forum post: nothing to solve
    assert not any(c.startswith("mle:solved:") for c in mention.custom_ids)


async def test_idle_forum_posts_are_closed_after_the_servers_days(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    bot = await start_bot(answer_channel_ids=[int(emulator.forum_id)])
    old = (await emulator.forum_post("old", "how do I learn MLOps?")).final["channel_id"]  # ids from 2023: long idle
    fresh = str(discord.utils.time_snowflake(datetime.now(UTC)))
    await emulator.dispatch("THREAD_CREATE", emulator.channel(fresh, "fresh", THREAD, parent=emulator.forum_id)
                            | {"newly_created": True, "last_message_id": fresh})
    await emulator.slash("config forum-idle", user=emulator.manager, days=0)
    forums = bot.get_cog("Forums")
    assert await forums.close_idle_posts() == 0  # 0 days: never
    assert "closed after 3 days" in (await emulator.slash("config forum-idle", user=emulator.manager, days=3)).text
    assert await forums.close_idle_posts() == 1
    (closing,) = emulator.requests_to("PATCH", f"/channels/{old}")
    assert closing["archived"] is True and emulator.solved_tag_id not in closing.get("applied_tags", [])
    assert not emulator.requests_to("PATCH", f"/channels/{fresh}")
    note = emulator._outcomes[f"channel:{old}"].messages[-1]
    assert "no message for 3 days" in note["content"]


async def test_slow_matching_never_holds_up_other_members(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    """Autocomplete and /step match in a worker thread: while one is stuck (a huge knowledge, a long text),
    another member's command is answered."""
    release = threading.Event()
    step_choices, step_reply = bot.advisor.step_choices, bot.advisor.step_reply

    def stuck_choices(prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        release.wait(20)
        return step_choices(prefix, limit)

    def stuck_reply(name: str):  # type: ignore[no-untyped-def]
        release.wait(20)
        return step_reply(name)

    bot.advisor.step_choices, bot.advisor.step_reply = stuck_choices, stuck_reply  # type: ignore[method-assign]
    pending = [asyncio.create_task(emulator.autocomplete("step", "name", name=f"deep {n}" * 30))
               for n in range(3)]
    pending.append(asyncio.create_task(emulator.slash("step", user=emulator.moderator, name="python", within=30)))
    await asyncio.sleep(0.2)
    helped = await emulator.slash("help", user=emulator.manager)
    assert "How to use MLE Advisor" in helped.text and not any(task.done() for task in pending)
    release.set()
    finished = await asyncio.gather(*pending)
    assert all(f.choices for f in finished[:3]) and "Learning to code" in finished[3].text
