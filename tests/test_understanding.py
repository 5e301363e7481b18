"""How the advisor reads what members write, beyond single questions: backgrounds described as jobs,
follow-ups that lean on the previous answer, small talk, and names typed into commands.

All wordings are our own; none comes from the development questions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.core.knowledge import Knowledge
from bot.core.place import Place
from bot.core.storage import Storage


def detect(kb: Knowledge, text: str):
    return kb.detector.detect(kb.detector.words(text))


# --- backgrounds from job descriptions ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("I build Android apps in Kotlin at a fintech company", "software"),
        ("most of my day is writing Selenium checks for a web shop", "it-operations"),
        ("I look after the Linux servers and on-call rota at a hosting firm as a sysadmin", "it-operations"),
        ("game dev here, mostly Unity and C sharp", "software"),
        ("I do the weekly sales analytics in R and Tableau", "analyst"),
        ("I'm a paralegal at a small family law practice", "unrelated-field"),
        ("sous chef at a hotel restaurant, 12 years", "unrelated-field"),
        ("I manage a bakery and do its books", "unrelated-field"),
        ("I've worked retail for six years", "unrelated-field"),
        ("I drive a bus for the city", "unrelated-field"),
        ("3 yrs of rails", "software"),
        ("I work like accountant since 10 years", "unrelated-field"),
        ("I moved to data science last spring and love it", "data-science"),
        ("I used to teach maths but I switched to data analytics two years ago", "analyst"),
    ],
)
def test_backgrounds_described_as_work_are_recognised(kb: Knowledge, text: str, background: str) -> None:
    found = detect(kb, text)
    assert found is not None and (found.background, found.about_self) == (background, True), found


@pytest.mark.parametrize(
    "text",
    [
        "I want to become a data analyst",
        "I'm thinking of switching to data science",
        "how do I become a pilot?",
        "interview tips for a barista job",
        "how do I get a job as a nurse",
        "I have a question about pandas",
        "I am not get what is the difference between data analyst and ML engineer",  # a question, not a statement
        "I'm not sure how a physicist would start",
    ],
)
def test_wishes_targets_and_passing_mentions_are_not_statements(kb: Knowledge, text: str) -> None:
    found = detect(kb, text)
    assert found is None or not found.about_self, found


def test_a_later_mention_of_a_field_does_not_erase_a_stated_background(kb: Knowledge) -> None:
    found = detect(kb, "I'm a chef, and lately I keep reading about data science and statistics")
    assert found is not None and (found.background, found.about_self) == ("unrelated-field", True)


def test_a_role_beats_the_place_of_work(kb: Knowledge) -> None:
    found = detect(kb, "I'm on the analytics team of a supermarket chain")
    assert found is not None and found.background == "analyst"


async def test_the_answer_says_which_background_was_understood(advisor: Advisor) -> None:
    reply = await advisor.ask("u", "I write firmware for washing machines, how long until I could work in ML?")
    assert reply.background == "software"
    assert "software development" in reply.text and "firmware" in reply.text  # what was understood, and from what
    assert "/background set" in reply.text  # and how to correct it


# --- follow-ups -------------------------------------------------------------------------------------

async def test_a_book_then_a_free_course_for_the_previous_topic(advisor: Advisor) -> None:
    first = await advisor.ask("f", "what maths should I brush up on for ML?")
    assert first.matches[0].id in ("maths-foundations", "how-much-maths")
    book = await advisor.ask("f", "any good book on that?")
    assert "Elements of Statistical Learning" in book.text and book.answered
    course = await advisor.ask("f", "and a free course for it?")
    assert "Khan Academy" in course.text or "Computational Linear Algebra" in course.text
    assert "Dead Simple Python" not in course.text  # still the maths, not another topic


async def test_what_comes_after_follows_the_roadmap(advisor: Advisor) -> None:
    await advisor.ask("n", "which programming language for machine learning?")
    after = await advisor.ask("n", "ok, and after I've got that down?")
    assert after.matches[0].id == "classical-ml" and "After" in after.text


async def test_how_to_practise_that_gives_the_best_way_to_learn_it(advisor: Advisor) -> None:
    await advisor.ask("p", "how do I learn MLOps?")
    reply = await advisor.ask("p", "how can I practise that on my own?")
    assert "Best way to learn" in reply.text and "engineering blogs" in reply.text


async def test_a_question_about_a_detail_of_the_previous_answer_stays_on_it(advisor: Advisor) -> None:
    await advisor.ask("d", "which course teaches the software side for data scientists?")
    reply = await advisor.ask("d", "what language does it use?")
    assert "JavaScript" in reply.text


async def test_a_new_topic_starts_afresh(advisor: Advisor) -> None:
    await advisor.ask("s", "how do I learn MLOps?")
    reply = await advisor.ask("s", "and what about interviews, what do they ask?")
    assert reply.matches[0].id == "interviews"


async def test_how_long_for_me_is_the_members_time_not_the_previous_topic(advisor: Advisor) -> None:
    await advisor.ask("t", "I'm a backend developer")
    reply = await advisor.ask("t", "how long would it take me?")
    assert "6 months" in reply.text


async def test_context_is_per_conversation_survives_a_restart_and_expires(tmp_path: Path, kb: Knowledge) -> None:
    path = tmp_path / "c.db"
    here, there = Place("1", "chan-a", True), Place("1", "chan-b", True)
    async with Storage(path) as storage:
        await Advisor(kb, storage).ask("m", "how do I learn MLOps?", here)
    async with Storage(path) as storage:  # a restart
        advisor = Advisor(kb, storage)
        kept = await advisor.ask("m", "is there a book for that?", here)
        assert "Machine Learning Yearning" in kept.text
        elsewhere = await advisor.ask("m", "is there a book for that?", there)  # another channel: no context
        assert "Machine Learning Yearning" not in elsewhere.text
        await storage.db.execute("UPDATE context SET updated_at = ?",
                                 ((datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds"),))
        expired = await advisor.ask("m", "is there a book for that?", here)
        assert "Machine Learning Yearning" not in expired.text


async def test_forget_me_deletes_the_conversation_context(advisor: Advisor) -> None:
    await advisor.ask("gone", "how do I learn MLOps?")
    await advisor.forget("gone")
    assert await advisor.storage.rows_about("gone") == 0
    reply = await advisor.ask("gone", "is there a book for that?")
    assert "Machine Learning Yearning" not in reply.text


# --- small talk -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["hiya folks!", "good evening all 👋", "cheers, super helpful", "thank you so much!!",
                                  "ok nice", "haha", "who are you?", "what can you do", "help", "are you a bot?",
                                  "r u an actual human", "so what do you actually do?", "am I talking to a bot?",
                                  "hey what's up", "hmm wait, are you chatgpt"])
async def test_small_talk_gets_a_friendly_reply_and_is_not_a_gap(advisor: Advisor, text: str) -> None:
    reply = await advisor.ask("chatty", text)
    assert reply.kind == "smalltalk" and reply.answered and not reply.matches
    assert "I don't know" not in reply.text
    assert await advisor.storage.gaps("local") == []


async def test_a_greeting_with_a_question_is_a_question(advisor: Advisor) -> None:
    reply = await advisor.ask("u", "hey all! where do I learn MLOps?")
    assert reply.matches and reply.matches[0].id == "mlops-production"


@pytest.mark.parametrize("text", ["what do you do with missing values", "are you sure python is enough?",
                                  "what do I do after linear algebra"])
async def test_questions_that_say_you_are_still_questions(advisor: Advisor, text: str) -> None:
    reply = await advisor.ask("u", text)
    assert reply.kind != "smalltalk" and reply.matches


async def test_never_done_is_not_a_finished_step(advisor: Advisor) -> None:
    reading = advisor.reader.read("my boss wants a churn forecast for next month and I have never done one")
    assert reading.followup != "next"


async def test_the_asking_sentence_wins_over_the_introduction_before_it(advisor: Advisor) -> None:
    message = ("QA engineer here, five years of Selenium and Jenkins. I'd like to move into machine learning "
               "one day. Do I need a lot of statistics for that?")
    reply = await advisor.ask("u", message)
    assert reply.matches[0].id in ("how-much-maths", "maths-foundations")
    assert reply.background == "it-operations"  # the introduction is still remembered


async def test_context_before_a_vague_question_still_counts(advisor: Advisor) -> None:
    # The last sentence alone names no topic: the one before it says what is asked.
    reply = await advisor.ask("u", "Our startup is putting together an ML team. Who do we bring on board first?")
    assert reply.matches[0].id in ("data-team-roles", "mle-vs-data-scientist")  # "a data scientist or an MLE first?"


async def test_about_the_bot_says_what_it_can_do(advisor: Advisor) -> None:
    reply = await advisor.ask("u", "what can you do?")
    assert "/roadmap" in reply.text and "/help" not in reply.title


# --- names typed into commands ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("typed", "step"),
    [("python", "learn-to-code"), ("maths", "maths-foundations"), ("nlp", "nlp-transformers"),
     ("neural nets", "deep-learning"), ("mlops", "mlops-production"), ("Classical ML", "classical-ml"),
     ("portfolio projects", "domain-projects"), ("job hunting", "getting-the-job")],
)
def test_typed_step_names_resolve(advisor: Advisor, typed: str, step: str) -> None:
    found = advisor.find_step(typed)
    assert found is not None and found.id == step


async def test_done_and_resources_accept_everyday_names(advisor: Advisor) -> None:
    done = await advisor.mark_done("u", "python")
    assert done.title == "Marked done" and "Learning to code" in done.text
    assert advisor.resources_reply("nlp").title == "Resources: NLP and transformer models"
    assert advisor.resources_reply("transformers").title == "Resources: NLP and transformer models"
    assert advisor.step_reply("maths").title == "Maths and statistics foundations"


def test_autocomplete_puts_the_obvious_step_first(advisor: Advisor) -> None:
    assert advisor.step_choices("python")[0][1] == "learn-to-code"
    assert advisor.topic_choices("nlp")[0][1] == "nlp-transformers"


# --- a reader remembers what it worked out for the message being read ------------------------------

def test_a_reader_reads_a_message_the_same_however_many_others_it_read_between(kb: Knowledge) -> None:
    """The reader keeps each text's words, background and asking part while a message is read; that memory
    is bounded, and a message read again after hundreds of others (the memory cleared) reads the same."""
    from bot.core.understand import Reader

    reader = Reader(kb)
    messages = ["I'm a physicist. Which maths do I need for deep learning?",
                "I teach chemistry, how do I get into ML?", "which statistics book, and is there a free course?"]
    first = [reader.read(m) for m in messages]
    assert first[0].found is not None and first[0].found.background == "physics"
    for n in range(600):
        reader.read(f"question {n}: what should I learn about neural networks number {n}?")
    assert [reader.read(m) for m in messages] == first
    assert [Reader(kb).read(m) for m in messages] == first
