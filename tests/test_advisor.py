"""The advisor as a member experiences it: answers, memory, progress, and honesty when it doesn't know."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.core.format import MESSAGE_LIMIT
from bot.core.knowledge import load_knowledge
from bot.core.storage import QuestionRef, Storage

OFF_TOPIC = [
    "how do I bake bread?",
    "what's the weather like in Paris tomorrow",
    "recommend me a movie",
    "who won the match yesterday",
    "zxcvbnm",
    "how long should I boil an egg",
    "can you help me with my taxes",
]


@pytest.mark.parametrize("question", OFF_TOPIC)
async def test_off_topic_questions_get_the_dont_know_reply(advisor: Advisor, question: str) -> None:
    reply = await advisor.ask("u", question)
    assert reply.kind == "unknown" and not reply.matches
    assert "/topics" in reply.text and "/roadmap" in reply.text


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("which book teaches deep learning best?", "deep-learning"),
        ("best deep lerning book?", "deep-learning"),
        ("good intro to transfomers?", "nlp-transformers"),
        ("how should I get ready for ML interviews", "interviews"),
        ("do I need to know git", "git-basics"),
        ("what's the gap between data scientists and ML engineers", "mle-vs-data-scientist"),
    ],
)
async def test_questions_in_other_words_find_their_topic(advisor: Advisor, question: str, topic: str) -> None:
    reply = await advisor.ask("u", question)
    assert reply.matches and reply.matches[0].id == topic
    assert len(reply.text) <= MESSAGE_LIMIT


async def test_close_runner_up_is_offered_as_did_you_mean(advisor: Advisor) -> None:
    reply = await advisor.ask("u", "is kaggle useful")
    assert reply.did_you_mean and "Did you mean" in reply.text
    assert reply.did_you_mean[0].id != reply.matches[0].id


async def test_a_stated_background_is_remembered_and_used(advisor: Advisor) -> None:
    first = await advisor.ask("dev", "backend dev here")
    assert first.kind == "statement" and first.background == "software"
    reply = await advisor.ask("dev", "how long will it take me?")
    assert "6 months" in reply.text and reply.background == "software"


async def test_background_in_the_question_wins_for_that_question_only(advisor: Advisor) -> None:
    await advisor.ask("u", "I'm a data scientist")
    reply = await advisor.ask("u", "how long does it take with no background at all?")
    assert "18 months" in reply.text.split("For comparison")[0]
    assert reply.background == "data-science"  # a mention does not overwrite what was stated


async def test_correcting_a_background_replaces_it(advisor: Advisor) -> None:
    await advisor.ask("u", "I'm a data scientist")
    reply = await advisor.ask("u", "actually I'm a software engineer now, not a data scientist")
    assert reply.background == "software"


async def test_without_a_background_answers_generally_and_invites(advisor: Advisor) -> None:
    reply = await advisor.ask("new", "what should I focus on?")
    assert reply.background is None
    assert "where you start from" in reply.text


async def test_next_step_follows_the_route_and_progress(advisor: Advisor) -> None:
    await advisor.set_background("u", "software engineer")
    first = await advisor.next_step("u")
    assert first.title == "Your next step: Classical ML" and "/done classical-ml" in first.text
    done = await advisor.mark_done("u", "classical ML")  # by name, not only by id
    assert done.next_step == "maths-foundations"
    assert (await advisor.next_step("u")).title == "Your next step: Maths foundations"
    roadmap = await advisor.roadmap("u")
    assert "✅ **Classical (shallow) machine learning**" in roadmap.text


async def test_unknown_step_and_background_are_explained(advisor: Advisor) -> None:
    assert (await advisor.mark_done("u", "underwater basket weaving")).kind == "unknown"
    assert (await advisor.set_background("u", "qwerty")).kind == "unknown"
    assert (await advisor.roadmap("u", background="qwerty")).kind == "unknown"


async def test_every_answer_fits_one_discord_message(advisor: Advisor) -> None:
    kb = advisor.knowledge
    for bg in [None, *kb.backgrounds]:
        if bg:
            await advisor.set_background("fit", bg)
        for topic in kb.topics.values():
            question = topic.ask[0] if topic.ask else topic.title
            assert len((await advisor.ask("fit", question)).text) <= MESSAGE_LIMIT
        assert len((await advisor.roadmap("fit")).text) <= MESSAGE_LIMIT
    assert len(advisor.topics().text) <= MESSAGE_LIMIT and len(advisor.about().text) <= MESSAGE_LIMIT


async def test_answers_credit_their_guides(advisor: Advisor) -> None:
    reply = await advisor.ask("u", "which book for deep learning")
    assert reply.credit.startswith("Source") and "How to become an ML Engineer?" in reply.text


async def test_hostile_questions_never_break_anything(advisor: Advisor) -> None:
    for text in ["", "   ", "@everyone @here <@123> help", "🙂" * 5000, "x" * 100_000, "\x00\u202e", "?" * 50]:
        reply = await advisor.ask("u", text)
        assert reply.text and len(reply.text) <= MESSAGE_LIMIT
        assert "@everyone" not in reply.text and "<@123>" not in reply.text


async def test_questions_are_logged_with_their_match_for_moderators(advisor: Advisor) -> None:
    await advisor.ask("u", "how much do ML engineers earn?")
    await advisor.ask("u", "how much do ML engineers earn?")
    await advisor.ask("u", "how do I bake bread?")  # another subject: declined, but not a gap to fill
    good = await advisor.ask("u", "which book for deep learning")
    assert await advisor.feedback(QuestionRef(good.question_id, good.question_token), "u", helpful=False)
    gaps = await advisor.storage.gaps("local")
    assert gaps[0].question == "how much do ml engineers earn?" and gaps[0].times == 2
    assert any(g.question == "which book for deep learning" for g in gaps)
    assert not any("bread" in g.question for g in gaps)


async def test_forget_me_removes_everything(advisor: Advisor) -> None:
    await advisor.ask("me", "I'm a physicist")
    await advisor.mark_done("me", "learn-to-code")
    await advisor.forget("me")
    assert await advisor.storage.rows_about("me") == 0
    assert (await advisor.ask("me", "how long will it take me?")).background is None


async def test_reload_swaps_good_knowledge_and_keeps_the_old_on_error(kb_copy: Path, tmp_path: Path) -> None:
    async with Storage(tmp_path / "r.db") as storage:
        advisor = Advisor(load_knowledge(kb_copy), storage)
        before = advisor.knowledge
        (kb_copy / "entries" / "new.yaml").write_text("entries:\n  - id: broken\n    title: [\n")
        result = await advisor.reload()
        assert not result.ok and advisor.knowledge is before
        assert result.problems[0].file.endswith("new.yaml") and result.problems[0].line in (3, 4)
        (kb_copy / "entries" / "new.yaml").write_text(
            "entries:\n  - id: sourdough\n    title: Baking sourdough bread\n    ask: [how do i bake bread]\n"
            "    answer: Not our topic, but here's a test answer.\n    sources: [mynter]\n")
        result = await advisor.reload()
        assert result.ok and advisor.knowledge is not before and not advisor.last_reload_error
        assert (await advisor.ask("u", "how do I bake bread?")).matches[0].id == "sourdough"


@pytest.mark.parametrize(
    ("question", "title_start", "remembered"),
    [
        ("I'm an economist — what's the best way into ML engineering?", "From maths or statistics", "maths-statistics"),
        ("I teach high school physics. How do I get into ML?", "From physics", "physics"),
        ("im a backend engineer whats my path", "From software development", "software"),
        ("never written a line of code, can I still become an ML engineer?", "From a complete beginner", "beginner"),
        ("Can a chemist become an ML engineer?", "From another science", None),  # a mention: used, not remembered
        ("what does the roadmap look like for a data scientist?", "From data science", None),
        ("What's the time commitment for a software dev to move into ML?", "How long it will take you (software", None),
        ("Hi all! I finished my physics PhD last year and I'm wondering how to pivot into machine learning "
         "engineering. Any advice?", "From physics", "physics"),
        # the age is read as age: what the guides say (and don't) about changing careers, the background kept
        ("Is it too late to switch to ML at 35 coming from accounting?", "Changing careers from an unrelated field",
         "unrelated-field"),
    ],
)
async def test_a_background_and_a_general_question_give_that_route(advisor: Advisor, question: str, title_start: str,
                                                                    remembered: str | None) -> None:
    reply = await advisor.ask("someone", question)
    assert reply.title.startswith(title_start)
    assert reply.background == remembered


async def test_a_mentioned_field_that_is_the_topic_stays_the_topic(advisor: Advisor) -> None:
    assert (await advisor.ask("u", "Which statistics book is the classic?")).matches[0].id == "maths-foundations"
    assert (await advisor.ask("u", "why does software engineering matter so much for ML")).matches[0].id == "why-software-engineering"


async def test_topics_lists_the_knowledge_in_use_after_a_reload(advisor: Advisor) -> None:
    kb = advisor.knowledge
    gone = sorted(kb.entries.values(), key=lambda e: e.title)[0]
    assert f"• {gone.title}" in advisor.topics().body
    advisor.knowledge = dataclasses.replace(kb, entries={k: e for k, e in kb.entries.items() if k != gone.id})
    assert f"• {gone.title}" not in advisor.topics().body  # built again for the new knowledge, not kept from before


async def test_a_reader_bug_ending_an_iteration_fails_the_question_instead_of_leaving_it_waiting(
        advisor: Advisor, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise StopIteration  # as next() on an empty generator does

    monkeypatch.setattr(advisor.reader, "_read", broken)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(advisor.ask("stop", "how long does it take?"), timeout=10)
