"""Issue 13, the reader in conversation: small talk told by its shape (greetings, praise, asking for
luck), follow-ups that name a part of what was discussed, "then" as "in that case", and a resource kind
that has a topic of its own.

Every message here is written for these tests; none comes from the development or held-out sets.
"""

from __future__ import annotations

import pytest

from bot.core import parts, smalltalk
from bot.core.advisor import FRAME, Advisor

# --- small talk, alone ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "kind"), [
    ("good afternoon crew 🌤", "greeting"),
    ("evening fam", "greeting"),
    ("fingers crossed for my onsite on friday", "luck"),
    ("here goes nothing 😬", "luck"),
    ("ok wish me the best, final round tomorrow", "luck"),
    # words said with feeling, and small talk with its circumstances
    ("bahahaha okayyy", "ack"),
    ("heyyy everyoneee", "greeting"),
    ("thank youuu sooo much", "thanks"),
    ("wait are you a human or just some ai lol", "about"),
    ("final round in 20 minutes, fingers crossed", "luck"),
])
def test_greetings_and_asking_for_luck_are_small_talk(message: str, kind: str) -> None:
    assert smalltalk.classify(message) == kind


def test_a_long_laugh_opening_a_remark_is_a_reaction() -> None:
    assert smalltalk.reaction("lmaoooo welp my weekends are gone then") is not None
    assert smalltalk.reaction("hahaha so which course comes after cs50?") is None  # a question after the laugh


@pytest.mark.parametrize("message", ["honestly this advisor slaps", "ngl you ate with that answer",
                                     "this thing is lowkey goated", "solid gold advice, cheers"])
def test_praise_said_as_slang_is_a_reaction(message: str) -> None:
    assert smalltalk.reaction(message) is not None


@pytest.mark.parametrize("message", ["okay, will give that a go", "sounds fair, noted", "no worries at all"])
def test_acknowledgements_said_as_phrases_are_small_talk(message: str) -> None:
    assert smalltalk.classify(message) is not None or smalltalk.reaction(message) is not None


@pytest.mark.parametrize("message", ["this course is based on pytorch", "this makes me sick, rejected again",
                                     "will I do well without a degree", "sounds good but which book first",
                                     "good luck finding a job without maths?", "how do i go from sales to ml"])
def test_words_that_only_look_like_small_talk_are_not(message: str) -> None:
    assert smalltalk.classify(message) is None and smalltalk.reaction(message) is None


async def test_praise_naming_a_topic_word_is_not_answered_as_that_topic(advisor: Advisor) -> None:
    await advisor.ask("s1", "how long until I can apply for ML jobs?")
    reply = await advisor.ask("s1", "this bot really goes hard, no cap")
    assert reply.kind == "smalltalk" and not reply.matches


async def test_asking_for_luck_gets_luck_not_a_refusal(advisor: Advisor) -> None:
    reply = await advisor.ask("s2", "fingers crossed for tomorrow 🤞")
    assert reply.kind == "smalltalk" and reply.answered and "luck" in reply.text.lower()


# --- follow-ups naming a part: the conversation's topic carries over as a slot --------------------------


async def test_a_follow_up_naming_a_part_answers_that_part_with_the_kind_asked(advisor: Advisor) -> None:
    await advisor.ask("p1", "what happens in an ML engineer interview loop?")
    coding = await advisor.ask("p1", "is there a site where I can drill the coding part?")
    assert coding.matches[0].id == "algorithms" and "LeetCode" in coding.text
    design = await advisor.ask("p1", "ok and what about that ml systems design side?")
    assert design.matches[0].id == "mlops-production" and "CS 329S" in design.text


async def test_a_part_follow_up_remembers_the_topic_it_is_part_of(advisor: Advisor) -> None:
    await advisor.ask("p2", "what happens in an ML engineer interview loop?")
    await advisor.ask("p2", "is there a site where I can drill the coding part?")
    memory = await advisor._memory("p2", advisor_place())
    assert (memory.previous, memory.frame) == ("algorithms", "interviews")
    await advisor.ask("p2", "is there a book for that?")  # an ordinary follow-up ends the frame
    memory = await advisor._memory("p2", advisor_place())
    assert memory.frame is None and FRAME not in (memory.previous or "")


async def test_a_part_named_by_an_abbreviation_gets_its_topic(advisor: Advisor) -> None:
    await advisor.ask("p3", "I'm a graphic designer, where do I even begin?")
    reply = await advisor.ask("p3", "do you know a course for the lin alg bit?")
    assert reply.answered and reply.matches[0].id in ("maths-foundations", "how-much-maths")
    assert "Linear Algebra" in reply.text


async def test_a_part_that_names_no_topic_is_an_ordinary_follow_up(advisor: Advisor) -> None:
    await advisor.ask("p4", "how do I learn MLOps?")
    reply = await advisor.ask("p4", "is there a book for the first part?")
    assert reply.matches and reply.matches[0].id == "mlops-production"


async def test_an_aside_about_something_else_is_not_answered_with_the_last_topic(advisor: Advisor) -> None:
    await advisor.ask("a1", "how do I learn MLOps?")
    aside = await advisor.ask("a1", "oh and could you proofread these wedding invitations for me")
    assert not aside.matches and not aside.answered
    still = await advisor.ask("a1", "and is there a book for it?")  # the conversation itself is not lost
    assert still.matches and still.matches[0].id == "mlops-production"


async def test_then_closing_a_question_means_in_that_case_not_after_that(advisor: Advisor) -> None:
    await advisor.ask("t1", "I've been writing Java backends for six years")
    reply = await advisor.ask("t1", "so how many months then?")
    assert reply.matches[0].id == "time-to-learn" and "After " not in reply.body.split("\n")[0]
    after = await advisor.ask("t1", "and then?")
    assert after.body.startswith("After ")


# --- a kind of resource with a topic of its own ----------------------------------------------------------


async def test_a_kind_with_its_own_topic_is_answered_by_that_topic(advisor: Advisor) -> None:
    reply = await advisor.ask("k1", "which podcasts are worth it for machine learning?")
    assert reply.matches and reply.matches[0].id == "podcasts"
    both = await advisor.ask("k2", "can you point me to an ML podcast? and some blogs as well?")
    assert {m.id for m in both.matches} >= {"podcasts", "blogs"}


async def test_a_kind_without_a_topic_of_its_own_is_still_listed_along_the_roadmap(advisor: Advisor) -> None:
    reply = await advisor.ask("k3", "good textbooks on machine learning?")
    assert "along the roadmap" in reply.title.lower()


def advisor_place():
    from bot.core.place import LOCAL_PLACE

    return LOCAL_PLACE


# --- what Markdown holds besides prose: a plan, code that says who the member is -------------------------


def test_a_list_that_ticks_items_off_or_leaves_one_open_is_a_plan() -> None:
    listed = parts.prose("- [x] python\n- [x] statistics\n- [ ] ???\nthen what").plan
    assert listed is not None and listed.items == ("python", "statistics") and listed.open
    assert parts.prose("- numpy\n- pandas\nwhich of these first?").plan is None  # a plain list of things


async def test_a_plan_asking_for_its_open_item_gets_the_step_after_the_furthest_reached(advisor: Advisor) -> None:
    reply = await advisor.ask("l1", "roadmap so far\n1) harvard cs50 ✔\n2) fast.ai ✔\n3) ...\n\nwhat should 3 be?")
    assert reply.answered and "After **Deep learning** comes" in reply.body


async def test_a_plan_with_a_question_of_its_own_answers_that_question(advisor: Advisor) -> None:
    reply = await advisor.ask("l2", "- python ✅\n- ???\n\nwhich statistics textbook is best?")
    assert reply.matches and not reply.body.startswith("After ")


async def test_an_introduction_written_as_code_still_states_a_background(advisor: Advisor) -> None:
    reply = await advisor.ask("l3", '```kotlin\nval me = Engineer(role = "android developer")\n```\nyep, me in a nutshell')
    assert reply.background == "software"


def test_this_in_a_question_about_model_code_is_that_model() -> None:
    text = parts.prose("```\nclf = RandomForestClassifier().fit(X, y)\n```\nwhat's the route from this to a web app?").text
    assert "this model" in text
    plain = parts.prose("```\nfor i in range(3): print(i)\n```\nwhy does this loop print twice?").text
    assert "model" not in plain


async def test_a_background_told_earlier_lets_the_answer_that_fits_it_win_a_close_call(advisor: Advisor) -> None:
    await advisor.ask("b1", "I run the front desk of a hotel, no coding at all")
    reply = await advisor.ask("b1", "what do I learn first of all?")
    assert reply.matches[0].id == "focus" and "CS50" in reply.text
    stranger = await advisor.ask("b2", "what do I learn first of all?")
    assert stranger.background is None


# --- calibration: what is answered from just under the line, and what never is ----------------------------


async def test_an_aside_mostly_about_things_the_knowledge_never_mentions_is_declined(advisor: Advisor) -> None:
    await advisor.ask("c1", "I'm a chemistry teacher, how would I start with ML?")
    reply = await advisor.ask("c1", "unrelated but how do I get my pupils to hand in homework faster haha")
    assert not reply.answered and not reply.matches


async def test_a_field_mentioned_beside_a_subject_of_ours_does_not_make_it_off_topic(advisor: Advisor) -> None:
    reply = await advisor.ask("c2", "any visual explainer of attention in transformers, minus the heavy math?")
    assert reply.answered and reply.matches[0].id == "nlp-transformers"
    chem = await advisor.ask("c3", "good textbook about inorganic chemistry?")
    assert not chem.answered


async def test_budgeting_time_asks_for_time_not_for_cheap_resources(advisor: Advisor) -> None:
    await advisor.ask("c4", "I work as a data scientist, mostly churn models")
    await advisor.ask("c4", "how do I learn MLOps?")
    reply = await advisor.ask("c4", "ok and how many weeks should I budget for that?")
    assert "free" not in reply.title.lower()
    whole = await advisor.ask("c4", "right, and how long would that take me overall?")
    assert whole.matches[0].id == "time-to-learn" and "data science" in whole.title


async def test_finishing_a_resource_and_asking_for_more_of_the_same_step_stays_on_that_step(advisor: Advisor) -> None:
    reply = await advisor.ask("d1", "done with the CS50 lectures, which python course takes me further?")
    assert reply.matches[0].id == "learn-to-code" and "Helsinki" in reply.text and "Harvard's CS50" not in reply.body
    onward = await advisor.ask("d2", "done with the CS50 lectures, what now?")
    assert onward.body.startswith("Ticked off") and onward.matches[0].id != "learn-to-code"


async def test_on_my_own_reads_as_alone(advisor: Advisor) -> None:
    reply = await advisor.ask("o1", "which things are hard to learn on my own, honestly?")
    assert reply.matches and reply.matches[0].id in ("ask-for-help", "data-prep")


async def test_naming_the_guide_asked_leaves_the_kind_as_the_subject(advisor: Advisor) -> None:
    reply = await advisor.ask("g1", "which podcasts would the Careem engineer point me to?")
    assert reply.matches and reply.matches[0].id == "podcasts"


async def test_being_short_on_skills_reads_as_lacking_them(advisor: Advisor) -> None:
    reply = await advisor.ask("w1", "data scientists like me are short on what exactly, to become ML engineers?")
    assert reply.matches and reply.matches[0].id == "software-engineering"


async def test_comparing_two_starting_points_is_the_general_answer_not_one_of_them(advisor: Advisor) -> None:
    reply = await advisor.ask("h1", "which is tougher to switch from into ML, accounting or physics?")
    assert reply.matches[0].id == "how-hard" and "for you" not in reply.title and reply.background is None
    routes = await advisor.ask("h2", "data science route vs software engineering route, which is better for a self-learner?")
    assert routes.matches[0].id == "routes"


async def test_a_plans_ticked_items_are_ticked_off_like_done_and_shown(advisor: Advisor) -> None:
    reply = await advisor.ask("l4", "where I am:\n- [x] python via cs50\n- [x] fast.ai part 1\n- [ ] ???\nwhat's after?")
    assert reply.body.startswith("Ticked off ✅") and "/undo deep-learning" in reply.body
    assert {"learn-to-code", "deep-learning"} <= await advisor.storage.done_steps("local", "l4")
    untouched = await advisor.ask("l5", "plan:\n- python\n- fast.ai\n- ???\nwhat goes third?")
    assert not untouched.body.startswith("Ticked off") and await advisor.storage.done_steps("local", "l5") == set()


async def test_a_background_told_mid_conversation_keeps_the_question_for_a_for_me_follow_up(advisor: Advisor) -> None:
    await advisor.ask("fm1", "roughly how long is the road to becoming an ML engineer?")
    told = await advisor.ask("fm1", "fwiw I'm a frontend developer")
    assert told.background == "software"
    again = await advisor.ask("fm1", "ok so in my case?")
    assert again.matches[0].id == "time-to-learn" and "6 months" in again.text


async def test_a_tool_mentioned_later_adds_to_a_stated_role_instead_of_replacing_it(advisor: Advisor) -> None:
    await advisor.ask("fm2", "civil engineer here, bridges and site inspections")
    later = await advisor.ask("fm2", "oh and I also do a bit of matlab scripting")
    assert later.background == "other-science"
