"""The real discord.py bot against the local Discord API emulator, as members and moderators use it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.discord import views
from bot.discord.app import AdvisorBot
from tests.e2e.conftest import StartBot
from tests.e2e.emulator import AUTOCOMPLETE_RESULT, DiscordEmulator

pytestmark = pytest.mark.e2e

ALL_COMMANDS = {"ask", "roadmap", "step", "next", "done", "undo", "background", "topics", "resources", "help", "about",
                "forget-me", "my-data", "kb", "config", "sync", "status", "owner", "Ask MLE Advisor"}


async def test_start_up_logs_in_and_syncs_commands_to_the_dev_server(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    assert emulator.requests_to("GET", "/users/@me") and emulator.identified.is_set()
    synced = emulator.commands[emulator.guild_id]
    names = [c["name"] for c in synced]
    assert set(names) == ALL_COMMANDS and len(names) == len(set(names))  # every name unique
    assert "global" not in emulator.commands  # never a global sync on start
    for command in synced:
        if command.get("type", 1) == 1:  # slash commands (a message menu has no description)
            assert command["description"]
            for option in command.get("options", []):
                assert option["description"]
    for group in ("kb", "config"):  # hinted to Discord as Manage Server, and server only (checked by the bot too)
        command = next(c for c in synced if c["name"] == group)
        assert str(command["default_member_permissions"]) == str(1 << 5) and command.get("contexts") in (None, [0])


@pytest.mark.parametrize(
    ("command", "options", "expect", "ephemeral"),
    [
        ("ask", {"question": "Which book should I read for deep learning?"}, "Goodfellow", False),
        ("roadmap", {}, "The roadmap to ML engineer", True),
        ("roadmap", {"background": "physics"}, "Your roadmap from physics", True),
        ("step", {"name": "deep-learning"}, "Best way to learn", False),
        ("next", {}, "Your next step", True),
        ("done", {"step": "learn-to-code"}, "Marked done", True),
        ("background set", {"value": "I studied physics"}, "Saved: you're coming from physics", True),
        ("background show", {}, "I don't know where you start from yet", True),
        ("background clear", {}, "Background cleared", True),
        ("topics", {}, "What I can help with", True),
        ("resources", {"topic": "nlp-transformers"}, "Attention Is All You Need", False),
        ("about", {}, "Max Mynter", True),
        ("help", {}, "How to use MLE Advisor", True),
        ("step", {"name": "python"}, "Learning to code", False),
        ("resources", {"topic": "nlp"}, "Attention Is All You Need", False),
        ("forget-me", {}, "Sure?", True),
    ],
)
async def test_every_slash_command_answers(bot: AdvisorBot, emulator: DiscordEmulator, command: str, options: dict,
                                            expect: str, ephemeral: bool) -> None:
    outcome = await emulator.slash(command, **options)
    assert expect in outcome.text
    assert outcome.ephemeral is ephemeral
    assert outcome.final["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize(
    ("command", "focused", "typed", "wanted"),
    [
        ("step", "name", "deep", "deep-learning"),
        ("done", "step", "mlops", "mlops-production"),
        ("resources", "topic", "transformers", "nlp-transformers"),
        ("roadmap", "background", "phys", "physics"),
        ("background set", "value", "", "software"),
        ("step", "name", "", "maths-foundations"),
    ],
)
async def test_autocomplete_offers_valid_choices(bot: AdvisorBot, emulator: DiscordEmulator, command: str, focused: str,
                                                 typed: str, wanted: str) -> None:
    outcome = await emulator.autocomplete(command, focused, **{focused: typed})
    assert outcome.type == AUTOCOMPLETE_RESULT
    choices = outcome.choices
    assert 0 < len(choices) <= 25 and all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert wanted in [c["value"] for c in choices]


async def test_a_mention_is_answered_as_a_reply_that_pings_nobody(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    outcome = await emulator.say("how do I learn MLOps?", mention_bot=True)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no text-command parsing of questions
    message = outcome.final
    assert message["message_reference"]["message_id"]
    assert message["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert "Full Stack Deep Learning" in outcome.text


async def test_mentioning_the_bots_role_works_like_mentioning_the_bot(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    outcome = await emulator.say("where do I learn calculus?", mention_bot_role=True)
    assert "Khan Academy" in outcome.text and outcome.final["allowed_mentions"]["parse"] == []


async def test_messages_not_for_the_bot_are_ignored_and_dms_answered(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    assert await emulator.say("how do I learn MLOps?", expect_reply=False) is None
    dm = await emulator.say("what podcasts are good?", dm=True)
    assert "SE Daily" in dm.text or "Software Engineering Daily" in dm.text


async def test_listed_channels_are_answered_without_a_mention(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    await start_bot(answer_channel_ids=[int(emulator.answers_channel_id)])
    outcome = await emulator.say("Where do I learn calculus?", channel=emulator.answers_channel_id)
    assert "Khan Academy" in outcome.text


async def test_everyone_in_a_question_never_pings(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    for outcome in (
        await emulator.say("@everyone @here what time is it in Tokyo", mention_bot=True),
        await emulator.slash("ask", question="@everyone <@123> what is the meaning of qwzx?"),
    ):
        assert outcome.final["allowed_mentions"]["parse"] == []
        assert "@everyone" not in outcome.text and "<@123>" not in outcome.text
        assert "/topics" in outcome.text  # declined, politely


async def test_an_unknown_question_gets_the_dont_know_reply(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    outcome = await emulator.slash("ask", question="what does the qwzx framework do?")  # nothing the guides know
    assert "don't know" in outcome.text.lower() and "/topics" in outcome.text
    assert not any(c.startswith("mle:fb:") for c in outcome.custom_ids)  # nothing to rate
    partial = await emulator.slash("ask", question="how much do ML engineers earn?")  # the guides only come close
    assert "don't cover salaries" in partial.text and "ceiling" in partial.text  # said plainly, then what they do say
    elsewhere = await emulator.slash("ask", question="what's a good movie tonight?")
    assert "sounds like a question about films" in elsewhere.text


async def test_a_thumbs_up_is_stored_with_the_question(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    outcome = await emulator.slash("ask", question="Good course for NLP?")
    up = next(c for c in outcome.custom_ids if c.startswith("mle:fb:") and c.endswith(":1"))
    clicked = await emulator.click(outcome.final, up)
    assert clicked.ephemeral and "Thanks" in clicked.text
    question_id = int(up.split(":")[2])
    assert await bot.storage.feedback_for(question_id) == [(emulator.member.id, True)]
    down = up[:-1] + "0"
    await emulator.click(outcome.final, down, user=emulator.moderator)
    gaps = await bot.storage.gaps(emulator.guild_id)
    assert gaps and gaps[0].question == "good course for nlp?" and gaps[0].unhelpful == 1


async def test_did_you_mean_and_next_step_buttons(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    outcome = await emulator.slash("ask", question="is kaggle useful")
    choice = next(c for c in outcome.custom_ids if c.startswith("mle:topic:"))
    shown = await emulator.click(outcome.final, choice)
    assert shown.ephemeral and shown.text
    step = await emulator.slash("step", name="maths-foundations")
    nxt = next(c for c in step.custom_ids if c.startswith("mle:step:"))
    assert nxt == "mle:step:learn-to-code"
    assert "Learning to code" in (await emulator.click(step.final, nxt)).text


async def test_buttons_are_sent_as_the_items_that_answer_their_clicks_would_show_them() -> None:
    """An answer's buttons go out as Discord's payload, built directly; a click is answered by the item its
    custom id matches. Both show the same label, emoji and colour, in the same rows, and the id sent is
    the one that item reads back."""
    sent = [views.Feedback.payload(42, "0a1b2c3d", True), views.Feedback.payload(42, "0a1b2c3d", False),
            views.ShowTopic.offer("deep-learning", "Deep learning"), views.ShowTopic.offer("nlp-transformers", "NLP " * 30),
            views.ShowStep.payload("learn-to-code"), views.Solved.payload(7), views.DeleteAnswer.payload(8)]
    items = [views.Feedback(42, "0a1b2c3d", True), views.Feedback(42, "0a1b2c3d", False),
             views.ShowTopic("deep-learning", "Did you mean: Deep learning"),
             views.ShowTopic("nlp-transformers", "Did you mean: " + "NLP " * 30), views.ShowStep("learn-to-code"),
             views.Solved(7), views.DeleteAnswer(8)]
    assert views.Buttons(sent).to_components() == views.buttons(items).to_components()  # two rows: five, then two
    for payload, item in zip(sent, items, strict=True):
        match = type(item).__discord_ui_compiled_template__.fullmatch(payload["custom_id"])
        assert match is not None and item.custom_id == payload["custom_id"]


async def test_a_non_moderator_is_refused_kb_reload_on_the_server_side(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    before = bot.advisor.knowledge
    for command in ("kb reload", "kb gaps", "kb stats", "kb check"):
        outcome = await emulator.slash(command, user=emulator.member)
        assert outcome.ephemeral and "Only moderators" in outcome.text
    assert bot.advisor.knowledge is before
    allowed = await emulator.slash("kb stats", user=emulator.manager)  # Manage Server, no role: allowed
    assert "Knowledge stats" in allowed.text


async def test_kb_commands_in_a_dm_are_refused_without_crashing(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    outcome = await emulator.slash("kb reload", dm=True)
    assert outcome.ephemeral and "only works in a server" in outcome.text
    assert "The roadmap" in (await emulator.slash("roadmap", dm=True)).text  # member commands work in DMs


async def test_a_broken_edit_keeps_the_old_knowledge_and_reports_file_and_line(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                                kb_copy: Path) -> None:
    before = bot.advisor.knowledge
    roadmap = kb_copy / "roadmap.yaml"
    roadmap.write_text(roadmap.read_text().replace("    best_way: >-", "    best_wya: >-", 1))
    outcome = await emulator.slash("kb reload", user=emulator.moderator)
    assert "Reload refused" in outcome.text and "roadmap.yaml:" in outcome.text and "best_wya" in outcome.text
    assert bot.advisor.knowledge is before
    assert "Goodfellow" in (await emulator.slash("ask", question="deep learning book?")).text  # still answering
    stats = await emulator.slash("kb stats", user=emulator.moderator)
    assert "The last reload failed" in stats.text and "roadmap.yaml:" in stats.text
    check = await emulator.slash("kb check", user=emulator.moderator)
    assert "Knowledge has problems" in check.text
    roadmap.write_text(roadmap.read_text().replace("    best_wya: >-", "    best_way: >-", 1))
    assert "Knowledge reloaded" in (await emulator.slash("kb reload", user=emulator.moderator)).text
    assert bot.advisor.knowledge is not before


async def test_an_edited_file_is_picked_up_by_itself(start_bot: StartBot, emulator: DiscordEmulator, kb_copy: Path) -> None:
    bot = await start_bot(kb_watch_seconds=0.1)
    (kb_copy / "entries" / "extra.yaml").write_text(
        "entries:\n  - id: sourdough\n    title: Sourdough and ML\n    ask: [how do i bake sourdough bread]\n"
        "    answer: A test answer about sourdough.\n    sources: [mynter]\n")
    for _ in range(50):
        if "sourdough" in bot.advisor.knowledge.entries:
            break
        await asyncio.sleep(0.1)
    assert "sourdough" in (await emulator.slash("ask", question="how do I bake sourdough bread?")).text


async def test_kb_gaps_lists_what_went_unanswered(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    for _ in range(2):
        await emulator.slash("ask", question="how much do ML engineers earn?")
    outcome = await emulator.slash("kb gaps", user=emulator.moderator)
    assert "**2×** how much do ml engineers earn?" in outcome.text


async def test_forget_me_removes_every_trace(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    me = emulator.member
    await emulator.slash("ask", question="I'm a physicist, how do I start?")
    await emulator.slash("done", step="learn-to-code")
    rated = await emulator.slash("ask", question="what is mlops?")
    await emulator.click(rated.final, next(c for c in rated.custom_ids if c.startswith("mle:fb:")))
    assert await bot.storage.rows_about(me.id) >= 5
    prompt = await emulator.slash("forget-me")
    yes = next(c for c in prompt.custom_ids if c.endswith(":1"))
    intruder = await emulator.click(prompt.final, yes, user=emulator.moderator)  # someone else can't press it
    assert "for the member who asked" in intruder.text and await bot.storage.rows_about(me.id) > 0
    done = await emulator.click(prompt.final, yes)
    assert "removed everything" in done.text
    assert await bot.storage.rows_about(me.id) == 0


async def test_a_restart_keeps_backgrounds_progress_and_buttons(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    first = await start_bot()
    await emulator.slash("background set", value="backend developer")
    await emulator.slash("done", step="classical-ml")
    answer = await emulator.slash("ask", question="what should my portfolio project be?")
    await first.close()

    second = await start_bot()
    assert second is not first
    shown = await emulator.slash("background show")
    assert "software development" in shown.text
    roadmap = await emulator.slash("roadmap")
    assert "✅ **Classical (shallow) machine learning**" in roadmap.text
    how_long = await emulator.slash("ask", question="how long will it take me?")
    assert "6 months" in how_long.text
    clicked = await emulator.click(answer.final, next(c for c in answer.custom_ids if c.startswith("mle:fb:")))
    assert "Thanks" in clicked.text  # a button from before the restart still works


async def test_questions_are_rate_limited_per_member(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    await start_bot(question_rate=2, question_per=60)
    for _ in range(2):
        assert "Easy there" not in (await emulator.slash("ask", question="what is mlops?")).text
    limited = await emulator.slash("ask", question="what is mlops?")
    assert limited.ephemeral and "Easy there" in limited.text
    other = await emulator.slash("ask", question="what is mlops?", user=emulator.moderator)
    assert "Easy there" not in other.text  # per member


async def test_an_internal_error_is_answered_ephemerally_and_logged_without_the_token(
    bot: AdvisorBot, emulator: DiscordEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.storage.close()  # the database goes away under the bot
    outcome = await emulator.slash("next")
    assert outcome.ephemeral and ("database" in outcome.text or "went wrong" in outcome.text)
    assert "emulated-token" not in caplog.text


async def test_private_answers_with_buttons_leave_nothing_running_and_their_buttons_still_work(
        bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    def timers() -> int:  # discord.py's per-view 15-minute timeout tasks
        return sum("timeout_task" in repr(task.get_coro()) for task in asyncio.all_tasks())

    before = timers()
    answers = [await emulator.slash("next") for _ in range(5)] + [await emulator.slash("roadmap")]
    assert all(a.ephemeral and a.custom_ids for a in answers)
    assert timers() == before  # nothing kept per message: a busy day would pile up thousands
    shown = await emulator.click(answers[0].final, answers[0].custom_ids[0])  # the buttons work through their ids
    assert shown.ephemeral and "Learning to code" in shown.text
