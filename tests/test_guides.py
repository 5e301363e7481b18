"""Nothing in a guide is left without knowledge that cites it.

For each of the five guides, FACTS lists what it says that the advisor must know: resources, figures
and pieces of advice, as (pattern in the guide, pattern in the knowledge). A fact passes when the guide
really says it and some step, entry, resource or background *citing that guide* says it too.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

GUIDES = ROOT.parent / "shared" / "guides"

FACTS: dict[str, list[tuple[str, str]]] = {
    "ml-engineer-2022": [
        (r"Machine Learning \+ Software Engineering", r"machine learning plus software engineering"),
        (r"Elements of Statistical Learning", r"Elements of Statistical Learning"),
        (r"Linear Algebra\]\(https://www.coursera", r"Mathematics for Machine Learning: Linear Algebra"),
        (r"Andrew Ng's\]\(https://www.coursera.org/learn/machine-learning", r"coursera.org/learn/machine-learning"),
        (r"Goodfellow & Bengio", r"Goodfellow"),
        (r"course.fast.ai", r"course.fast.ai"),
        (r"Attention Is All You Need", r"Attention Is All You Need"),
        (r"illustrated transformer", r"Illustrated Transformer"),
        (r"illustrated Bert", r"Illustrated BERT"),
        (r"CS224n", r"CS224n"),
        (r"Project Euler", r"Project Euler"),
        (r"Leetcode", r"LeetCode"),
        (r"Cormen", r"Cormen"),
        (r"Python for Programmers", r"Python for Programmers"),
        (r"hacker news", r"Hacker News"),
        (r"10-must-read-books", r"10-must-read-books"),
        (r"advanced concepts in Python", r"Advanced Concepts in Python"),
        (r"standard library documentation", r"standard library documentation"),
        (r"Machine Learning Yearning", r"Machine Learning Yearning"),
        (r"Chip Huyen", r"Chip Huyen"),
        (r"CS 329S", r"CS 329S"),
        (r"do the exercises and problem sets", r"exercises and problem sets"),
        (r"implement papers/models yourself from scratch", r"from scratch"),
        (r"sentiment analysis", r"sentiment analysis"),
        (r"work in a team with a strong engineering culture", r"strong engineering culture"),
        (r"Concurrency", r"concurrency"),
        (r"memory mapped file", r"memory-mapped file"),
        (r"Physics, Statistics, Econometrics", r"econometrics"),
    ],
    "mynter": [
        (r"34-page whitepaper", r"34-page whitepaper"),
        (r"ML researcher", r"researcher"),
        (r"software engineering, data science, and mathematics", r"Four areas"),
        (r"The Data Science Route", r"data science route"),
        (r"The Software Engineering Route", r"software engineering route"),
        (r"Jupyter notebook is just a toy", r"Jupyter notebook is a toy"),
        (r"Harvard’s CS50", r"CS50"),
        (r"Programming Fundamentals by the University of Helsinki", r"University of Helsinki"),
        (r"Dead Simple Python", r"Dead Simple Python"),
        (r"Machine Learning Specialisation by Andrew Ng", r"Machine Learning Specialization"),
        (r"Deep Learning Specialisation", r"Deep Learning Specialization"),
        (r"Yann LeCun’s NYU lecture", r"LeCun"),
        (r"fast.ai and the accompanying book", r"fast.ai book"),
        (r"Mathematics on Deep Learning", r"deeplearning.ai"),
        (r"Huggingface", r"Hugging Face"),
        (r"worth a month of work", r"month of work"),
        (r"build a frontend", r"front end"),
        (r"Fullstackopen", r"Full Stack Open"),
        (r"JavaScript", r"JavaScript"),
        (r"fullstackdeeplearning", r"Full Stack Deep Learning"),
        (r"Quincy Larson", r"Quincy Larson"),
        (r"episode 100", r"episode 100"),
        (r"around 18 months", r"18 months"),
        (r"six months after work", r"6 months"),
        (r"couple of months", r"couple of months"),
        (r"university .* easiest route", r"easiest"),
        (r"leverage your prior experience", r"prior experience"),
        (r"won’t need to sacrifice any seniority", r"seniority"),
        (r"career ceiling", r"ceiling"),
        (r"language models for text, CNNs for vision, or RNNs for time series", r"RNNs"),
        (r"Numerics methods and Optimization Theory", r"optimisation"),
        (r"internships", r"internships"),
        (r"effectively learning hard things", r"learning hard things"),
        (r"simple, it’s not easy", r"simple, but not easy|simple, not easy"),
    ],
    "learn-with-passion": [
        (r"Careem", r"Careem"),
        (r"sexist job in the 21th century", r"sexiest job of the 21st century"),
        (r"What Does a Data Scientist Do", r"What Does a Data Scientist Do"),
        (r"Data Analyst & Data Viz", r"data analyst and data visualisation"),
        (r"Data Infrastructure Engineer", r"data infrastructure engineer"),
        (r"Data Ops", r"data ops"),
        (r"Apache Spark, Apache Hadoop", r"Spark"),
        (r"Oreilly", r"O'Reilly"),
        (r"Eclipse and IntelliJ", r"IntelliJ"),
        (r"A/B testing", r"A/B testing"),
        (r"go stale and need to be retrained", r"retraining"),
        (r"attacked by adversaries", r"attacked"),
        (r"Coursera, Edx or Udacity", r"edX"),
        (r"Udacity Machine Learning Engineer Nanodegree", r"Nanodegree"),
        (r"Kaggle", r"Kaggle"),
        (r"subreddit", r"subreddits"),
        (r"Towards Data Science", r"Towards Data Science"),
        (r"Machine Learning Mastery", r"Machine Learning Mastery"),
        (r"Learn With Passion", r"Learn With Passion"),
        (r"SE Daily", r"SE Daily"),
        (r"O'Reilly Data Show", r"O'Reilly Data Show"),
        (r"Alex Smola", r"Smola"),
        (r"ML product design", r"ML product design"),
        (r"Xiaohan Zeng", r"Xiaohan Zeng"),
        (r"Linkedin", r"LinkedIn"),
        (r"big five", r"big five"),
        (r"AI Driven Companies in Egypt", r"Egypt"),
    ],
    "mynter-csdn": [
        (r"Greg Brockman", r"Brockman"),
        (r"usually much faster to learn machine learning than to learn software engineering", r"learning ML is usually quicker"),
        (r"Andrej Karpathy", r"Karpathy"),
        (r"Teach or summarize everything", r"teach\s+or summarise"),
        (r"Compare yourself only to your past self", r"younger self"),
    ],
    "any-starting-point": [
        (r"pretty hard to do \(physics, software engineering\)", r"pretty hard"),
        (r"extremely hard to do \(UI design, marketing\)", r"extremely hard"),
        (r"SAIL", r"SAIL"),
        (r"multivariable calculus \(up to second-year undergrad\)", r"second-year"),
        (r"Khan Academy", r"Khan Academy"),
        (r"up to first-year undergrad", r"first-year"),
        (r"Rachel Thomas", r"Rachel Thomas"),
        (r"skip calculus and linear algebra", r"trial and error"),
        (r"Reddit thread", r"learnpython"),
        (r"numpy and scipy", r"NumPy"),
        (r"legible and modular, with good tests and error handling", r"legible, modular"),
        (r"don’t bother memorizing", r"memoris"),
        (r"learn the basics of git", r"basics of git"),
        (r"Jeremy Howard", r"Jeremy Howard"),
        (r"past 6 years has been in deep learning", r"six years"),
        (r"Course 1, and ideally Course 2", r"Part 1, ideally Part 2"),
        (r"decision trees, support vector machines, linear regression", r"support vector machines"),
        (r"scikit-learn", r"scikit-learn"),
        (r"well known algorithms to well known datasets", r"well-known algorithm to a well-known"),
        (r"data prep", r"Data prep"),
        (r"outliers and missing values", r"outliers"),
        (r"80% of your time", r"80%"),
        (r"Paperspace or Floyd", r"Paperspace"),
        (r"networking", r"networking"),
        (r"from a mentor", r"mentor"),
        (r"need a job to get experience", r"catch-22"),
    ],
}

GUIDE_FILES = {
    "ml-engineer-2022": "000_947fd614d95a1804.txt",
    "mynter": "001_9f3b1ee5046ff730.txt",
    "learn-with-passion": "002_ba294054642204b6.txt",
    "mynter-csdn": "003_e4ae87a87c1e3f91.txt",
    "any-starting-point": "004_d32f2b65d3ddc58b.txt",
}


def citing_text(kb, source: str) -> str:
    """Everything in the knowledge that cites `source`, as one text."""
    parts: list[str] = []
    for topic in kb.topics.values():
        if source in topic.sources:
            parts += [topic.title, topic.answer, getattr(topic, "best_way", "")]
            parts += [f"{r.name} {r.url or ''} {r.note or ''}" for r in (kb.resources[i] for i in topic.resources)]
    for resource in kb.resources.values():
        if source in resource.sources:
            parts.append(f"{resource.name} {resource.url or ''} {resource.note or ''}")
    for bg in kb.backgrounds.values():
        if source in bg.sources:
            parts += [bg.summary, bg.leverage, bg.learn_first, bg.time or "", bg.difficulty or ""]
    return " ".join(" ".join(p.split()) for p in parts)


needs_guides = pytest.mark.skipif(not GUIDES.is_dir(), reason="the guides live in ../shared beside the project")


@needs_guides
@pytest.mark.parametrize("source", list(FACTS))
def test_every_fact_of_a_guide_is_in_knowledge_that_cites_it(kb, source: str) -> None:
    guide = " ".join((GUIDES / GUIDE_FILES[source]).read_text(encoding="utf-8").split())
    knowledge = citing_text(kb, source)
    missing = []
    for in_guide, in_knowledge in FACTS[source]:
        assert re.search(in_guide, guide, re.IGNORECASE), f"the guide does not say {in_guide!r}: fix the FACTS table"
        if not re.search(in_knowledge, knowledge, re.IGNORECASE):
            missing.append(in_knowledge)
    assert not missing, f"{source}: knowledge citing this guide lacks {missing}"


def test_each_guide_is_cited_by_several_entries(kb) -> None:
    cited = {s: n for s, n in kb.citations().items() if kb.sources[s].guide}
    assert set(cited) == set(GUIDE_FILES)
    for source, count in cited.items():
        assert count >= 5, f"{source} is cited only {count} times"


def test_sources_have_the_titles_and_links_the_guides_give(kb) -> None:
    assert kb.sources["mynter"].url == "https://www.maxmynter.com/pages/blog/become-mle"
    assert kb.sources["mynter"].author == "Max Mynter"
    assert kb.sources["ml-engineer-2022"].published == "2022-03-03"
    for source in kb.sources.values():
        assert source.title and source.cite


@needs_guides
def test_links_in_the_guides_are_carried_over_exactly(kb) -> None:
    urls = {r.url for r in kb.resources.values() if r.url}
    guide = (GUIDES / GUIDE_FILES["ml-engineer-2022"]).read_text(encoding="utf-8")
    skip = ("unsplash.com",)
    for url in re.findall(r"\]\((https?://[^)\s]+)\)", guide):
        if not any(s in url for s in skip):
            assert url in urls, f"{url} from the guide is not a resource's url"


@needs_guides
def test_guides_sentences_are_not_copied(kb) -> None:
    """The knowledge is in our own words: no run of 12 words is taken from a guide."""
    texts = [" ".join(p.read_text(encoding="utf-8").lower().split()) for p in GUIDES.glob("*.txt")]
    assert texts
    answers = ([t.answer for t in kb.topics.values()] + [getattr(t, "best_way", "") for t in kb.topics.values()]
               + [p for t in kb.topics.values() for p in t.ask]
               + [b.summary + " " + b.leverage + " " + b.learn_first for b in kb.backgrounds.values()]
               + [r.note or "" for r in kb.resources.values()])
    for answer in answers:
        words = re.findall(r"[a-z0-9']+", answer.lower())
        for i in range(len(words) - 12):
            run = " ".join(words[i : i + 12])
            assert not any(run in re.sub(r"[^a-z0-9' ]", "", t) for t in texts), run
