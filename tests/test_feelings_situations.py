"""Issue 13, the knowledge's part: feelings and situations the guides' advice answers, backgrounds told
from what people do, and subjects the guides only touch answered with what they do say.

Every message here is written for these tests, in wordings that are neither the knowledge's own `ask`
lines nor anything from the development or held-out sets: what is tested is that a *kind* of message
reaches the advice, not that one sentence does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import feelings
from bot.core.advisor import Advisor
from bot.core.knowledge import Knowledge, KnowledgeError, load_knowledge
from bot.core.place import Place

# --- feelings, alone (feelings.py) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "feeling"),
    [
        ("my career has plateaued and I don't see where to go", "stuck"),
        ("I feel stuck at my company, same reports every quarter", "stuck"),
        ("two years in the same role and I've hit a wall", "stuck"),
        ("I'm stuck on this gradient bug, any idea?", None),  # stuck on an exercise: no feeling stated
        ("honestly I'm so tired after another evening of lectures", "tired"),
    ],
)
def test_being_stuck_where_one_is_is_a_feeling_but_a_stuck_exercise_is_not(message: str, feeling: str | None) -> None:
    assert feelings.feeling(message) == feeling


def test_no_word_that_states_a_feeling_reads_as_another_subject(kb: Knowledge) -> None:
    """"tired" once stemmed like "tires", so an exhausted learner was declined as asking about cars."""
    cues = set().union(*(words for words, _ in feelings.FEELINGS.values()))
    cues |= {phrase for phrase, _ in feelings.PHRASES}  # a phrase is read whole ("so cooked" is not cooking)
    clashes = {w: kb.index.outside[s] for w in cues for s in kb.normalizer.stems(w)
               if s in kb.index.outside and not kb.index.knows(s)}
    assert not clashes, clashes


# --- situations and feelings through the advisor -----------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "accepted"),
    [
        # work that never reaches anyone
        ("the dashboards and models I make just sit on my hard drive, none of it ever goes live",
         "simple-models|software-engineering|web-development|mlops-production"),
        # experiments run by hand
        ("each time I want to try another learning rate I open the file and change it manually",
         "why-software-engineering|mlops-production"),
        # following along but not able to work alone
        ("when the lecturer types, everything makes sense; alone in an empty file I'm blank",
         "learning-approach|become-an-expert"),
        # restarting with a new plan again and again
        ("third time this year I've thrown away my study plan for a shinier roadmap", "learning-approach"),
        # what self-study leaves out
        ("which parts of the job will no online class prepare me for?", "data-prep|ask-for-help|networking"),
        # is a strong programmer quicker at ML (Brockman, through the CSDN translation)
        ("will being a very good programmer make the machine learning side quick to pick up?", "why-software-engineering"),
        # how long one portfolio piece should take
        ("roughly how much time do people sink into a single showcase project?", "portfolio"),
        # how companies screen
        ("what do firms check when they're hiring someone for an ML role?", "interviews"),
        # dull textbooks, resources for practitioners
        ("linear algebra textbooks bore me to tears, anything for people who just want to apply ML?",
         "maths-foundations|how-much-maths"),
    ],
)
async def test_a_situation_described_without_the_topic_name_reaches_the_advice(advisor: Advisor, message: str,
                                                                               accepted: str) -> None:
    reply = await advisor.ask("s", message)
    assert reply.answered and reply.matches, reply.text
    assert reply.matches[0].id in accepted.split("|"), [(m.id, m.score) for m in reply.matches[:3]]


async def test_comparing_oneself_with_fast_hires_online_gets_karpathys_rule_after_one_line(advisor: Advisor) -> None:
    reply = await advisor.ask("c", "people on twitter announce ML offers after a few months of study and I feel so behind")
    first, rest = reply.body.split("\n\n", 1)
    assert first == feelings.acknowledgement("doubt")
    assert reply.matches[0].id == "become-an-expert" and "younger self" in rest


async def test_an_exhausted_learner_is_answered_not_declined_as_a_question_about_cars(advisor: Advisor) -> None:
    reply = await advisor.ask("t", "so tired, months of studying after my shift and I can't tell if any of it works")
    assert reply.answered and reply.body.startswith(feelings.acknowledgement("tired"))
    assert reply.matches[0].id == "learning-approach"


async def test_a_data_scientist_feeling_stuck_hears_the_career_ceiling_for_their_start(advisor: Advisor) -> None:
    await advisor.ask("d", "I'm a data scientist, mostly churn models")
    reply = await advisor.ask("d", "lately I feel stuck, the job isn't going anywhere")
    assert reply.body.startswith(feelings.acknowledgement("stuck"))
    assert reply.matches[0].id == "your-route" and "ceiling" in reply.body


# --- backgrounds from what people do ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("I ship Swift apps to the App Store for a living", "software"),
        ("kotlin android dev, 6 yrs", "software"),  # a trade's word before the role, then a duration
        ("I'm already a dev, what's the quickest route for me?", "software"),
        ("I mainly write Go services at a logistics firm", "software"),
        ("I run PCR and assays all day in a biotech lab", "other-science"),
        ("I drive for uber on weekdays", "unrelated-field"),
        ("I studied music, then worked in a record shop", "unrelated-field"),
        ("I teach maths at a secondary school", "maths-statistics"),  # as "maths teacher" is filed
        ("I teach chemistry at a secondary school", "unrelated-field"),  # a teacher: no chemistry teacher is filed
    ],
)
def test_a_job_described_by_what_people_do_finds_the_nearest_guide_background(kb: Knowledge, text: str,
                                                                             background: str) -> None:
    found = kb.detector.detect(kb.detector.words(text))
    assert found is not None and found.about_self and found.background == background, found


@pytest.mark.parametrize(
    "text",
    [
        "I listen to music while I study, does that hurt learning ML?",  # music is what they do, not who they are
        "am I basically starting from zero?",  # asked, not stated
    ],
)
def test_a_stray_word_is_no_background_of_ones_own(kb: Knowledge, text: str) -> None:
    found = kb.detector.detect(kb.detector.words(text))
    assert found is None or not found.about_self, found


@pytest.mark.parametrize(
    "intro",
    ["I write backend services in Java, 7 yrs now", "I'm a data scientist, 4 years, mostly pandas and xgboost"],
)
async def test_an_introduction_with_its_tools_and_years_is_a_statement_not_a_question(advisor: Advisor, intro: str) -> None:
    reply = await advisor.ask("i", intro)
    assert reply.answered and not reply.matches and reply.background in ("software", "data-science"), reply.title
    assert reply.title.startswith("From ")  # the route for that start, not a topic picked from "years" or "pandas"


async def test_a_github_full_of_small_projects_is_a_portfolio_question_not_a_finished_git_step(advisor: Advisor) -> None:
    """"github" is a place people show work, not the git step: nothing is ticked off, and the portfolio advice answers."""
    reply = await advisor.ask("g", "I've done a dozen small guided projects and nobody looks at my github")
    assert reply.matches[0].id == "portfolio" and "Ticked off" not in reply.body


async def test_a_developers_speedrun_question_gets_the_developers_figure(advisor: Advisor) -> None:
    reply = await advisor.ask("v", "already a dev, what's the speedrun into ML engineering?")
    assert reply.answered and reply.background == "software"
    assert "six months" in reply.body or "6 months" in reply.body


# --- partial coverage: what the guides say, and plainly what they don't -----------------------------------------


@pytest.mark.parametrize(
    ("message", "about", "said"),
    [
        ("do ML engineers make more money than data scientists?", "salar", "ceiling"),
        ("tensorflow vs pytorch for a first deep learning project?", "framework", "fast.ai"),
    ],
)
async def test_a_subject_the_guides_only_touch_gets_what_they_say_and_what_they_dont(
        advisor: Advisor, message: str, about: str, said: str) -> None:
    reply = await advisor.ask("u", message)
    assert reply.answered and not reply.matches  # nothing passed off as the answer
    assert "don't cover" in reply.body and about in reply.body.lower() and said in reply.body
    assert "Mynter" in reply.credit  # what they do say is credited to the guides that say it


async def test_a_subject_the_guides_only_touch_stays_a_gap_for_moderators(advisor: Advisor) -> None:
    place = Place.server("9", "c")
    await advisor.ask("u1", "which pays better, ML engineering or data science?", place)
    listed = await advisor.gaps("9")
    assert listed and listed[0].unanswered == 1


def test_what_the_guides_say_about_an_uncovered_subject_needs_its_sources(kb_copy: Path) -> None:
    path = kb_copy / "off_topic.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    sources: [mynter]\n", "", 1), encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert any("'says' needs the 'sources'" in p.message for p in info.value.problems)
