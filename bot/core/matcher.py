"""Ranking knowledge topics against a question, and finding the resources a question names.

Whole-question similarity alone is weak ("how do I bake bread?" shares "how do I" with half the
knowledge), so a question is first reduced to its content stems (see text.py), and only topics sharing
one of them are scored, on three things built once per knowledge load (score = coverage × (base + phrase fit + wording)):

* coverage — how much of the question's meaning the topic's words account for. Each stem weighs its
  inverse document frequency, discounted when it is a common English word. A stem the knowledge never
  uses counts against the match by how rare it is in ordinary English (english.py): "toddler" or
  "guitar" is strong evidence the question is about something else, "emailing" or "friend" barely any;
  a capitalised name like "Tokyo" counts fully.
* phrase fit — the best cosine between the question's stems and one phrasing of the topic. Phrasings
  count by kind: the title and `ask` lines fully, `keywords` a little less, resource names less still,
  so the topic *about* networking beats one that merely lists it.
* wording — rapidfuzz's token-set similarity between the whole question and that phrasing, function
  words included, which tells "what is an ML engineer" from "what skills does an ML engineer need".

The cost of a question grows with the postings its stems touch, not with the size of the knowledge,
and is capped (MAX_TERMS, RERANK) so that no message, however long, holds the others up.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.english import commonness, known
from bot.core.reply import Match
from bot.core.text import Normalizer, content, stem

W_BASE, W_PHRASE, W_WORDING, W_TITLE = 0.40, 0.35, 0.20, 0.05
UNKNOWN_RARE, UNKNOWN_COMMON = 0.8, 0.12
"""Weight of a word the knowledge never uses, relative to the rarest one it does: for a rare English word,
and for the most common ones (linear in between)."""
UNKNOWN_ODD = 0.55
"""Weight of a word that is neither in the knowledge nor in the English word list (typos, slang, jargon)."""
KNOWN_COMMON = 0.35
"""How much a known stem's weight is discounted when it is among the most common English words."""
RERANK = 25  # how many of the best-covered topics get the finer phrase scores
MAX_TERMS = 60  # content stems of one question that are looked at; the rest are ignored
DEFAULT_THRESHOLD = 0.34
"""Below this score the advisor says it does not know rather than guess."""
CLOSE = 0.06
"""A runner-up within this of the best is offered as "did you mean"."""

TITLE, ASK, KEYWORD, RESOURCE = 1.0, 1.0, 0.92, 0.85
"""How much a phrasing of each kind counts in phrase fit and wording."""
ANSWER_COVER = 0.7
"""How much a word found only in a topic's answer counts towards covering a question."""


LONG_SHARE = 64
"""A word used by this share of topics (1/64) or more is also kept as a bit set."""
FEW_WORDS = 6
"""Up to this many words of a question kept as bit sets are ranked by kinds of match (3^6 kinds at most)."""


def _bits(numbers: Sequence[int], count: int) -> int:
    """The set of topic numbers as an int (bit n set for topic n)."""
    raw = bytearray(count // 8 + 1)
    for n in numbers:
        raw[n >> 3] |= 1 << (n & 7)
    return int.from_bytes(raw, "little")


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    ask: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()  # the answer's sentences: the topic's own vocabulary, counted least


@dataclass(frozen=True, slots=True)  # slots: some 200,000 of them at 10,000 entries
class _Phrase:
    terms: frozenset[str]
    text: str  # all stems, function words included, for the wording score
    kind: float
    norm: float = 0.0

    def __reduce__(self) -> tuple[type[_Phrase], tuple[frozenset[str], str, float, float]]:
        # Unpickled (compiled.py) by calling the class: dataclasses' own __setstate__ for slots runs in
        # Python once per phrase, which was a third of a one-shot ask's knowledge load (issue 17).
        return _Phrase, (self.terms, self.text, self.kind, self.norm)


ANCHORS = frozenset({*(stem(w) for w in ("ml", "mle", "mlops", "nlp")), "deep_learn", "data_scienc", "comput_vision",
                     "data_scientist"})
ML_WORDS = frozenset(stem(w) for w in """
    classifier classifiers classification predictions predictive prediction dataset datasets neural embeddings
    embedding inference overfitting underfitting hyperparameters hyperparameter gradient gradients tensor tensors
    pytorch tensorflow keras sklearn xgboost lightgbm kaggle llm llms gpt chatgpt bert cnn rnn lstm gan gans
    backprop backpropagation epochs epoch labelled labeled annotation finetune finetuning fine-tuning
    precision recall f1 auc roc regressor clustering churn forecasting anomaly
    """.split())
"""Words of the field itself: with one, a message is about ML (so words of other subjects are context),
and one that no topic uses is not evidence against a topic."""
ANCHOR_PAIRS = frozenset({("languag", "model")})
"""Stems that say a message is about ML itself: with one, words of other subjects are only context."""
OUTSIDE = 1.1
"""Weight of a word of another subject (off_topic in the knowledge), relative to the rarest known word."""
OUTSIDE_SHARE = 1.5
"""...and at least this many times the weight of all the message's other words together."""


def anchored(stems: Sequence[str]) -> bool:
    """Whether the message is about the field itself ("ML", "data science", "my classifier")."""
    return (any(s in ANCHORS or s in ML_WORDS for s in stems)
            or any(pair in ANCHOR_PAIRS for pair in zip(stems, stems[1:], strict=False)))


class Index:
    def __init__(self, normalizer: Normalizer, documents: Sequence[Document], *, outside: Mapping[str, str] | None = None) -> None:
        self.documents = tuple(documents)
        self.outside: Mapping[str, str] = dict(outside or {})  # stem → off-topic subject id
        raw: list[list[tuple[frozenset[str], str, float]]] = []
        postings: dict[str, list[int]] = {}
        answer_postings: dict[str, list[int]] = {}
        answer_terms: list[frozenset[str]] = []  # per topic: the words only its answer uses
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
            # Words only the answer uses: they count towards coverage, at ANSWER_COVER, never towards fit.
            spoken = frozenset(content(normalizer.stems(" ".join(doc.answer), correct=False))) - terms
            answer_terms.append(spoken)
            for term in spoken:
                answer_postings.setdefault(term, []).append(number)
        count = max(len(self.documents), 1)
        self.idf = {t: math.log(1 + count / len(docs)) for t, docs in postings.items()}
        self.rarest = max(self.idf.values(), default=1.0)
        self._postings = postings
        self._answer_postings = answer_postings
        self._answer_terms = answer_terms
        # The longest postings also as bit sets (an int, bit n for topic n), for questions of a few common
        # words that most topics share (see _covered_by_kind): a few hundred at most, whatever the size.
        long = max(count // LONG_SHARE, 64)
        self._bits = {t: _bits(p, count) for t, p in postings.items() if len(p) >= long}
        self._answer_bits = {t: _bits(p, count) for t, p in answer_postings.items() if len(p) >= long}
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

    def knows(self, stem: str) -> bool:
        return stem in self.idf

    def elsewhere(self, stems: Sequence[str]) -> list[str]:
        """The off-topic subjects a message that doesn't mention ML is about ("music", "travel")."""
        if anchored(stems):
            return []
        return list(dict.fromkeys(self.outside[t] for t in stems if t in self.outside and t not in self.idf))

    def weight(self, stem: str, names: Collection[str] = (), surface: str | None = None, *, context: bool = False) -> float:
        """How much `stem` says about what a question is about. `surface` is the word as written, for
        looking up how common it is in English; `context` is True when the message is plainly about ML,
        so that words of other subjects are only context."""
        if not context and stem in self.outside and stem not in self.idf:
            return self.rarest * OUTSIDE
        common = max(commonness(surface or stem), commonness(stem))  # "emailing" is as common as "email"
        if any(c.isdigit() for c in stem):
            common = 1.0  # "v3", "2nd", "100k": numbers and codes say nothing about the topic
        if stem in self.idf:
            return self.idf[stem] * (1 - KNOWN_COMMON * common)
        if stem in names:
            return self.rarest
        if stem in ML_WORDS:
            return self.rarest * UNKNOWN_COMMON * 2  # ML vocabulary no topic uses: no evidence against any
        if not (known(surface or stem) or known(stem)):
            return self.rarest * UNKNOWN_ODD  # a typo, slang, a compound or jargon: weaker evidence either way
        return self.rarest * (UNKNOWN_RARE - (UNKNOWN_RARE - UNKNOWN_COMMON) * common)

    def _covered(self, query: Sequence[str], weights: Mapping[str, float], total: float, threshold: float,
                 only: Collection[str] | None) -> dict[int, tuple[float, tuple[int, int, int]]]:
        """Each topic that could reach `threshold` → (its coverage, where it is first met).

        A topic's score is at most its coverage share (the finer scores multiply it by at most 1), so a
        topic holding only the question's lightest words, together too light to reach the threshold, can't
        be answered: only topics with one of the heavier words are visited (those words are rare, their
        postings short), and their coverage is then summed over every word of the question, in order.
        """
        common = [i for i, t in enumerate(query) if t in self._bits or t in self._answer_bits]
        if only is None and common:  # the most shared words by kind of match, the others word by word
            common.sort(key=lambda i: -len(self._postings.get(query[i], ())) - len(self._answer_postings.get(query[i], ())))
            return self._covered_by_kind(query, weights, total, threshold, sorted(common[:FEW_WORDS]))
        order = sorted(range(len(query)), key=lambda i: weights[query[i]])
        light, light_sum = 0, 0.0
        ceiling = (W_BASE + W_PHRASE + W_WORDING + W_TITLE) / total
        for i in order:
            if (light_sum + weights[query[i]]) * ceiling >= threshold * (1 - 1e-9):
                break
            light_sum += weights[query[i]]
            light += 1
        # The heavier words, heaviest (rarest) first; once the words left could not lift a topic not met yet
        # to the threshold, nor past the RERANK-th best coverage so far, no new topic is taken in.
        heavy = [query[i] for i in reversed(order[light:])]
        left = sum(weights[t] for t in heavy)  # what the words not yet visited could add
        need = threshold * (1 - 1e-9) / ceiling
        partial: dict[int, float] = {}  # coverage by the words visited: at most the whole coverage
        rank = 0.0  # the RERANK-th best partial coverage: at least RERANK topics cover this much
        keep = (lambda n: self.documents[n].id in only) if only is not None else None
        for term in heavy:
            w = weights[term]
            for number in self._postings.get(term, ()):
                partial[number] = partial.get(number, 0.0) + w
            spoken = ANSWER_COVER * w
            for number in self._answer_postings.get(term, ()):
                partial[number] = partial.get(number, 0.0) + spoken
            left -= w
            if keep is not None:
                partial = {n: c for n, c in partial.items() if keep(n)}
            best_new = (left + light_sum) * (1 + 1e-9)
            if best_new < need:
                break
            if len(partial) >= RERANK:
                rank = heapq.nlargest(RERANK, partial.values())[-1] * (1 - 1e-9)
                if best_new < rank:
                    break
        # A topic met is out when even every word left could not lift it to the threshold or that rank.
        floor = max(need, rank) - (max(left, 0.0) + light_sum) * (1 + 1e-9)
        return self._exact(query, weights, (n for n, c in partial.items() if c >= floor))

    def _covered_by_kind(self, query: Sequence[str], weights: Mapping[str, float], total: float, threshold: float,
                         common: Sequence[int]) -> dict[int, tuple[float, tuple[int, int, int]]]:
        """What _covered finds (its RERANK best), when a few of the question's words (`common`, positions in
        `query`) are shared by many topics.

        Topics holding one of the other words are few: each is scored. The rest hold only common words,
        and their coverage depends only on how they hold each: in a phrasing, only in the answer, or not
        at all. So those 3^k kinds of match are ranked (coverage, then where a topic is first met) and
        their topics found with bit sets, best kinds first, until RERANK are found: the cost grows with a
        few bit operations, not with every topic that shares a common word.
        """
        count = len(self.documents)
        have: list[tuple[int, int]] = []  # per common word: (topics with it in a phrasing, only in the answer)
        for position in common:
            term = query[position]
            phrase = self._bits.get(term)
            spoken = self._answer_bits.get(term)
            have.append((_bits(self._postings.get(term, ()), count) if phrase is None else phrase,
                         _bits(self._answer_postings.get(term, ()), count) if spoken is None else spoken))
        need = threshold * (1 - 1e-9) / ((W_BASE + W_PHRASE + W_WORDING + W_TITLE) / total)
        kinds = []
        for states in itertools.product((0, 1, 2), repeat=len(common)):  # 0: in a phrasing, 1: answer only, 2: absent
            cover = 0.0
            first: tuple[int, int] | None = None
            for position, state in zip(common, states, strict=True):  # as _exact sums: the other words add nothing
                if state == 0:
                    cover += weights[query[position]]
                elif state == 1:
                    cover += ANSWER_COVER * weights[query[position]]
                if state != 2 and first is None:
                    first = (position, state)
            if first is not None and cover >= need:
                kinds.append((-cover, first, states))
        kinds.sort()

        def of_kind(states: tuple[int, ...], members: int) -> int:
            for (phrase, spoken), state in zip(have, states, strict=True):
                members &= phrase if state == 0 else spoken if state == 1 else ~(phrase | spoken)
                if not members:
                    break
            return members

        # At least RERANK topics cover `floor` or more (a topic holding other words too covers more than its kind).
        floor, found = need, 0
        for negative, _, states in kinds:
            found += of_kind(states, -1).bit_count()
            if found >= RERANK:
                floor = max(floor, -negative * (1 - 1e-9))
                break
        # The topics holding one of the other (rarer) words: each scored, unless it can't reach `floor`.
        partial: dict[int, float] = {}
        for position, term in enumerate(query):
            if position not in common:
                w = weights[term]
                for number in self._postings.get(term, ()):
                    partial[number] = partial.get(number, 0.0) + w
                for number in self._answer_postings.get(term, ()):
                    partial[number] = partial.get(number, 0.0) + w
        lift = sum(weights[query[position]] for position in common) * (1 + 1e-9)
        out = self._exact(query, weights, (n for n, c in partial.items() if c * (1 + 1e-9) + lift >= floor))
        others = ~_bits(partial, count)

        def rank_of_last() -> tuple[float, tuple[int, int]] | None:
            if len(out) < RERANK:
                return None
            return heapq.nsmallest(RERANK, ((-c, f[:2]) for c, f in out.values()))[-1]

        worst = rank_of_last()
        for negative, first, states in kinds:
            if worst is not None and (negative, first) > worst:
                break  # every topic of this kind and of the kinds after it ranks below the RERANK found
            members = of_kind(states, others)
            taken = 0
            while members and taken < RERANK:
                low = members & -members
                number = low.bit_length() - 1
                members ^= low
                out[number] = (-negative, (first[0], first[1], number))
                taken += 1
            if taken:
                worst = rank_of_last()
        return out

    def _exact(self, query: Sequence[str], weights: Mapping[str, float],
               candidates: Iterable[int]) -> dict[int, tuple[float, tuple[int, int, int]]]:
        """Each candidate → (its coverage, summed word by word in question order; where it is first met)."""
        out: dict[int, tuple[float, tuple[int, int, int]]] = {}
        for number in candidates:
            by_term = self._phrases_by_term[number]
            spoken = self._answer_terms[number]
            cover = 0.0
            first: tuple[int, int, int] | None = None
            for position, term in enumerate(query):
                if term in by_term:
                    cover += weights[term]
                    first = first or (position, 0, number)
                elif term in spoken:
                    cover += ANSWER_COVER * weights[term]
                    first = first or (position, 1, number)
            if first is not None:
                out[number] = (cover, first)
        return out

    def search(
        self,
        stems: Sequence[str],
        *,
        limit: int = 5,
        threshold: float = DEFAULT_THRESHOLD,
        names: Collection[str] = (),
        surfaces: Mapping[str, str] | None = None,
        only: Collection[str] | None = None,
    ) -> list[Match]:
        """Topics scoring at least `threshold` for the question's stems, best first.

        `names` are stems of capitalised words in the question (likely names of things); `surfaces` maps
        stems to the words as written; `only`, when given, limits the answer to those topic ids.
        """
        query = content(stems)[:MAX_TERMS]
        if not query:
            return []
        surfaces = surfaces or {}
        context = anchored(stems)
        weights = {t: self.weight(t, names, surfaces.get(t), context=context) for t in query}
        elsewhere = [t for t in query if not context and t in self.outside and t not in self.idf]
        if elsewhere:  # a word of another subject, in a message that doesn't mention ML, outweighs the rest
            rest = sum(w for t, w in weights.items() if t not in elsewhere)
            for t in elsewhere:
                weights[t] = max(weights[t], OUTSIDE_SHARE * rest / len(elsewhere))
        total = sum(weights.values())
        if total <= 0:
            return []
        covered = self._covered(query, weights, total, threshold, only)
        if not covered:
            return []
        # The RERANK best covered, ties in the order the topics are first met (query term by term, words
        # of phrasings before words of answers, topics in file order): a bounded heap, not a full sort.
        best = [(n, c[0]) for n, c in heapq.nsmallest(RERANK, covered.items(), key=lambda item: (-item[1][0], item[1][1]))]
        query_set = frozenset(query)
        wording_text = " ".join(stems[: MAX_TERMS * 3])
        hits: list[Match] = []
        for number, cover in best:
            # The finer scores multiply coverage by at most 1 (cosines ≤ 1), so a topic covering too little can't
            # reach the threshold, nor beat `limit` hits already found (scores are rounded: hence the 0.001);
            # `best` is in falling coverage, so the rest can't either.
            ceiling = cover / total * (W_BASE + W_PHRASE + W_WORDING + W_TITLE)
            if ceiling < threshold or (len(hits) >= limit and ceiling + 0.001 < sorted(h.score for h in hits)[-limit]):
                break
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


@dataclass(frozen=True)
class Named:
    resource: str
    strength: float  # the summed rarity of the words that named it


NAME_FILLER = frozenset({"a", "an", "the", "of", "and", "for", "to", "in", "on", "with", "by", "at", "s", "from"})


def name_terms(normalizer: Normalizer, text: str) -> frozenset[str]:
    """The words of a name that must all be present to name it: every word but a few joining ones, so
    "Towards Data Science" needs "towards" and is not named by "data science"."""
    return frozenset(t for t in normalizer.stems(text, correct=False) if t not in NAME_FILLER and not t.isdigit())


class ResourceNames:
    """Finds the resources a question names: by title ("The Elements of Statistical Learning"), by an
    alias ("ESL", "the Hastie book"), or by author ("Goodfellow"). A name counts when every word of one
    of its phrasings is in the question, together they are rare enough among the resources' names, and
    one of them is rare among the topics too: "deep learning" alone names no book, "Goodfellow" does."""

    MIN_STRENGTH = 2.2
    DISTINCT_SHARE = 0.12

    def __init__(self, normalizer: Normalizer, phrasings: Mapping[str, Sequence[str]],
                 topic_share: Callable[[str], float] = lambda term: 0.0) -> None:
        self.normalizer = normalizer
        entries: list[tuple[str, frozenset[str]]] = []
        for resource, texts in phrasings.items():
            for text in texts:
                terms = name_terms(normalizer, text)
                if terms and any(topic_share(t) < self.DISTINCT_SHARE for t in terms):
                    entries.append((resource, terms))
        frequency: dict[str, int] = {}
        for _, terms in entries:
            for term in terms:
                frequency[term] = frequency.get(term, 0) + 1
        count = max(len(entries), 1)
        self._idf = {t: math.log(1 + count / n) for t, n in frequency.items()}
        owners: dict[frozenset[str], set[str]] = {}
        for resource, terms in entries:
            owners.setdefault(terms, set()).add(resource)
        self._shared = {terms for terms, who in owners.items() if len(who) > 1}  # "Andrew Ng" names four
        self._entries = entries
        self._by_term: dict[str, list[int]] = {}
        for number, (_, terms) in enumerate(entries):
            for term in terms:
                self._by_term.setdefault(term, []).append(number)

    def find(self, text: str) -> list[Named]:
        """Resources named in `text`, strongest first."""
        query = set(list(name_terms(self.normalizer, text))[: MAX_TERMS * 2])
        own: dict[str, float] = {}
        shared: dict[str, float] = {}
        for number in {n for t in query for n in self._by_term.get(t, ())}:
            resource, terms = self._entries[number]
            if terms <= query:
                value = sum(self._idf[t] for t in terms)
                if value >= self.MIN_STRENGTH:
                    found = shared if terms in self._shared else own
                    found[resource] = max(found.get(resource, 0.0), value)
        # A name several resources share counts only when nothing is named by a name of its own.
        strength = own or shared
        return sorted((Named(r, s) for r, s in strength.items()), key=lambda n: (-n.strength, n.resource))
