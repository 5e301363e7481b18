"""Moderators keep the knowledge from inside Discord (issue 9): teach from the gaps, edit and add in
forms, import and export files, history and undo, and only where and by whom it is allowed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.discord.app import AdvisorBot
from tests.e2e.conftest import StartBot
from tests.e2e.emulator import DiscordEmulator

pytestmark = pytest.mark.e2e

UNKNOWN = "how much do ML engineers earn?"


async def _gap(emulator: DiscordEmulator, question: str = UNKNOWN) -> None:
    await emulator.slash("ask", question=question)


async def test_teach_from_the_gaps_then_the_same_question_is_answered(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    question = "which keyboard layout do ML engineers prefer?"  # nothing in the knowledge answers it
    await _gap(emulator, question)
    gaps = await emulator.slash("kb gaps", user=emulator.moderator)
    assert "keyboard layout" in gaps.text
    select = next(c for c in gaps.components if c["type"] == 3)
    picked = await emulator.choose(gaps.final, select["custom_id"], ["0"], user=emulator.moderator)
    teach = next(c["custom_id"] for c in picked.components if c.get("label") == "Teach")
    options = await emulator.click(picked.final, teach, user=emulator.moderator)
    topics = next(c for c in options.components if c["type"] == 3)
    kb = bot.advisor.knowledge
    nearest = kb.index.search(kb.normalizer.stems(question), limit=1, threshold=0.0)
    assert [o["value"] for o in topics["options"]][:1] == [m.id for m in nearest]  # the nearest topics come first
    taught = await emulator.choose(options.final, topics["custom_id"], ["engineering-practices"], user=emulator.moderator)
    assert "Taught" in taught.all_text and "Engineering best practices" in taught.all_text
    again = await emulator.slash("ask", question=question)
    assert again.text.startswith("Engineering best practices")
    history = await emulator.slash("kb history", user=emulator.moderator)
    assert "taught" in history.text and "engineering-practices" in history.text
    still = await emulator.slash("kb gaps", user=emulator.moderator)
    assert "keyboard layout" not in still.text  # answered now: nothing left to do for it


async def test_write_an_answer_for_a_gap_and_dismiss_another(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await _gap(emulator)
    await _gap(emulator, "does the bot know about qwzx frameworks?")
    gaps = await emulator.slash("kb gaps", user=emulator.moderator)
    select = next(c for c in gaps.components if c["type"] == 3)
    labels = [o["label"] for o in select["options"]]
    salary = str(next(i for i, label in enumerate(labels) if "earn" in label))
    picked = await emulator.choose(gaps.final, select["custom_id"], [salary], user=emulator.moderator)
    write = next(c["custom_id"] for c in picked.components if c.get("label") == "Write an answer")
    form = await emulator.click(picked.final, write, user=emulator.moderator)
    fields = {row["components"][0]["label"]: row["components"][0].get("value") for row in form.modal["components"]}
    assert any(v and "earn" in v for v in fields.values())  # the question is its first phrasing
    saved = await emulator.submit(form, {"Title": "Pay in ML engineering",
                                         "Answer": "The guides give no figures; look at salary surveys for your country."},
                                  user=emulator.moderator)
    assert "Saved" in saved.all_text
    assert (await emulator.slash("ask", question=UNKNOWN)).text.startswith("Pay in ML engineering")
    other = str(next(i for i, label in enumerate(labels) if "qwzx" in label))
    picked = await emulator.choose(gaps.final, select["custom_id"], [other], user=emulator.moderator)
    dismiss = next(c["custom_id"] for c in picked.components if c.get("label") == "Dismiss")
    assert "Dismissed" in (await emulator.click(picked.final, dismiss, user=emulator.moderator)).text
    assert "qwzx" not in (await emulator.slash("kb gaps", user=emulator.moderator)).text


async def test_edit_a_topic_in_a_prefilled_form(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    form = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    values = {row["components"][0]["label"]: row["components"][0].get("value") or "" for row in form.modal["components"]}
    assert values["Title"] == "Git and version control"
    assert "do i need to learn git" in next(v for k, v in values.items() if k.startswith("How people ask"))
    assert "resources: git" in next(v for k, v in values.items() if k.startswith("Links"))
    saved = await emulator.submit(form, {"Answer": "Learn git early: every team uses it, and it keeps every version."},
                                  user=emulator.moderator)
    assert "Saved" in saved.all_text
    assert "every team uses it" in (await emulator.slash("ask", question="do I need to learn git?")).text


async def test_an_invalid_edit_writes_nothing_and_keeps_the_text(bot: AdvisorBot, emulator: DiscordEmulator,
                                                                  tmp_path: Path) -> None:
    before = bot.advisor.knowledge
    form = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    refused = await emulator.submit(form, {"Links": "resources: git, no-such-resource", "Answer": "MY CAREFUL TEXT"},
                                    user=emulator.moderator)
    assert "Not changed" in refused.all_text and "no-such-resource" in refused.all_text and ".yaml:" in refused.all_text
    assert bot.advisor.knowledge is before and not (tmp_path / "knowledge-edits" / "entries" / "learning.yaml").exists()
    again = next(c["custom_id"] for c in refused.components if c.get("label") == "Edit again")
    reopened = await emulator.click(refused.final, again, user=emulator.moderator)
    assert any(row["components"][0].get("value") == "MY CAREFUL TEXT" for row in reopened.modal["components"])


async def test_add_a_new_entry_in_an_empty_form(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    form = await emulator.slash("kb add", user=emulator.moderator)
    assert all(not row["components"][0].get("value") for row in form.modal["components"][:1])
    saved = await emulator.submit(form, {"Title": "Study groups", "How people ask": "is there a study group for ml",
                                         "Answer": "Ask in this server's study channel; learning with others helps."},
                                  user=emulator.moderator)
    assert "Saved" in saved.all_text
    assert (await emulator.slash("ask", question="is there a study group for ml?")).text.startswith("Study groups")


async def test_two_moderators_editing_the_same_entry(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    first = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    second = await emulator.slash("kb edit", user=emulator.manager, topic="git-basics")
    assert "Saved" in (await emulator.submit(first, {"Answer": "First moderator's answer about git."},
                                             user=emulator.moderator)).all_text
    late = await emulator.submit(second, {"Answer": "Second moderator's answer about git."}, user=emulator.manager)
    assert "changed" in late.all_text.lower() and "meanwhile" in late.all_text
    assert "First moderator's answer" in (await emulator.slash("ask", question="do I need to learn git?")).text
    current = next(c["custom_id"] for c in late.components if c.get("label") == "Open the current version")
    reopened = await emulator.click(late.final, current, user=emulator.manager)
    assert any("First moderator's answer" in (row["components"][0].get("value") or "") for row in reopened.modal["components"])


async def test_import_a_broken_then_a_valid_file_and_export(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    broken = emulator.upload("extra.yaml", b"entries:\n  - id: broken-one\n    title: Broken\n    anwser: x\n    sources: [mynter]\n")
    refused = await emulator.slash("kb import", user=emulator.moderator, file=broken)
    assert "Not changed" in refused.all_text and "extra.yaml:" in refused.all_text and "anwser" in refused.all_text
    good = emulator.upload("extra.yaml", b"entries:\n  - id: study-groups\n    title: Study groups\n"
                                         b"    ask: [is there a study group for ml]\n"
                                         b"    answer: Ask in this server's study channel.\n    sources: [moderators]\n")
    imported = await emulator.slash("kb import", user=emulator.moderator, file=good)
    assert "Imported" in imported.all_text
    assert (await emulator.slash("ask", question="is there a study group for ml?")).text.startswith("Study groups")
    exported = await emulator.slash("kb export", user=emulator.moderator)
    archive = zipfile.ZipFile(io.BytesIO(exported.files["mle-advisor-knowledge.zip"]))
    assert "knowledge/entries/extra.yaml" in archive.namelist()
    assert b"study-groups" in archive.read("knowledge/entries/extra.yaml")


async def test_undo_restores_the_previous_answer(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    form = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    await emulator.submit(form, {"Answer": "A temporary answer about git."}, user=emulator.moderator)
    assert "temporary" in (await emulator.slash("ask", question="do I need to learn git?")).text
    undone = await emulator.slash("kb undo", user=emulator.moderator)
    assert "Undone" in undone.all_text
    assert "temporary" not in (await emulator.slash("ask", question="do I need to learn git?")).text


async def test_a_non_moderator_is_refused_at_every_step(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    before = bot.advisor.knowledge
    upload = emulator.upload("x.yaml", b"entries: []\n")
    for command, options in (("kb gaps", {}), ("kb edit", {"topic": "git-basics"}), ("kb add", {}),
                             ("kb teach", {"question": "anything at all", "topic": "git-basics"}),
                             ("kb import", {"file": upload}), ("kb export", {}), ("kb history", {}), ("kb undo", {}),
                             ("kb stats", {})):
        outcome = await emulator.slash(command, user=emulator.member, **options)
        assert outcome.ephemeral and "Only moderators" in outcome.text, command
        assert outcome.modal is None
    # a moderator's gap tools, used by someone else, refuse too
    await _gap(emulator)
    gaps = await emulator.slash("kb gaps", user=emulator.moderator)
    select = next(c for c in gaps.components if c["type"] == 3)
    sneaky = await emulator.choose(gaps.final, select["custom_id"], ["0"], user=emulator.member)
    assert "Only moderators" in sneaky.text
    assert bot.advisor.knowledge is before


async def test_changes_are_allowed_only_from_listed_servers(start_bot: StartBot, emulator: DiscordEmulator) -> None:
    await start_bot(kb_edit_guild_ids=[int(emulator.other_guild_id)])
    refused = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    assert refused.modal is None and "can be changed from Discord only" in refused.text
    assert "Knowledge stats" in (await emulator.slash("kb stats", user=emulator.moderator)).text  # looking is fine


async def test_with_one_server_that_server_may_edit(tmp_path: Path, kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.e2e.conftest import running_bot

    async with running_bot(tmp_path, kb_copy, monkeypatch, servers=1, kb_edit_guild_ids=[]) as (bot, emulator):
        form = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
        assert form.modal is not None


async def test_kb_stats_shows_this_servers_usage(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("ask", question="how do I learn MLOps?")
    await _gap(emulator)
    await emulator.slash("ask", question="what is mlops?", guild=emulator.other_guild_id)  # another server's
    stats = await emulator.slash("kb stats", user=emulator.moderator)
    assert "Last 7 days**: 2 questions, 50% answered" in stats.text
    assert "MLOps and production ML" in stats.text and "Per day" in stats.text


async def test_each_change_is_posted_to_the_moderators_log_channel(bot: AdvisorBot, emulator: DiscordEmulator) -> None:
    await emulator.slash("config log-channel", user=emulator.manager, channel=emulator.log_channel_id)
    form = await emulator.slash("kb edit", user=emulator.moderator, topic="git-basics")
    await emulator.submit(form, {"Answer": "Git: learn it early, it pays off."}, user=emulator.moderator)
    posted = [m for m in emulator.messages.values() if m["channel_id"] == emulator.log_channel_id]
    assert posted and "edited git-basics" in posted[-1]["content"] and posted[-1]["allowed_mentions"]["parse"] == []
