"""Normalisation: the same question in different spellings reaches the same stems."""

from __future__ import annotations

import pytest

from bot.core.text import BREAK, content, words


def test_case_punctuation_and_contractions() -> None:
    assert words("What's an MLE? I'm NOT sure!") == ("what", "an", "mle", BREAK, "i", "am", "not", "sure")
    assert words("I can't code, won’t lie") == ("i", "can", "not", "code", BREAK, "will", "not", "lie")


def test_dotted_names_stay_one_word() -> None:
    assert "fastai" in words("Is fast.ai good?")
    assert words("Café déjà vu") == ("cafe", "deja", "vu")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("machine learning engineer", "ML engineer"),
        ("MLE", "machine-learning engineering"),
        ("deep learning", "neural networks"),
        ("natural language processing", "NLP"),
        ("maths", "mathematics"),
        ("fast.ai", "fastai"),
    ],
)
def test_synonyms_from_the_knowledge_meet(kb, a: str, b: str) -> None:
    n = kb.normalizer
    assert content(n.stems(a)) == content(n.stems(b))


@pytest.mark.parametrize(("typo", "right"), [("deep lerning", "deep learning"), ("transfomer", "transformer"),
                                              ("pyhton course", "python course"), ("linaer algebra", "linear algebra")])
def test_typos_are_corrected_to_the_knowledge_vocabulary(kb, typo: str, right: str) -> None:
    assert kb.normalizer.stems(typo) == kb.normalizer.stems(right)


@pytest.mark.parametrize("word", ["bread", "pasta", "movie", "tokyo"])
def test_ordinary_words_are_not_corrected_into_topics(kb, word: str) -> None:
    assert kb.normalizer.correct(word) == word


def test_stopwords_and_numbers_carry_no_meaning() -> None:
    assert content(["how", "do", "i", "learn", "2024", "learn"]) == ["learn"]


def test_huge_and_odd_input_is_handled(kb) -> None:
    assert kb.normalizer.stems("") == []
    assert kb.normalizer.stems("🙂🙂 @everyone <@123> \u200b\x00") == ["everyon", "123"]
    assert len(kb.normalizer.stems("learn " * 50_000)) == 50_000
