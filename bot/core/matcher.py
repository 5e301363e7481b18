"""Ranking knowledge topics against a question.

Whole-question similarity alone is weak ("how do I bake bread?" shares "how do I" with half the
knowledge), so a question is first reduced to its content stems (see text.py) and each topic is
scored on three things, built once per knowledge load:

* coverage — how much of the question's meaning the topic's words account for. Each stem weighs its
  inverse document frequency; a stem the knowledge has never seen weighs as much as the rarest one,
  so "what time is it in Tokyo" is not answered just because "time" appears in the time estimates.
* phrase fit — the best cosine between the question and one of the topic's phrasings (title, `ask`,
  `keywords`), so a topic whose phrasing says just what was asked wins over one that mentions it.
* spelling fit — rapidfuzz's similarity of the two stem strings, which forgives what stemming misses
  ("mlops" vs "ml ops").

Only topics sharing a stem with the question are scored, so a question costs the same whatever the
size of the knowledge, give or take the length of the postings it touches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.text import Normalizer, content

W_COVER, W_PHRASE, W_FUZZY = 0.55, 0.30, 0.15
RERANK = 25  # how many of the best-covered topics get the finer phrase scores
DEFAULT_THRESHOLD = 0.5
"""Below this score the advisor says it does not know rather than guess."""
CLOSE = 0.06
"""A runner-up within this of the best is offered as "did you mean"."""


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    score: float


class Index:
    def __init__(self, normalizer: Normalizer, documents: Sequence[Document]) -> None:
        self.normalizer = normalizer
        self.documents = tuple(documents)
        self._phrases: list[list[tuple[frozenset[str], str]]] = []
        postings: dict[str, list[int]] = {}
        for number, doc in enumerate(self.documents):
            phrases = []
            terms: set[str] = set()
            for phrase in (doc.title, *doc.phrases):
                stems = content(normalizer.stems(phrase, correct=False))
                if stems:
                    phrases.append((frozenset(stems), " ".join(sorted(stems))))
                    terms.update(stems)
            self._phrases.append(phrases)
            for term in terms:
                postings.setdefault(term, []).append(number)
        count = max(len(self.documents), 1)
        self.idf = {t: math.log(1 + count / len(docs)) for t, docs in postings.items()}
        self.unknown_weight = max(self.idf.values(), default=1.0)
        self._postings = postings
        self._norms = [[sum(self.idf[t] for t in terms) for terms, _ in phrases] for phrases in self._phrases]

    def weight(self, stem: str) -> float:
        return self.idf.get(stem, self.unknown_weight)

    def search(self, stems: Sequence[str], limit: int = 5, threshold: float = DEFAULT_THRESHOLD) -> list[Hit]:
        """Topics scoring at least `threshold` for these content stems, best first."""
        query = content(stems)
        if not query:
            return []
        weights = {t: self.weight(t) for t in query}
        total = sum(weights.values())
        covered: dict[int, float] = {}
        for term in query:
            w = weights[term]
            for number in self._postings.get(term, ()):
                covered[number] = covered.get(number, 0.0) + w
        if not covered:
            return []
        best = sorted(covered.items(), key=lambda item: item[1], reverse=True)[:RERANK]
        query_set = frozenset(query)
        query_text = " ".join(sorted(query))
        hits = []
        for number, cover in best:
            phrase_fit = fuzzy_fit = 0.0
            for (terms, text), norm in zip(self._phrases[number], self._norms[number], strict=True):
                shared = query_set & terms
                if shared:
                    fit = sum(weights[t] for t in shared) / math.sqrt(total * norm)
                    if fit > phrase_fit:
                        phrase_fit = fit
                        fuzzy_fit = fuzz.ratio(query_text, text) / 100
            score = W_COVER * cover / total + W_PHRASE * phrase_fit + W_FUZZY * fuzzy_fit
            if score >= threshold:
                doc = self.documents[number]
                hits.append(Hit(doc.id, doc.title, round(min(score, 1.0), 3)))
        hits.sort(key=lambda hit: (-hit.score, hit.id))
        return hits[:limit]
