"""Ranking knowledge topics against a question.

Whole-question similarity alone is weak ("how do I bake bread?" shares "how do I" with half the
knowledge), so a question is first reduced to its content stems (see text.py), and only topics sharing
one of them are scored, on three things built once per knowledge load (score = coverage × (base + phrase fit + wording)):

* coverage — how much of the question's meaning the topic's words account for. Each stem weighs its
  inverse document frequency; a stem the knowledge never uses counts against the match, nearly as much
  as the rarest known one (fully, for a capitalised name like "Tokyo": a thing we know nothing of).
* phrase fit — the best cosine between the question's stems and one phrasing of the topic. Phrasings
  count by kind: the title and `ask` lines fully, `keywords` a little less, resource names less still,
  so the topic *about* networking beats one that merely lists it.
* wording — rapidfuzz's token-set similarity between the whole question and that phrasing, function
  words included, which tells "what is an ML engineer" from "what skills does an ML engineer need".

The cost of a question grows with the postings its stems touch, not with the size of the knowledge.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.reply import Match
from bot.core.text import Normalizer, content

W_BASE, W_PHRASE, W_WORDING, W_TITLE = 0.40, 0.35, 0.20, 0.05
UNKNOWN = 0.7  # weight of a word the knowledge never uses, relative to the rarest one it does
RERANK = 25  # how many of the best-covered topics get the finer phrase scores
DEFAULT_THRESHOLD = 0.38
"""Below this score the advisor says it does not know rather than guess."""
CLOSE = 0.06
"""A runner-up within this of the best is offered as "did you mean"."""

TITLE, ASK, KEYWORD, RESOURCE = 1.0, 1.0, 0.92, 0.85
"""How much a phrasing of each kind counts in phrase fit and wording."""


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    ask: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Phrase:
    terms: frozenset[str]
    text: str  # all stems, function words included, for the wording score
    kind: float
    norm: float = 0.0


class Index:
    def __init__(self, normalizer: Normalizer, documents: Sequence[Document]) -> None:
        self.documents = tuple(documents)
        raw: list[list[tuple[frozenset[str], str, float]]] = []
        postings: dict[str, list[int]] = {}
        for number, doc in enumerate(self.documents):
            phrases = []
            terms: set[str] = set()
            groups = ((TITLE, (doc.title,)), (ASK, doc.ask), (KEYWORD, doc.keywords), (RESOURCE, doc.resources))
            for kind, texts in groups:
                for text in texts:
                    stems = normalizer.stems(text, correct=False)
                    key = content(stems)
                    if key:
                        phrases.append((frozenset(key), " ".join(stems), kind))
                        terms.update(key)
            raw.append(phrases)
            for term in terms:
                postings.setdefault(term, []).append(number)
        count = max(len(self.documents), 1)
        self.idf = {t: math.log(1 + count / len(docs)) for t, docs in postings.items()}
        self.rarest = max(self.idf.values(), default=1.0)
        self._postings = postings
        self._phrases = [
            [_Phrase(terms, text, kind, sum(self.idf[t] for t in terms)) for terms, text, kind in phrases]
            for phrases in raw
        ]
        # Per topic: which of its phrasings hold each term, so a question visits only those that share one.
        self._phrases_by_term: list[dict[str, tuple[int, ...]]] = []
        for phrases in self._phrases:
            by_term: dict[str, list[int]] = {}
            for position, phrase in enumerate(phrases):
                for term in phrase.terms:
                    by_term.setdefault(term, []).append(position)
            self._phrases_by_term.append({t: tuple(p) for t, p in by_term.items()})

    def share(self, stem: str) -> float:
        """The fraction of topics that use `stem` (0 for a word the knowledge never uses)."""
        return len(self._postings.get(stem, ())) / max(len(self.documents), 1)

    def weight(self, stem: str, names: Collection[str] = ()) -> float:
        if stem in self.idf:
            return self.idf[stem]
        return self.rarest if stem in names else UNKNOWN * self.rarest

    def search(
        self,
        stems: Sequence[str],
        *,
        limit: int = 5,
        threshold: float = DEFAULT_THRESHOLD,
        names: Collection[str] = (),
    ) -> list[Match]:
        """Topics scoring at least `threshold` for the question's stems, best first.

        `names` are stems of capitalised words in the question (likely names of things).
        """
        query = content(stems)
        if not query:
            return []
        weights = {t: self.weight(t, names) for t in query}
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
        wording_text = " ".join(stems)
        hits = []
        for number, cover in best:
            fit = wording = title = 0.0
            phrases = self._phrases[number]
            by_term = self._phrases_by_term[number]
            for position in {p for term in query if term in by_term for p in by_term[term]}:
                phrase = phrases[position]
                cosine = sum(weights[t] for t in query_set & phrase.terms) / math.sqrt(total * phrase.norm)
                fit = max(fit, phrase.kind * cosine)
                wording = max(wording, phrase.kind * fuzz.token_set_ratio(wording_text, phrase.text) / 100)
                if position == 0:  # the title: a topic *about* what was asked wins a tie
                    title = cosine
            # Multiplied, not added: a topic must account for the question *and* fit its phrasing;
            # a good phrase fit cannot rescue a topic that explains only half of what was asked.
            score = (cover / total) * (W_BASE + W_PHRASE * fit + W_WORDING * wording + W_TITLE * title)
            if score >= threshold:
                doc = self.documents[number]
                hits.append(Match(doc.id, doc.title, round(min(score, 1.0), 3)))
        hits.sort(key=lambda hit: (-hit.score, hit.id))
        return hits[:limit]
