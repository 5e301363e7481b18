"""Issue 13: reading a message's structure before its words. Markdown set aside, several questions
answered under their own headings, reactions as small talk, feelings acknowledged and answered with the
guides' advice, backgrounds from what people do, subjects the guides don't cover said plainly, maths
exercises declined, and "I've finished X" ticking the step off.

Every message here is written for these tests; none comes from the development or held-out sets.
"""

from __future__ import annotations

import pytest

from bot.core import feelings, parts, smalltalk
from bot.core.advisor import Advisor
from bot.core.format import MESSAGE_LIMIT
from bot.core.knowledge import Knowledge


def detect(kb: Knowledge, text: str):
    return kb.detector.detect(kb.detector.words(text))


# --- parts and Markdown (parts.py, alone) -------------------------------------------------------------

def test_a_code_block_is_set_aside_and_the_question_after_it_kept() -> None:
    text = parts.prose("```python\nimport numpy as np\nx = np.zeros((3, 3))\n```\nwhere do I learn to deploy this?").text
    assert "numpy" not in text and "zeros" not in text and text.endswith("deploy this?")


def test_a_link_to_a_listed_resource_becomes_its_name_and_other_links_their_words() -> None:
    names = {parts.url_key("https://fullstackopen.com/en/"): "Full Stack Open"}
    assert "Full Stack Open" in parts.prose("worth it? <https://fullstackopen.com/en/>", names).text
    assert "kaggle learn" in parts.prose("thoughts on https://www.kaggle.com/learn ?").text


def test_a_quote_is_read_only_when_the_rest_refers_to_it_or_says_too_little() -> None:
    quoted = parts.prose("> linear algebra is useless in practice\n\nis that right?").text
    assert "linear algebra" in quoted
    own = parts.prose("> lol same\n\nI spent the weekend reading about gradient boosting libraries for tabular work, "
                      "which course covers tree ensembles well?").text
    assert "lol same" not in own


def test_list_items_become_one_sentence_and_placeholders_are_not_questions() -> None:
    text = parts.prose("done so far:\n- python basics\n- ???\n- some statistics\n\nwhat's after that?").text
    assert "python basics, some statistics." in text.replace("\n", " ") or "python basics" in text
    assert "???" not in text


@pytest.mark.parametrize(
    ("message", "count"),
    [
        ("which editor should I use, and how do I learn git?", 2),
        ("how long does deep learning take; what book covers it?", 2),
        ("can you suggest a statistics text plus a podcast for the train?", 2),
        ("how do people remember commands and syntax?", 1),  # one thing asked about two nouns
        ("my GPU is tiny, where can I rent one?", 1),  # the first clause only sets the scene
    ],
)
def test_asking_parts_split_only_where_a_new_question_starts(message: str, count: int) -> None:
    assert len(parts.asking_parts(message, lambda part: len(part.split()))) == count


@pytest.mark.parametrize(
    ("message", "homework"),
    [
        ("please differentiate 3x^2 + 2x for me", True),
        ("what is the determinant of [[1, 2], [3, 4]]?", True),
        ("solve 2x + 7 = 15", True),
        ("where can I practise derivatives?", False),
        ("how much linear algebra do ML engineers use?", False),
    ],
)
def test_maths_to_solve_is_told_from_maths_to_learn(message: str, homework: bool) -> None:
    assert parts.homework(message) is homework


# --- small talk and feelings (alone) --------------------------------------------------------------------

@pytest.mark.parametrize(
    "message",
    ["lol ok that is a marathon not a sprint", "oof, my weekends are gone then 😂", "you're genuinely useful, bot",
     "wow this bot knows more than my professor", "phew, manageable then", "ugh fine. thanks anyway"],
)
def test_reactions_compliments_and_jokes_are_small_talk(message: str) -> None:
    assert smalltalk.reaction(message) is not None


@pytest.mark.parametrize(
    "message",
    ["ok what about computer vision?", "cool, give me the roadmap", "nice, I finished the python step",
     "haha ok but which book for statistics?"],
)
def test_a_reaction_that_asks_or_tells_something_is_not_small_talk(message: str) -> None:
    assert smalltalk.reaction(message) is None


@pytest.mark.parametrize(
    ("message", "feeling"),
    [
        ("I'm completely drained after a year of evening classes", "tired"),
        ("third company this month turned me down, I got rejected again", "rejected"),
        ("I feel like a fraud next to my colleagues", "doubt"),
        ("statistics honestly scares me", "afraid"),
        ("how do recruiters handle rejections?", None),  # nobody's own feeling
        ("what's the best book for transformers?", None),
    ],
)
def test_a_stated_feeling_is_named(message: str, feeling: str | None) -> None:
    assert feelings.feeling(message) == feeling


# --- backgrounds from what people do ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("I write Go services for an insurance company", "software"),
        ("I build Kotlin apps for a banking group", "software"),  # the employer's trade is not the role
        ("Spring Boot microservices are my day job", "software"),
        ("my day job is Tableau dashboards for the finance team", "analyst"),
        ("data analyst doing SQL reports all day", "analyst"),
        ("I teach biology at a high school", "unrelated-field"),  # a teacher, not a biologist
        ("I mostly do wireframes in Figma for a shopping app", "unrelated-field"),
        ("my whole career has been insurance claims", "unrelated-field"),
        ("finishing a PhD in astrophysics, lots of simulations", "physics"),
    ],
)
def test_what_people_do_maps_to_the_nearest_guide_background(kb: Knowledge, text: str, background: str) -> None:
    found = detect(kb, text)
    assert found is not None and found.about_self and found.background == background, found


def test_a_roadmap_step_named_after_a_field_is_not_a_background(kb: Knowledge) -> None:
    assert detect(kb, "I've finished the statistics step") is None


async def test_a_guessed_background_is_shown_with_how_to_correct_it(advisor: Advisor) -> None:
    reply = await advisor.ask("g1", "I keep the Kubernetes clusters of a streaming company running")
    assert reply.background == "it-operations" and "/background set" in reply.text and "“Kubernetes”" in reply.text


# --- whole messages through the advisor ------------------------------------------------------------------

async def test_two_questions_get_two_answers_under_their_own_headings_in_one_message(advisor: Advisor) -> None:
    reply = await advisor.ask("m1", "where do people find ML openings, and which podcasts should I listen to?")
    ids = [m.id for m in reply.matches]
    assert ids[:2] == ["job-search", "podcasts"]
    assert all(f"**{advisor.knowledge.topic(t).title}**" in reply.body for t in ids[:2])
    assert len(reply.text) <= MESSAGE_LIMIT


async def test_a_follow_up_inside_one_message_reads_as_one_question(advisor: Advisor) -> None:
    reply = await advisor.ask("m2", "I struggle with calculus, any course for it?")
    assert reply.matches[0].id in ("maths-foundations", "how-much-maths") and "Your questions" not in reply.title


async def test_code_does_not_drown_the_question(advisor: Advisor) -> None:
    message = "```python\nimport torch\nmodel = torch.load('weights.pt')\nprint(model(x))\n```\nhow do I let users call this model from a website?"
    reply = await advisor.ask("m3", message)
    assert reply.answered and reply.matches[0].id in ("mlops-production", "web-development")


async def test_a_reaction_right_after_an_answer_is_small_talk_not_a_replay(advisor: Advisor) -> None:
    first = await advisor.ask("r1", "how long does it take to become an ML engineer?")
    assert first.answered and first.matches
    reaction = await advisor.ask("r1", "wow, a long haul then 😅")
    assert reaction.kind == "smalltalk" and not reaction.matches


async def test_a_feeling_is_acknowledged_in_one_line_then_answered_with_the_guides_advice(advisor: Advisor) -> None:
    reply = await advisor.ask("f1", "I feel like a fraud, everyone in my cohort seems to understand more than me")
    first_line = reply.body.split("\n\n")[0]
    assert first_line == feelings.acknowledgement("doubt")
    assert reply.matches[0].id in ("become-an-expert", "how-hard")
    assert "younger self" in reply.body or "witchcraft" in reply.body



@pytest.mark.parametrize("name", sorted(feelings.FEELINGS))
def test_an_acknowledgement_gives_no_advice_of_its_own(name: str) -> None:
    """The line before the guides' advice only acknowledges: advice or a claim about other people there
    (\"change how you study\", \"many people feel that\") would be the bot's, not a guide's."""
    line = feelings.acknowledgement(name)
    assert line.count(".") == 1 and line.endswith(".")
    assert not {"should", "worth", "people", "most", "many", "everyone", "try", "instead"} & set(line.lower().rstrip(".").replace(",", "").split())

async def test_a_run_of_rejections_gets_the_job_hunting_advice(advisor: Advisor) -> None:
    reply = await advisor.ask("f2", "another rejection today, I honestly don't know what I'm doing wrong")
    assert reply.answered and reply.matches[0].id in ("getting-the-job", "portfolio")


@pytest.mark.parametrize(
    ("message", "about"),
    [
        ("how much salary does a senior ML engineer get?", "salar"),
        ("should I counter the offer, how do I negotiate?", "negotiat"),
        ("jax or pytorch for my first project?", "framework"),
    ],
)
async def test_a_subject_the_guides_dont_cover_is_said_plainly_never_passed_off(advisor: Advisor, message: str, about: str) -> None:
    reply = await advisor.ask("p1", message)
    assert not reply.matches and "don't cover" in reply.body and about in reply.body.lower()
    assert "**" in reply.body  # the topics that come closest are named


async def test_a_partly_covered_subject_gets_the_closest_advice_with_what_is_missing_said(advisor: Advisor) -> None:
    reply = await advisor.ask("p2", "would a data science bootcamp get me hired?")
    assert reply.answered and reply.matches[0].id == "university-route"
    assert "don't cover bootcamps" in reply.body


async def test_a_maths_exercise_is_declined_even_though_it_names_maths(advisor: Advisor) -> None:
    reply = await advisor.ask("h1", "compute the eigenvalues of [[3, 0], [0, 5]] please")
    assert not reply.answered and not reply.matches


async def test_saying_you_finished_a_step_ticks_it_off_like_done(advisor: Advisor) -> None:
    reply = await advisor.ask("d1", "I've just finished the deep learning step")
    assert "Ticked off" in reply.body and "/undo deep-learning" in reply.body
    roadmap = await advisor.roadmap("d1")
    assert "✅ **Deep learning**" in roadmap.text
    again = await advisor.ask("d1", "I've just finished the deep learning step")
    assert "Ticked off" not in again.body  # already done: nothing to tick


async def test_never_having_finished_something_ticks_nothing_off(advisor: Advisor) -> None:
    await advisor.ask("d2", "I have never finished the maths step, what now?")
    assert "✅" not in (await advisor.roadmap("d2")).text


# --- the misroutes of issue 13, fixed by how a message is read ------------------------------------------

async def test_going_from_a_field_to_ml_is_a_route_question(advisor: Advisor) -> None:
    reply = await advisor.ask("x1", "how would I get from chemistry to an ML engineering job?")
    assert reply.matches[0].id == "your-route" and reply.title.startswith("From ")


async def test_books_for_the_whole_field_are_listed_along_the_roadmap(advisor: Advisor) -> None:
    reply = await advisor.ask("x2", "which books are the must-reads for machine learning?")
    assert reply.answered and "along the roadmap" in reply.title
    assert "Goodfellow" in reply.body and "Elements of Statistical Learning" in reply.body
    assert "(course" not in reply.body  # books only


async def test_a_book_asked_for_a_topic_goes_to_that_topic_not_to_the_one_with_books(advisor: Advisor) -> None:
    reply = await advisor.ask("x3", "is there a good book on classical machine learning?")
    assert reply.matches[0].id == "classical-ml"


async def test_a_person_like_the_asker_mentioned_in_a_question_is_not_its_subject(advisor: Advisor) -> None:
    reply = await advisor.ask("x4", "what should a chemist study first?")
    assert reply.answered


async def test_a_field_mentioned_as_the_subject_of_an_off_topic_question_is_still_declined(advisor: Advisor) -> None:
    assert not (await advisor.ask("x5", "recommend a textbook on marine biology?")).answered


async def test_a_second_question_opening_with_and_or_also_is_answered_with_the_first(advisor: Advisor) -> None:
    reply = await advisor.ask("j1", "any good book on deep learning? also where can i grind algorithm problems?")
    assert [m.id for m in reply.matches[:2]] == ["deep-learning", "algorithms"]
    assert "Goodfellow" in reply.text and "LeetCode" in reply.text


async def test_a_second_question_with_no_subject_word_of_its_own_still_gets_its_own_answer(advisor: Advisor) -> None:
    reply = await advisor.ask("j2", "which deep learning course is best, and how many months does it usually take?")
    assert [m.id for m in reply.matches[:2]] == ["deep-learning", "time-to-learn"]
    assert "18 months" in reply.text


async def test_a_kind_of_resource_the_first_topic_lacks_is_answered_by_that_kinds_own_topic(advisor: Advisor) -> None:
    reply = await advisor.ask("j3", "do I really need calculus? and are there any podcasts you'd suggest?")
    assert [m.id for m in reply.matches[:2]] == ["how-much-maths", "podcasts"]
    assert "SE Daily" in reply.text
    # the same request as a follow-up in conversation: not "no podcasts filed under maths"
    await advisor.ask("j4", "is calculus really needed for this job?")
    follow = await advisor.ask("j4", "any podcasts on that?")
    assert follow.matches[0].id == "podcasts" and "SE Daily" in follow.text


async def test_each_part_asking_for_a_kind_of_resource_gets_those_resources(advisor: Advisor) -> None:
    reply = await advisor.ask("j5", "got a book to recommend for the linear algebra side, and which one for neural nets?")
    assert "Your questions" in reply.title
    assert "Elements of Statistical Learning" in reply.text and "Goodfellow" in reply.text


async def test_asking_for_more_of_the_same_part_keeps_one_answer_with_both_requests(advisor: Advisor) -> None:
    reply = await advisor.ask("j6", "which book covers classical machine learning, and is there a free one?")
    assert reply.matches[0].id == "classical-ml" and "Your questions" not in reply.title


async def test_a_part_the_guides_only_touch_is_said_plainly_beside_the_answered_part(advisor: Advisor) -> None:
    reply = await advisor.ask("j7", "how is an ML engineer different from a data scientist? also who gets paid more?")
    assert reply.matches[0].id == "mle-vs-data-scientist"
    assert "don't cover salaries" in reply.text


async def test_a_subject_that_is_also_a_books_title_does_not_name_the_book_when_a_course_is_wanted(advisor: Advisor) -> None:
    reply = await advisor.ask("j8", "is there a course that teaches deep learning well?")
    assert reply.matches[0].id == "deep-learning"
    assert not reply.body.startswith("• [Deep Learning (Goodfellow")


async def test_a_link_to_a_site_of_ours_names_its_resource_even_without_the_full_address(advisor: Advisor) -> None:
    reply = await advisor.ask("l1", "has anyone tried www.fast.ai? worth it if I can already program?")
    assert reply.matches[0].id == "deep-learning" and "fast.ai" in reply.text


def test_a_site_is_read_without_its_first_label() -> None:
    assert parts.url_site("https://course.fast.ai/lesson1") == "fast.ai"
    assert parts.url_site("www.bbc.co.uk/news") == "bbc.co.uk"


async def test_a_clause_about_the_asker_before_a_comma_is_the_background_and_the_rest_the_question(advisor: Advisor) -> None:
    reply = await advisor.ask("l2", "I manage a chemistry research lab and I'm curious about ML engineering, how many months would I need?")
    assert reply.background == "other-science" and reply.matches[0].id == "time-to-learn"


async def test_slang_for_feeling_hopeless_is_not_read_as_cooking(advisor: Advisor) -> None:
    reply = await advisor.ask("l3", "ngl i'm so cooked, forty applications and not a single interview")
    assert reply.answered and reply.matches and reply.matches[0].id in ("getting-the-job", "portfolio", "job-search")


@pytest.mark.parametrize("message", ["what do ML engineers make a year?", "does this job pay better than backend work?"])
async def test_asking_what_the_job_pays_in_other_words_is_said_plainly_to_be_outside_the_guides(advisor: Advisor, message: str) -> None:
    reply = await advisor.ask("l4", message)
    assert "don't cover salaries" in reply.text


@pytest.mark.parametrize(
    "message",
    ["nighty night all", "👍", "🙏", ":)", "bot u still awake??", "who built you lol", "oops sorry for the huge message",
     "never mind, solved it", "lol you're hilarious", "honestly love this community"],
)
def test_farewells_emoji_apologies_and_questions_to_the_bot_are_small_talk(message: str) -> None:
    assert smalltalk.classify(message) or smalltalk.reaction(message)


@pytest.mark.parametrize("message", ["this kind of course is what I need", "the course is based on pytorch, ok?", "?", ""])
def test_words_near_small_talk_inside_a_statement_or_nothing_at_all_are_not_small_talk(message: str) -> None:
    assert not (smalltalk.classify(message) or smalltalk.reaction(message))


async def test_a_list_asked_about_as_a_whole_is_checked_against_the_roadmap(advisor: Advisor) -> None:
    message = "here's my idea:\n* python\n* deep learning\n* apply for jobs\nis anything missing here?"
    reply = await advisor.ask("p1", message)
    assert reply.title == "Your plan against the roadmap" and reply.answered
    assert "➕ **MLOps and production ML**" in reply.body  # left out, and said so
    assert "✓ Deep learning" in reply.body  # in the list


async def test_a_list_with_a_question_of_its_own_is_that_question(advisor: Advisor) -> None:
    reply = await advisor.ask("p2", "things I keep seeing:\n- numpy\n- pandas\nwhich course teaches these properly?")
    assert reply.title != "Your plan against the roadmap"


async def test_a_plan_naming_courses_instead_of_steps_ticks_the_steps_they_teach(advisor: Advisor) -> None:
    reply = await advisor.ask("p3", "progress:\n1. CS50 ✅\n2. Andrew Ng's ML specialization ✅\n3. ???\nwhat fills the gap in 3?")
    assert reply.matches[0].id == "deep-learning" and "Ticked off" in reply.body


@pytest.mark.parametrize("message", ["I'm 44 — can I still become an ML engineer?",
                                     "52 years old here, could I still get hired in ML?"])
async def test_an_age_is_read_as_age_and_answered_with_what_the_guides_do_and_do_not_say(advisor: Advisor, message: str) -> None:
    reply = await advisor.ask("a1", message)
    assert reply.matches[0].id == "career-change" and "say nothing about age" in reply.text


@pytest.mark.parametrize("message", ["I'm 40 hours into the course, what comes after it?", "applied to 30 jobs, at 30 applications now"])
def test_numbers_that_are_not_an_age_stay_numbers(kb: Knowledge, message: str) -> None:
    from bot.core.understand import _AGE
    assert not _AGE.search(message)


def test_words_the_stemmer_would_merge_with_another_stay_apart() -> None:
    from bot.core.text import stem
    assert stem("consistent") != stem("consist") and stem("experiments") != stem("experience")


async def test_staying_consistent_is_about_study_habits_not_what_interviews_consist_of(advisor: Advisor) -> None:
    reply = await advisor.ask("a2", "i keep putting things off. how do you stay consistent with studying?")
    assert reply.matches[0].id == "learning-approach"


async def test_can_someone_explain_after_the_real_question_does_not_replace_it(advisor: Advisor) -> None:
    for i, message in enumerate((
            "I studied geology and now do GIS work for a council. I honestly can't tell how an ML engineer's job "
            "differs from a data scientist's. could anyone explain?",
            "geologist here, GIS work for a council. what's the difference between a data scientist and an ML "
            "engineer, could anyone explain?")):
        reply = await advisor.ask(f"r1{i}", message)
        assert reply.matches[0].id == "mle-vs-data-scientist" and reply.background == "other-science"


@pytest.mark.parametrize(("text", "background"), [("background in electrical engineering, mostly PLC work", "other-science"),
                                                   ("my situation: final year of an econometrics masters", "maths-statistics")])
def test_a_background_introduced_as_background_or_situation_is_about_the_asker(kb: Knowledge, text: str, background: str) -> None:
    found = detect(kb, text)
    assert found is not None and found.background == background and found.about_self


async def test_a_question_pointing_back_at_the_sentence_before_is_read_with_it(advisor: Advisor) -> None:
    message = "our team has years of support tickets that nobody analyses. how would I get ML experience from this?"
    reply = await advisor.ask("r2", message)
    assert reply.answered and reply.matches


@pytest.mark.parametrize(("message", "topic"), [
    ("I deliver parcels for a living, could someone like me move into this field?", "how-hard|your-route|career-change"),
    ("is object detection for autonomous driving a good niche to go deep on?", "domain-projects"),
    ("ML eng vs data sci for someone who loves coding?", "mle-vs-data-scientist"),
])
async def test_phrases_are_read_whole_not_by_a_word_that_means_something_else_alone(advisor: Advisor, message: str, topic: str) -> None:
    reply = await advisor.ask("w1", message)
    assert reply.answered and reply.matches[0].id in topic.split("|")


@pytest.mark.parametrize(("message", "after", "step"), [
    ("what's next after the deep learning part of the roadmap?", "deep-learning", "nlp-transformers"),
    ("after MLOps, what do I do?", "mlops-production", "getting-the-job"),
])
async def test_asking_what_comes_after_a_step_gives_the_step_after_it(advisor: Advisor, message: str, after: str, step: str) -> None:
    reply = await advisor.ask("n1", message)
    assert reply.matches[0].id == step
    assert f"After **{advisor.knowledge.topic(after).title}** comes" in reply.body


async def test_after_something_that_is_no_step_is_an_ordinary_question(advisor: Advisor) -> None:
    reply = await advisor.ask("n2", "what should I learn after I finish my degree?")
    assert "comes **" not in reply.body


@pytest.mark.parametrize(("message", "topic"), [("list me a few good ML blogs", "blogs"), ("drop some podcasts pls", "podcasts")])
async def test_a_request_verb_is_no_subject_when_asking_for_a_kind_with_its_own_topic(advisor: Advisor, message: str, topic: str) -> None:
    assert (await advisor.ask("n3", message)).matches[0].id == topic


async def test_a_subject_sharing_a_books_title_does_not_reorder_the_answer_around_the_book(advisor: Advisor) -> None:
    reply = await advisor.ask("n4", "can I skip classical ML and jump straight into deep learning?")
    assert reply.matches[0].id in ("shallow-before-deep", "classical-ml")  # where the guides differ on the order


@pytest.mark.parametrize("message", ["who's Max Mynter btw?", "who writes the guides your answers use?"])
async def test_asking_who_wrote_the_guides_gets_the_guides(advisor: Advisor, message: str) -> None:
    reply = await advisor.ask("s1", message)
    assert reply.title == "About MLE Advisor" and "Mynter" in reply.body and reply.answered


async def test_asking_who_someone_else_is_is_an_ordinary_question(advisor: Advisor) -> None:
    reply = await advisor.ask("s2", "who is Andrej Karpathy and why is he quoted?")
    assert reply.title != "About MLE Advisor"


async def test_staying_up_to_date_is_about_what_to_read_not_keeping_models_current(advisor: Advisor) -> None:
    reply = await advisor.ask("s3", "how does everyone stay up to date with all the new ML stuff?")
    assert reply.matches[0].id in ("blogs", "communities", "podcasts")


async def test_everyday_words_for_things_happening_at_once_reach_concurrency(advisor: Advisor) -> None:
    reply = await advisor.ask("s4", "my preprocessing script breaks whenever two workers write the same file simultaneously")
    assert reply.answered and reply.matches[0].id == "advanced-engineering"


async def test_fashion_modelling_is_not_ours(advisor: Advisor) -> None:
    assert not (await advisor.ask("s5", "tips for a first fashion modelling portfolio shoot?")).answered


async def test_three_questions_after_a_lead_in_are_all_answered(advisor: Advisor) -> None:
    reply = await advisor.ask("t1", "three quick questions: how long does the switch take, what maths do I need, and which course first?")
    ids = [m.id for m in reply.matches]
    assert "time-to-learn" in ids and ids[1] in ("how-much-maths", "maths-foundations") and len(ids) == 3


@pytest.mark.parametrize(("message", "step"), [("just finished the deep learning step, now what?", "deep-learning"),
                                                ("done with the NLP stage, what next?", "nlp-transformers")])
async def test_finishing_a_step_named_with_the_word_step_ticks_that_step(advisor: Advisor, message: str, step: str) -> None:
    reply = await advisor.ask("t2", message)
    assert f"Ticked off ✅ **{advisor.knowledge.topic(step).title}**" in reply.body


async def test_courses_done_but_recruiters_silent_is_answered_about_getting_noticed(advisor: Advisor) -> None:
    reply = await advisor.ask("t3", "I did Andrew Ng's specialization and the fast.ai course, but recruiters never reply")
    assert reply.matches[0].id in ("portfolio", "getting-the-job") and "discouraging" in reply.body


@pytest.mark.parametrize("message", ["**TL;DR** teacher -> ML engineer, doable??", "chemist → MLE: realistic?"])
async def test_an_arrow_reads_as_from_to_and_a_tldr_label_is_not_a_sentence(advisor: Advisor, message: str) -> None:
    reply = await advisor.ask("ar1", message)
    assert reply.answered and reply.matches


async def test_tools_in_a_list_count_as_the_steps_they_belong_to(advisor: Advisor) -> None:
    reply = await advisor.ask("ar2", "what I know:\n- numpy and pandas\n- scikit-learn\nwhat should I add to be job ready?")
    assert reply.title == "Your plan against the roadmap"
    assert "✓ Learning to code" in reply.body and "✓ Classical" in reply.body


@pytest.mark.parametrize("message", ["anyone around? 👀", "my bad for flooding the chat earlier", "gn, ttyl", "tell me a joke, i need one"])
def test_more_everyday_small_talk(message: str) -> None:
    assert smalltalk.classify(message)


async def test_a_subject_the_guides_skip_beside_one_they_cover_is_said_and_the_covered_one_answered(advisor: Advisor) -> None:
    reply = await advisor.ask("k1", "is it possible to get a remote ML role while staying in Cairo?")
    assert reply.matches[0].id == "job-search" and "don't cover remote work" in reply.text


async def test_a_subject_the_guides_skip_alone_is_still_declined_plainly(advisor: Advisor) -> None:
    reply = await advisor.ask("k2", "any tips to negotiate a better ML offer?")
    assert not reply.answered and "don't cover negotiating" in reply.text


async def test_a_vague_question_pointing_back_is_read_with_the_sentence_it_points_to(advisor: Advisor) -> None:
    reply = await advisor.ask("k3", "no course ever shows how to clean messy real-world data. is this really most of the work?")
    assert reply.matches[0].id == "data-prep" and "80%" in reply.text


async def test_a_verb_sharing_a_courses_stem_does_not_name_the_course(advisor: Advisor) -> None:
    reply = await advisor.ask("k4", "do ML engineers specialise in one kind of data?")
    assert "Specialisation (Andrew Ng)" not in reply.body.split("\n", 1)[0]


@pytest.mark.parametrize(("message", "topic"), [("which book slaps for classic ML theory? need smth goated", "how-much-maths|maths-foundations|classical-ml"),
                                                ("I'm an Egyptian developer, which companies here do AI?", "job-search")])
async def test_slang_and_nationalities_are_read_as_plain_words(advisor: Advisor, message: str, topic: str) -> None:
    reply = await advisor.ask("k5", message)
    assert reply.answered and reply.matches[0].id in topic.split("|")


@pytest.mark.parametrize(("message", "about"), [("is pytorch better than tensorflow if I want a job?", "which framework"),
                                                ("will LLMs make ML engineers obsolete in 5 years?", "where the field is heading")])
async def test_partly_covered_subjects_in_other_words_are_said_plainly(advisor: Advisor, message: str, about: str) -> None:
    reply = await advisor.ask("pc1", message)
    assert f"don't cover {about}" in reply.text


async def test_another_language_than_python_gets_what_the_guides_say_about_python(advisor: Advisor) -> None:
    reply = await advisor.ask("pc2", "should I learn Julia or Rust for machine learning?")
    assert reply.matches[0].id == "learn-to-code" and "gold standard" in reply.text


async def test_a_background_with_only_does_this_suit_me_gets_their_route(advisor: Advisor) -> None:
    reply = await advisor.ask("bg1", "could ML work for someone like me? I drive a delivery van")
    assert reply.background == "unrelated-field" and reply.title.startswith("From an unrelated field")


@pytest.mark.parametrize(("text", "background"), [("EE grad, I write firmware for sensors", "other-science"),
                                                   ("warehouse supervisor for 9 years", "unrelated-field")])
def test_more_jobs_map_to_the_nearest_guide_background(kb: Knowledge, text: str, background: str) -> None:
    found = detect(kb, text)
    assert found is not None and found.background == background


async def test_a_finished_course_told_before_what_now_ticks_its_step(advisor: Advisor) -> None:
    message = ("quick update: finally done with the fast.ai course!! the last lesson was brutal. made a tiny plant "
               "classifier for my mum. so... what now?")
    reply = await advisor.ask("h1", message)
    assert "Ticked off ✅ **Deep learning**" in reply.body


@pytest.mark.parametrize("message", ["ngl the maths is lowkey cooking me, do i even need it fr?",
                                     "tryna secure the bag as an MLE, what's the speedrun from SWE?"])
async def test_chat_filler_and_slang_do_not_drown_the_question(advisor: Advisor, message: str) -> None:
    reply = await advisor.ask("h2", message)
    assert reply.answered and reply.matches


@pytest.mark.parametrize(("text", "background"), [("secondary maths teacher in Leeds.", "maths-statistics"),
                                                   ("nurse at a small clinic, 10 years", "unrelated-field")])
def test_a_role_with_where_it_is_done_is_about_the_asker(kb: Knowledge, text: str, background: str) -> None:
    found = detect(kb, text)
    assert found is not None and found.background == background and found.about_self


async def test_which_course_to_start_with_after_a_route_gives_the_first_steps_courses(advisor: Advisor) -> None:
    await advisor.ask("h3", "I'm a data analyst")
    await advisor.ask("h3", "how do I become an ML engineer?")
    reply = await advisor.ask("h3", "ok so which course do I start with then?")
    assert "CS50" in reply.text or "Andrew Ng" in reply.text


def test_brb_and_games_hardware_are_not_ours() -> None:
    assert smalltalk.classify("brb grabbing coffee")


def test_a_progress_table_is_read_as_a_ticked_list() -> None:
    read = parts.prose("| topic | state |\n|---|---|\n| python | done |\n| git | ✅ |\n| maths | not yet |\n\nwhat's next?")
    assert read.plan is not None and read.plan.items == ("python", "git", "maths") and read.plan.ticked == (True, True, False)


async def test_labels_like_context_and_question_are_not_part_of_what_is_said(advisor: Advisor) -> None:
    reply = await advisor.ask("md1", "**Context:** chemist, 6 years in a pharma lab\n**Question:** what am I missing for MLE?")
    assert reply.background == "other-science" and reply.answered


def test_behind_an_api_is_no_feeling_but_falling_behind_is() -> None:
    assert feelings.feeling("how do I put my model behind an API?") is None
    assert feelings.feeling("I feel so far behind everyone in my cohort") == "doubt"


@pytest.mark.parametrize(("message", "feeling"), [("my confidence is shot after that interview", "doubt"),
                                                   ("I keep quitting courses halfway and hate myself for it", "down")])
def test_more_ways_of_stating_a_feeling(message: str, feeling: str) -> None:
    assert feelings.feeling(message) == feeling


async def test_quitting_courses_halfway_is_about_how_to_study(advisor: Advisor) -> None:
    reply = await advisor.ask("fe1", "I keep quitting courses halfway and hate myself for it")
    assert reply.matches[0].id == "learning-approach"


async def test_a_part_asking_where_to_learn_something_lists_its_resources(advisor: Advisor) -> None:
    reply = await advisor.ask("wl1", "how long does the switch take, and where's the best place to learn linear algebra?")
    assert "time-to-learn" in [m.id for m in reply.matches] and "Rachel Thomas" in reply.text
