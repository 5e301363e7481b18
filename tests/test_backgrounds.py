"""Recognising where someone starts from, in the many ways people say it."""

from __future__ import annotations

import pytest


def detect(kb, text: str):
    return kb.detector.detect(kb.detector.words(text))


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("I'm a physicist", "physics"),
        ("I studied physics", "physics"),
        ("I have a PhD in physics and want to switch", "physics"),
        ("As a chemist, where do I start?", "other-science"),
        ("I'm a mathematician", "maths-statistics"),
        ("my background is statistics", "maths-statistics"),
        ("backend dev here", "software"),
        ("I work as a frontend engineer", "software"),
        ("I've been a web developer for 5 years", "software"),
        ("I am a software engineer", "software"),
        ("I'm a data scientist", "data-science"),
        ("I work as a data analyst at a bank", "analyst"),
        ("I'm a CS student", "student"),
        ("I'm an undergrad", "student"),
        ("I'm a complete beginner", "beginner"),
        ("no coding background at all", "beginner"),
        ("I have no programming experience", "beginner"),
        ("I've never coded", "beginner"),
        ("I'm in sales", "unrelated-field"),
        ("I work in marketing", "unrelated-field"),
        ("I'm a UX designer", "unrelated-field"),
        ("coming from graphic design... I'm a graphic designer", "unrelated-field"),
        ("actually I'm a software engineer now, not a data scientist", "software"),
        ("I used to be a teacher, now I'm a backend developer", "software"),
        ("I studied physics but now I work as a developer", "software"),
        ("I'm a physisist", "physics"),  # typo
    ],
)
def test_stated_backgrounds_are_recognised_as_about_the_asker(kb, text: str, background: str) -> None:
    found = detect(kb, text)
    assert found is not None, text
    assert (found.background, found.about_self) == (background, True)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not a data scientist",
        "I am no longer a developer",
        "I'm not a complete beginner",
        "I have never been a programmer",
    ],
)
def test_negated_backgrounds_are_not_recognised(kb, text: str) -> None:
    assert detect(kb, text) is None


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("How can a physicist become a machine learning engineer?", "physics"),
        ("from physics to ML, is it possible?", "physics"),
        ("What should a data analyst learn?", "analyst"),
    ],
)
def test_mentions_are_used_but_not_about_the_asker(kb, text: str, background: str) -> None:
    found = detect(kb, text)
    assert found is not None and found.background == background and not found.about_self


@pytest.mark.parametrize(
    "text",
    [
        "How do I learn web development for deploying models?",  # 'development' is not 'developer'
        "Which statistics book is the classic for machine learning?",
        "Can I become an ML engineer without a degree in statistics?",
        "what's the best deep learning course",
    ],
)
def test_topics_are_not_mistaken_for_self_statements(kb, text: str) -> None:
    found = detect(kb, text)
    assert found is None or not found.about_self
