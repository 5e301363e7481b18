"""Trust (issue 8), as members and moderators of two servers would find it: nothing crosses a server
or a DM, private things stay private, moderators are known by role id, and failures are answered."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.core import advisor as advisor_module
from bot.core.storage import StorageError
from bot.discord import render
from bot.discord.app import AdvisorBot
from tests.e2e.conftest import StartBot
from tests.e2e.emulator import DEFERRED_MESSAGE, MESSAGE, DiscordEmulator

pytestmark = pytest.mark.e2e


async def test_gaps_show_only_this_servers_questions_never_dms(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.say("my employer pays me qwzx credits, should I quit for ML?", dm=True)
    await emulator.slash("ask", question="what does qwzx mean for server B?", guild=emulator.other_guild_id)
    await emulator.slash("ask", question="what does qwzx mean for server A?")
    gaps = await emulator.slash("kb gaps", user=emulator.moderator)
    assert "server a" in gaps.text
    assert "server b" not in gaps.text and "employer" not in gaps.text
    stats = await emulator.slash("kb stats", user=emulator.moderator)
    assert "employer" not in stats.text and "server b" not in stats.text


async def test_a_privately_stated_background_is_never_named_in_public(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    private = await emulator.slash("background set", value="I studied physics")
    assert private.ephemeral and "physics" in private.text
    name = bot.advisor.knowledge.backgrounds["physics"].name
    asked = await emulator.slash("ask", question="how long will it take me?")  # /ask: answered to them alone
    # never shown in public: answered to them alone at once, or (when slow) the public "thinking…" removed
    assert asked.ephemeral and name in asked.text and (asked.type == MESSAGE or asked.deleted)
    with monkeypatch.context() as patch:
        patch.setattr(render, "DEFER_AFTER", 0.0)  # a slow answer: acknowledged in public first
        slow = await emulator.slash("ask", question="how long will it take me?")
    assert slow.ephemeral and name in slow.text and slow.deleted  # the public "thinking…" is removed
    mention = await emulator.say("how long will it take me?", mention_bot=True)  # a reply everyone sees
    assert name not in mention.text and "physics" not in mention.text.lower()
    assert "told me where you start from privately" in mention.text
    general = await emulator.slash("ask", question="which book for deep learning?")  # not personal: public as usual
    assert not general.ephemeral and "Goodfellow" in general.text



async def test_a_slow_answer_that_fails_is_acknowledged_then_explained_in_one_line(
        bot: AdvisorBot, emulator: DiscordEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    async def slow_failure(*_: object) -> None:  # a database that hangs, then gives up
        await asyncio.sleep(0.2)
        raise StorageError("the database is locked", "locked")

    monkeypatch.setattr(render, "DEFER_AFTER", 0.05)
    monkeypatch.setattr(bot.storage, "memory", slow_failure)
    failed = await emulator.slash("next")
    assert failed.type == DEFERRED_MESSAGE and failed.ephemeral
    assert "can't reach my database" in failed.text and len(failed.messages) == 1

async def test_a_background_stated_in_a_dm_stays_in_dms(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.say("I'm a software developer", dm=True)
    public = await emulator.slash("ask", question="how long will it take me?")
    assert public.text.startswith("How long it takes")  # the general answer: the server knows nothing of it
    assert "Tell me where you start from" in public.text


async def test_moderators_are_known_by_role_id_not_name(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    refused = await emulator.slash("kb gaps", user=emulator.impostor)  # a role with the same name, another id
    assert refused.ephemeral and "Only moderators" in refused.text
    assert "No gaps" in (await emulator.slash("kb gaps", user=emulator.moderator)).text


async def test_a_database_failure_still_answers_and_says_nothing_was_saved(bot: AdvisorBot,
                                                                           emulator: DiscordEmulator) -> None:
    answer = await emulator.slash("ask", question="what is mlops?")
    await bot.storage.close()  # the database goes away under the bot
    mention = await emulator.say("how do I learn MLOps?", mention_bot=True)
    assert "Full Stack Deep Learning" in mention.text and "nothing from this message was saved" in mention.text
    done = await emulator.slash("done", step="python")
    assert done.ephemeral and "nothing was saved" in done.text and "Marked done" not in done.text
    up = next(c for c in answer.custom_ids if c.startswith("mle:fb:") and c.endswith(":1"))
    clicked = await emulator.click(answer.final, up)  # a button answers too, never silence
    assert clicked.ephemeral and "nothing was saved" in clicked.text


async def test_a_feedback_button_rates_only_its_own_question(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    first = await emulator.slash("ask", question="what is mlops?")
    up = next(c for c in first.custom_ids if c.startswith("mle:fb:") and c.endswith(":1"))
    prompt = await emulator.slash("forget-me")
    await emulator.click(prompt.final, next(c for c in prompt.custom_ids if c.endswith(":1")))
    await emulator.slash("ask", question="what is mlops?", user=emulator.moderator)  # a new question, a new id
    clicked = await emulator.click(first.final, up, user=emulator.manager)
    assert "no longer stored" in clicked.text
    assert await bot.storage.db.execute_fetchall("SELECT * FROM feedback") == []
    old_id = up.rsplit(":", 2)[0] + ":1"  # a button from a version before the check token
    old_message = first.final | {"components": [{"type": 1, "components": [{"type": 2, "style": 2, "custom_id": old_id,
                                                                              "emoji": {"name": "👍"}}]}]}
    assert "older version" in (await emulator.click(old_message, old_id)).text


async def test_forget_me_confirmed_by_two_members_at_once(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    for user in (emulator.member, emulator.moderator):
        await emulator.slash("ask", question="I'm a physicist, how do I start?", user=user)
        await emulator.slash("done", step="python", user=user)
    prompts = [await emulator.slash("forget-me", user=u) for u in (emulator.member, emulator.moderator)]
    yes = [next(c for c in p.custom_ids if c.endswith(":1")) for p in prompts]
    done = await asyncio.gather(emulator.click(prompts[0].final, yes[0], user=emulator.member),
                                emulator.click(prompts[1].final, yes[1], user=emulator.moderator))
    assert all("removed everything" in d.text for d in done)
    assert await bot.storage.rows_about(emulator.member.id) == 0 and await bot.storage.rows_about(emulator.moderator.id) == 0


async def test_markdown_in_a_knowledge_file_cannot_format_the_problem_list(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                            kb_copy: Path) -> None:
    (kb_copy / "entries" / "evil.yaml").write_text(
        "entries:\n  - id: evil\n    title: Evil\n    '[click me](https://evil.example)': 1\n    answer: x\n"
        "    sources: [mynter]\n")
    checked = await emulator.slash("kb check", user=emulator.moderator)
    description = checked.final["embeds"][0]["description"]
    assert description.startswith("```") and "click me" in description
    assert description.count("```") == 2  # one code block, nothing escapes it


async def test_the_watcher_survives_errors_and_rereads_a_half_written_save(start_bot: StartBot, emulator: DiscordEmulator,
                                                                           kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = await start_bot(kb_watch_seconds=0.05)
    target = kb_copy / "entries" / "new.yaml"
    whole = ("entries:\n  - id: sourdough\n    title: Sourdough and ML\n    ask: [how do i bake sourdough bread]\n"
             "    answer: A test answer about sourdough.\n    sources: [mynter]\n")
    real_load = advisor_module.load_knowledge
    calls = {"n": 0}

    def load_while_the_save_finishes(*args, **kwargs):  # the loader reads the file half written...
        calls["n"] += 1
        try:
            return real_load(*args, **kwargs)
        finally:
            if calls["n"] == 1:
                target.write_text(whole)  # ...and the editor finishes saving it meanwhile

    monkeypatch.setattr(advisor_module, "load_knowledge", load_while_the_save_finishes)
    target.write_text(whole[:60])  # half a file: not valid
    for _ in range(100):
        if "sourdough" in bot.advisor.knowledge.entries:
            break
        await asyncio.sleep(0.05)
    assert "sourdough" in bot.advisor.knowledge.entries  # read again once the save finished
    original = bot.advisor.fingerprint
    monkeypatch.setattr(bot.advisor, "fingerprint", lambda: (_ for _ in ()).throw(OSError("disk went away")))
    await asyncio.sleep(0.3)
    stats = await emulator.slash("kb stats", user=emulator.moderator)
    assert "The file watcher hit a problem" in stats.text and "disk went away" in stats.text
    monkeypatch.setattr(bot.advisor, "fingerprint", original)
    (kb_copy / "entries" / "more.yaml").write_text(whole.replace("sourdough", "rye").replace("Sourdough", "Rye"))
    for _ in range(100):
        if "rye" in bot.advisor.knowledge.entries:
            break
        await asyncio.sleep(0.05)
    assert "rye" in bot.advisor.knowledge.entries  # still watching


# --- issue 15: nothing waits on the database while Discord waits; forget-me sticks ---------------------

def _another_program_writing(path: Path) -> sqlite3.Connection:
    """Another program holds the database's write lock (a migration tool, a second copy of the bot)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO settings (place, key, value, updated_at) VALUES ('x', 'y', '1', 'now')")
    return holder


async def test_every_interaction_is_acknowledged_while_the_database_is_locked(bot: AdvisorBot,
                                                                              emulator: DiscordEmulator) -> None:
    answer = await emulator.slash("ask", question="what is mlops?")
    up = next(c for c in answer.custom_ids if c.startswith("mle:fb:") and c.endswith(":1"))
    topic = await emulator.slash("ask", question="how do I learn about transformers?")
    prompt = await emulator.slash("forget-me", user=emulator.moderator)
    yes = next(c for c in prompt.custom_ids if c.endswith(":1"))
    target = emulator.member_message("how do I get into MLOps?", author=emulator.manager)
    holder = _another_program_writing(bot.storage.path)
    try:  # each is acknowledged while the lock is still held: Discord heard back without the database
        pending = [
            await emulator.click(answer.final, up, ack_only=True),
            await emulator.click(prompt.final, yes, user=emulator.moderator, ack_only=True),
            await emulator.slash("done", step="python", ack_only=True),
            await emulator.slash("background set", value="I studied physics", ack_only=True),
            await emulator.slash("config retention", user=emulator.manager, days=90, ack_only=True),
            await emulator.menu("Ask MLE Advisor", target, ack_only=True),
        ]
        if any(c.startswith("mle:topic:") for c in topic.custom_ids):
            pending.append(await emulator.click(topic.final, next(c for c in topic.custom_ids if c.startswith("mle:topic:")),
                                                ack_only=True))
        # With the bot's own writes queued behind the lock, an autocomplete that reads still answers.
        suggested = await emulator.autocomplete("undo", "step", step="")
        assert suggested.choices
        assert all(p.callback is not None for p in pending)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    finished = [await emulator.finished(p, within=30) for p in pending]
    assert "Thanks" in finished[0].text and "removed everything" in finished[1].text
    assert "nothing was saved" not in " ".join(f.text for f in finished)
    assert await bot.storage.rows_about(emulator.moderator.id) == 0


async def test_forget_me_is_not_stalled_by_a_long_reader(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("ask", question="I'm a physicist, how do I start?")
    reader = sqlite3.connect(bot.storage.path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM questions").fetchone()  # a backup tool in the middle of reading
    try:
        prompt = await emulator.slash("forget-me")
        done = await emulator.click(prompt.final, next(c for c in prompt.custom_ids if c.endswith(":1")))
        assert "removed everything" in done.text
        answered = await emulator.slash("ask", question="what is mlops?", user=emulator.moderator)
        assert "nothing from this message was saved" not in answered.text
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert await bot.storage.rows_about(emulator.member.id) == 0


async def test_the_message_menu_does_not_bring_a_forgotten_member_back(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    alice = emulator.member
    old = emulator.member_message("I'm a physicist, how do I get into deep learning?", author=alice)
    await emulator.say("I'm a physicist, how do I get into deep learning?", mention_bot=True)
    prompt = await emulator.slash("forget-me")
    await emulator.click(prompt.final, next(c for c in prompt.custom_ids if c.endswith(":1")))
    assert await bot.storage.rows_about(alice.id) == 0
    for someone in (emulator.moderator, emulator.manager):  # others use the menu on her old message
        used = await emulator.menu("Ask MLE Advisor", old, user=someone)
        assert "Answered below" in used.text
    replies = emulator._outcomes[old["id"]].messages  # the answers posted under her message
    assert len(replies) == 2 and all(r["embeds"] for r in replies)
    assert await bot.storage.rows_about(alice.id) == 0  # no profile, question or context re-created
    await emulator.say("what is mlops?", mention_bot=True)  # she speaks again herself
    assert await bot.storage.rows_about(alice.id) > 0
