"""Server admins run the bot for months (issue 10): per-server settings from Discord that take effect at
once, threads and forums, the message menu, one rate per member, undoing a /done, stale commands,
/my-data, retention and /status."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.discord.app import AdvisorBot
from tests.e2e.conftest import StartBot
from tests.e2e.emulator import DiscordEmulator

pytestmark = pytest.mark.e2e


async def test_config_is_for_admins_only(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    for user in (emulator.member, emulator.moderator):
        refused = await emulator.slash("config show", user=user)
        assert refused.ephemeral and "Only the server's admins" in refused.text
    shown = await emulator.slash("config show", user=emulator.manager)
    assert "Answer channels" in shown.text and "(default)" in shown.text


async def test_answer_channels_take_effect_at_once(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    assert await emulator.say("how do I learn MLOps?", channel=emulator.answers_channel_id, expect_reply=False) is None
    added = await emulator.slash("config answer-channels add", user=emulator.manager, channel=emulator.answers_channel_id)
    assert "in effect now" in added.text and emulator.answers_channel_id in added.text
    answered = await emulator.say("how do I learn MLOps?", channel=emulator.answers_channel_id)
    assert "Full Stack Deep Learning" in answered.text
    in_thread = await emulator.say("where do I learn calculus?", channel=emulator.thread_id)  # a thread under it
    assert "Khan Academy" in in_thread.text
    await emulator.slash("config answer-channels remove", user=emulator.manager, channel=emulator.answers_channel_id)
    assert await emulator.say("how do I learn MLOps?", channel=emulator.answers_channel_id, expect_reply=False) is None


async def test_a_forum_set_as_answer_channel_answers_each_new_post(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("config answer-channels add", user=emulator.manager, channel=emulator.forum_id)
    post = await emulator.forum_post("Maths help", "which course for linear algebra aimed at ML people?")
    assert "computational linear algebra" in post.text.lower()  # Rachel Thomas's mini-course
    assert post.final["channel_id"] != emulator.forum_id  # answered inside the post
    follow = await emulator.say("thanks, and what about calculus?", channel=post.final["channel_id"], expect_reply=False)
    assert follow is None  # later messages in a post need a mention


async def test_the_moderator_role_setting_is_by_id_and_immediate(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    assert "Knowledge stats" in (await emulator.slash("kb stats", user=emulator.moderator)).text
    await emulator.slash("config moderator-role", user=emulator.manager, role=emulator.manager_role)
    assert "Only moderators" in (await emulator.slash("kb stats", user=emulator.moderator)).text
    await emulator.slash("config reset", user=emulator.manager, setting="moderator role")
    assert "Knowledge stats" in (await emulator.slash("kb stats", user=emulator.moderator)).text


async def test_the_question_rate_is_one_bucket_per_member(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("config rate", user=emulator.manager, questions=2, seconds=3600)
    assert "Full Stack" in (await emulator.say("how do I learn MLOps?", mention_bot=True)).text  # 1: a mention
    assert "Easy there" not in (await emulator.slash("ask", question="what is mlops?")).text  # 2: /ask
    target = emulator.member_message("which book for deep learning?", author=emulator.moderator)
    limited = await emulator.menu("Ask MLE Advisor", target)  # 3: the menu, same member
    assert limited.ephemeral and "Easy there" in limited.text
    assert "Easy there" in (await emulator.say("how do I learn MLOps?", mention_bot=True)).text
    assert "Easy there" not in (await emulator.slash("ask", question="what is mlops?", user=emulator.moderator)).text


async def test_the_message_menu_answers_as_a_reply_without_pinging(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    target = emulator.member_message("which book for deep learning?", author=emulator.moderator)
    used = await emulator.menu("Ask MLE Advisor", target, user=emulator.member)
    assert used.ephemeral and "Answered below" in used.all_text
    reply = next(m for m in emulator.messages.values()
                 if str((m.get("message_reference") or {}).get("message_id")) == target["id"])
    assert "Goodfellow" in json.dumps(reply["embeds"]) and f"<@{emulator.moderator.id}>" in reply["content"]
    assert reply["allowed_mentions"]["parse"] == [] and reply["allowed_mentions"].get("replied_user") is False


async def test_a_done_step_can_be_undone(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    done = await emulator.slash("done", step="python")
    assert "Marked done" in done.text and "/undo" in done.text
    assert "learn-to-code" in await bot.storage.done_steps(emulator.guild_id, emulator.member.id)
    choices = await emulator.autocomplete("undo", "step", step="")
    assert choices.choices[0]["value"] == "learn-to-code"  # the steps you ticked off come first
    undone = await emulator.slash("undo", step="learn-to-code")
    assert "Marked not done" in undone.text and undone.ephemeral
    assert await bot.storage.done_steps(emulator.guild_id, emulator.member.id) == set()


async def test_a_stale_command_is_answered_and_logged_in_one_line(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        outcome = await emulator.slash("leaderboard")  # a command an older version had
    assert outcome.ephemeral and "This command is gone" in outcome.text and "/help" in outcome.text
    lines = [r for r in caplog.records if "leaderboard" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "WARNING" and not lines[0].exc_info


async def test_my_data_shows_and_attaches_what_is_stored(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("ask", question="I'm a physicist, how do I start?")
    await emulator.slash("done", step="python")
    await emulator.say("what podcasts are good?", dm=True)
    mine = await emulator.slash("my-data")
    assert mine.ephemeral and "Questions you asked: 2" in mine.text
    data = json.loads(mine.files["mle-advisor-my-data.json"])
    assert {q["question"] for q in data["questions"]} == {"I'm a physicist, how do I start?", "what podcasts are good?"}
    assert data["progress"][0]["step_id"] == "learn-to-code" and data["user_id"] == emulator.member.id
    other = json.loads((await emulator.slash("my-data", user=emulator.moderator)).files["mle-advisor-my-data.json"])
    assert other["questions"] == []  # only one's own


async def test_retention_deletes_old_questions_per_server(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("config retention", user=emulator.manager, days=7)
    await emulator.slash("ask", question="what is mlops?")
    await emulator.slash("ask", question="what is mlops?", guild=emulator.other_guild_id)
    old = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds")
    await bot.storage.db.execute("UPDATE questions SET asked_at = ?", (old,))
    await bot.get_cog("Privacy").retention.coro(bot.get_cog("Privacy"))  # the daily sweep, now
    places = {r[0] for r in await bot.storage.db.execute_fetchall("SELECT place FROM questions")}
    assert places == {emulator.other_guild_id}  # the other server keeps the default 180 days


async def test_status_is_for_the_owner(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    refused = await emulator.slash("status", user=emulator.manager)
    assert "Only the bot's owner" in refused.text
    status = await emulator.slash("status", user=emulator.owner)
    assert status.ephemeral and "Up for" in status.text and "Servers** 2" in status.text and "Database" in status.text


async def test_new_settings_survive_a_restart(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    first = await start_bot()
    await emulator.slash("config answer-channels add", user=emulator.manager, channel=emulator.answers_channel_id)
    await first.close()
    await start_bot()
    assert "Full Stack" in (await emulator.say("how do I learn MLOps?", channel=emulator.answers_channel_id)).text
