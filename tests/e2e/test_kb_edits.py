"""Moderators' edits from Discord, over the wire (issues 15 and 16): /kb info, forms that apply what they
say, ids that never run out, hidden import paths refused, topics named by title, another server's members'
questions kept out of /kb history and /kb export, and a change made by another process picked up."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

import pytest

from bot.core.editing import KnowledgeEditor
from bot.core.storage import Storage, StorageError
from bot.discord.app import AdvisorBot
from tests.e2e.conftest import StartBot
from tests.e2e.emulator import DiscordEmulator, Outcome

pytestmark = pytest.mark.e2e


def form_values(outcome: Outcome) -> dict[str, str]:
    return {row["components"][0]["label"]: row["components"][0].get("value") or "" for row in outcome.modal["components"]}


async def test_kb_info_shows_who_changed_a_topic_its_answers_and_feedback(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    untouched = await emulator.slash("kb info", user=emulator.moderator, topic="git-basics")
    assert "as shipped" in untouched.text and "Changes**: none" in untouched.text and untouched.ephemeral
    form = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    await emulator.submit(form, {"Answer": "Learn git early: every team uses it."}, user=emulator.moderator)
    asked = await emulator.slash("ask", question="do I need to learn git?")
    up = next(c for c in asked.custom_ids if c.startswith("mle:fb:") and c.endswith(":1"))
    await emulator.click(asked.final, up)
    await emulator.slash("ask", question="what is mlops?", guild=emulator.other_guild_id)
    info = await emulator.slash("kb info", user=emulator.moderator, topic="Git and version")  # a title's beginning
    assert "Git and version control (git-basics)" in info.text and "edited by moderators" in info.text
    assert "Answered** 1 question(s) here in the last 30 days · 👍 1 · 👎 0" in info.text
    assert "#1" in info.text and "moderator" in info.text and "edited git-basics" in info.text
    member = await emulator.slash("kb info", user=emulator.member, topic="git-basics")
    assert "Only moderators" in member.text


async def test_clearing_keywords_and_links_in_the_form_is_applied(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    """Issue 15.2: the form said "Saved" but kept the old keywords, resources and related."""
    before = bot.advisor.knowledge.entries["git-basics"]
    assert before.keywords and before.resources
    form = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    saved = await emulator.submit(form, {"Keywords": "", "Links": "resources:\nrelated:\nsources: " + ", ".join(before.sources)},
                                  user=emulator.moderator)
    assert "Saved" in saved.all_text
    after = bot.advisor.knowledge.entries["git-basics"]
    assert after.keywords == () and after.resources == () and after.related == ()
    reopened = form_values(await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics"))
    assert next(v for k, v in reopened.items() if k.startswith("Keywords")) == ""
    no_sources = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    refused = await emulator.submit(no_sources, {"Links": "sources:"}, user=emulator.moderator)
    assert "Not changed" in refused.all_text and "source" in refused.all_text and "Saved" not in refused.all_text


async def test_titles_without_latin_letters_get_ids_and_editing_never_hangs(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    """Issue 15.1: "Как стать инженером" got `entry`, then no id was free and every later change hung."""
    titles = []
    for n in range(3):
        form = await emulator.slash("kb add", user=emulator.moderator)
        saved = await emulator.submit(form, {"Title": "Как стать инженером", "How people ask": f"как стать инженером {n}",
                                             "Answer": f"Ответ {n}."}, user=emulator.moderator)
        assert "Saved" in saved.all_text
        titles.append(saved.all_text)
    assert [f"added entry-{n}" in text for n, text in zip((1, 2, 3), titles, strict=True)] == [True] * 3
    taught = await emulator.slash("kb teach", user=emulator.moderator, question="where do my notebooks go", topic="git-basics")
    assert "Taught" in taught.all_text  # a later change goes through


async def test_hidden_import_paths_are_refused_up_front(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    """Issue 15.3: `/kb import path:entries/.secret.yaml` said "answering from it now"."""
    good = emulator.upload("secret.yaml", b"entries:\n  - id: secret\n    title: Secret\n    ask: [what is the secret]\n"
                                          b"    answer: None.\n    sources: [moderators]\n")
    refused = await emulator.slash("kb import", user=emulator.moderator, file=good, path="entries/.secret.yaml")
    assert "Not changed" in refused.all_text and "hidden" in refused.all_text
    assert "answering from it" not in refused.all_text and "secret" not in bot.advisor.knowledge.entries


async def test_teach_names_the_topic_by_title_or_says_which_it_could_be(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    taught = await emulator.slash("kb teach", user=emulator.moderator, question="where do my notebooks go",
                                  topic="Git and version control")
    assert "Taught" in taught.all_text and "git-basics" in taught.all_text
    vague = await emulator.slash("kb teach", user=emulator.moderator, question="another question", topic="d")
    assert "could be any of" in vague.text


async def test_another_servers_members_questions_stay_out_of_its_history_and_export(
        start_bot: StartBot, emulator: DiscordEmulator) -> None:
    """Issue 15.9: a phrasing taught from a member's question in one server is not shown to another
    server's admin in /kb history, /kb info or /kb export (the host's CLI sees it all)."""
    bot = await start_bot(kb_edit_guild_ids=[int(emulator.guild_id), int(emulator.other_guild_id)])
    private = "my manager at zorblax corp wants me to learn git"
    taught = await emulator.slash("kb teach", user=emulator.moderator, question=private, topic="git-basics")
    assert "Taught" in taught.all_text
    here = await emulator.slash("kb history", user=emulator.moderator)
    assert "zorblax" in here.text  # this server's moderators see their own members' words
    other = await emulator.slash("kb history", user=emulator.other_admin, guild=emulator.other_guild_id)
    assert "git-basics" in other.text and "zorblax" not in other.text and "taught a phrasing" in other.text
    info = await emulator.slash("kb info", user=emulator.other_admin, guild=emulator.other_guild_id, topic="git-basics")
    assert "zorblax" not in info.text
    exported = await emulator.slash("kb export", user=emulator.other_admin, guild=emulator.other_guild_id)
    archive = zipfile.ZipFile(io.BytesIO(exported.files["mle-advisor-knowledge.zip"]))
    assert not any(b"zorblax" in archive.read(name) for name in archive.namelist())
    form = await emulator.slash("kb edit", user=emulator.other_admin, guild=emulator.other_guild_id, topic="git-basics")
    assert form.modal is not None and "zorblax" not in str(form.modal)
    await emulator.submit(form, {"Answer": "Git: edited from the other server."}, user=emulator.other_admin)
    assert private in bot.advisor.knowledge.entries["git-basics"].ask  # their edit keeps what they were not shown


async def test_a_change_made_by_another_process_is_picked_up(start_bot: StartBot, emulator: DiscordEmulator,
                                                            tmp_path: Path, kb_copy: Path) -> None:
    """The database is the one truth for edits: `mle-advisor kb teach` (another process, another
    connection) is answered by the running bot without a restart."""
    bot = await start_bot(kb_watch_seconds=0.2)
    async with Storage(tmp_path / "bot.db") as storage:
        await KnowledgeEditor(kb_copy, storage).teach("zorblax notebooks went missing again", "git-basics",
                                                      by_id="cli", by_name="host", place="local")
    for _ in range(100):
        if "zorblax notebooks went missing again" in bot.advisor.knowledge.entries["git-basics"].ask:
            break
        await asyncio.sleep(0.05)
    answer = await emulator.slash("ask", question="zorblax notebooks went missing again")
    assert answer.text.startswith("Git and version control")


async def test_an_import_the_database_cannot_record_is_not_in_force(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15.5: with the disk full, `/kb import` said "Something went wrong" yet the file was in force,
    with no history and no undo."""
    async def full(*args: object, **kwargs: object) -> int:
        raise StorageError("the disk holding bot.db is full: free some space; nothing was saved", "full")

    upload = emulator.upload("extra.yaml", b"entries:\n  - id: study-groups\n    title: Study groups\n"
                                           b"    ask: [is there a study group for ml]\n"
                                           b"    answer: Ask in this server's study channel.\n    sources: [moderators]\n")
    before = bot.advisor.knowledge
    with monkeypatch.context() as patch:
        patch.setattr(bot.storage, "kb_commit", full)
        refused = await emulator.slash("kb import", user=emulator.moderator, file=upload)
    assert "Not changed" in refused.all_text and "nothing was changed" in refused.all_text
    assert "Something went wrong" not in refused.all_text
    assert bot.advisor.knowledge is before and "study-groups" not in (await bot.editor.load()).entries
    assert "No changes yet" in (await emulator.slash("kb history", user=emulator.moderator)).text
