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

Only the RERANK best-covered topics get the finer scores, and only topics that can win are looked at:
a topic's score is at most ceiling(its coverage share), so topics covering too little are never scored;
the words most topics share are searched as bit sets by kind of match (branch and bound), the rare ones
through their postings; the wording, the costly part, is computed only where it could change the answer.
The cost of a question grows with the postings of its rare words and a few bit operations for the shared
ones, not with the size of the knowledge, and is capped (MAX_TERMS, RERANK) so that no message, however
long, holds the others up. tests/test_matching.py checks these shortcuts against scoring every topic.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from rapidfuzz import fuzz, process

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
SHARED = 32
"""In a question holding a word kept as a bit set, a word of this many topics or more is matched as one too."""
MADE_BYTES = 1 << 22
"""The bit sets made for such words are remembered up to this size (4 MiB)."""
FEW = 256
"""A search limited to this many topics (`only`) scores each of them, without looking at postings."""


def ceiling(share: float) -> float:
    """The most a topic covering `share` of a question can score: a phrasing's cosine is at most √share
    (the weights of the words it shares with the question sum to at most the coverage, and to at most
    the phrasing's own summed rarity, as a word's weight is at most its rarity), the wording at most 1."""
    return share * (W_BASE + W_WORDING + (W_PHRASE + W_TITLE) * math.sqrt(share))


@lru_cache(maxsize=64)
def least_share(threshold: float) -> float:
    """The least share of a question a topic must cover to reach `threshold` (a little less, never more)."""
    low, high = 0.0, 1.0
    if ceiling(high) < threshold:
        return high
    for _ in range(50):
        middle = (low + high) / 2
        low, high = (middle, high) if ceiling(middle) < threshold else (low, middle)
    return low * (1 - 1e-9)


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
    return (not ANCHORS.isdisjoint(stems) or not ML_WORDS.isdisjoint(stems)
            or any(pair in ANCHOR_PAIRS for pair in zip(stems, stems[1:], strict=False)))


class Index:
    def __init__(self, normalizer: Normalizer, documents: Sequence[Document], *, outside: Mapping[str, str] | None = None) -> None:
        self.documents = tuple(documents)
        self.outside: Mapping[str, str] = dict(outside or {})  # stem → off-topic subject id
        self._number = {doc.id: n for n, doc in enumerate(self.documents)}
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
        self._answer_terms = answer_terms
        # The longest postings also as bit sets (an int, bit n for topic n), for questions of a few common
        # words that most topics share (see _covered_by_kind): a few hundred at most, whatever the size.
        long = max(count // LONG_SHARE, 64)
        self._bits = {t: _bits(p, count) for t, p in postings.items() if len(p) >= long}
        self._answer_bits = {t: _bits(p, count) for t, p in answer_postings.items() if len(p) >= long}
        # Topic numbers as arrays of machine ints (4 bytes each, not a list of int objects of 36).
        self._postings = {t: array("i", p) for t, p in postings.items()}
        self._answer_postings = {t: array("i", p) for t, p in answer_postings.items()}
        # Per phrasing, numbered topic by topic (topic n's are _start[n] to _start[n + 1]): its words, function
        # words included, for the wording score; how much its kind counts; its words' summed rarity.
        self._start = array("l", [0])
        self._texts: list[str] = []
        kinds, norms = array("d"), array("d")
        # Per topic: which of its phrasings hold each term, so a question visits only those that share one
        # (position tuples shared between topics: most are (0,) or (1,)).
        self._phrases_by_term: list[dict[str, tuple[int, ...]]] = []
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        for phrases in raw:
            by_term: dict[str, list[int]] = {}
            for position, (terms, text, kind) in enumerate(phrases):
                self._texts.append(text)
                kinds.append(kind)
                norms.append(sum(self.idf[t] for t in terms))
                for term in terms:
                    by_term.setdefault(term, []).append(position)
            self._start.append(len(self._texts))
            self._phrases_by_term.append({t: shared.setdefault(tuple(p), tuple(p)) for t, p in by_term.items()})
        self._kinds, self._norms = kinds, norms

    def __getstate__(self) -> dict[str, object]:  # kept compiled (compiled.py): without what questions left behind
        return {k: v for k, v in self.__dict__.items() if k not in ("_made", "_scored")}

    def _bits_of(self, term: str) -> tuple[int, int]:
        """The topics holding `term` in a phrasing, and only in their answer, as bit sets: kept for the
        longest postings, else made and remembered (up to MADE_BYTES of them: questions repeat words)."""
        phrase, spoken = self._bits.get(term), self._answer_bits.get(term)
        if phrase is not None and spoken is not None:
            return phrase, spoken
        made = self.__dict__.setdefault("_made", {})
        found = made.get(term)
        if found is None:
            count = len(self.documents)
            if len(made) * (count // 8 + 1) >= MADE_BYTES:
                made.clear()
            found = made[term] = (_bits(self._postings.get(term, ()), count) if phrase is None else phrase,
                                  _bits(self._answer_postings.get(term, ()), count) if spoken is None else spoken)
        return found

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
        if not stem.isalpha() and any(c.isdigit() for c in stem):  # (no letter is a digit: most stems skip the scan)
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
        allowed: frozenset[int] | None = None
        if only is not None:  # a few topics (the steps, those answering a feeling): each is simply scored
            allowed = frozenset(self._number[i] for i in only if i in self._number)
            if len(allowed) <= FEW:
                return self._exact(query, weights, sorted(allowed))
        common = [i for i, t in enumerate(query) if t in self._bits or t in self._answer_bits]
        if only is None and common:  # the shared words by kind of match, the rare ones word by word
            common = [i for i, t in enumerate(query) if t in self._bits or t in self._answer_bits
                      or len(self._postings.get(t, ())) + len(self._answer_postings.get(t, ())) >= SHARED]
            return self._covered_by_kind(query, weights, total, threshold, common)
        order = sorted(range(len(query)), key=lambda i: weights[query[i]])
        light, light_sum = 0, 0.0
        need = least_share(threshold) * total
        for i in order:
            if light_sum + weights[query[i]] >= need:
                break
            light_sum += weights[query[i]]
            light += 1
        # The heavier words, heaviest (rarest) first; once the words left could not lift a topic not met yet
        # to the threshold, nor past the RERANK-th best coverage so far, no new topic is taken in.
        heavy = [query[i] for i in reversed(order[light:])]
        left = sum(weights[t] for t in heavy)  # what the words not yet visited could add
        partial: dict[int, float] = {}  # coverage by the words visited: at most the whole coverage
        rank = 0.0  # the RERANK-th best partial coverage: at least RERANK topics cover this much
        keep = allowed.__contains__ if allowed is not None else None
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
        """What _covered finds (its RERANK best), when some of the question's words (`common`, positions in
        `query`) are shared by many topics.

        Topics holding one of the other (rarer) words are few: each is scored. The rest hold only common
        words, and their coverage depends only on how they hold each: in a phrasing, only in the answer,
        or not at all. Those kinds of match are searched with bit sets, branch and bound: the common words
        heaviest first, each splitting a set of topics in three, a branch dropped as soon as it is empty
        or even every word left could not lift it to the threshold or to the RERANK-th best coverage
        found so far. The cost grows with the kinds that can win and a few bit operations on each, not
        with every topic that shares a common word.
        """
        count = len(self.documents)
        have: dict[int, tuple[int, int]] = {}  # per common word: (topics with it in a phrasing, only in the answer)
        for position in common:
            term = query[position]
            have[position] = self._bits_of(term)
        need = least_share(threshold) * total
        # The topics holding one of the other words: their coverage by those words, exactly.
        partial: dict[int, float] = {}
        for position, term in enumerate(query):
            if position not in have:
                w = weights[term]
                for number in self._postings.get(term, ()):
                    partial[number] = partial.get(number, 0.0) + w
                spoken_w = ANSWER_COVER * w
                for number in self._answer_postings.get(term, ()):
                    partial[number] = partial.get(number, 0.0) + spoken_w
        everyone = (1 << count) - 1
        rest = everyone ^ _bits(partial, count) if partial else everyone

        order = sorted(common, key=lambda p: (-weights[query[p]], p))  # heaviest first: bounds tighten soonest
        left = [0.0] * (len(order) + 1)  # what the words from the i-th on could add at most
        for i in range(len(order) - 1, -1, -1):
            left[i] = left[i + 1] + weights[query[order[i]]]
        in_order = sorted(common)
        state: dict[int, int] = {}  # 0: in a phrasing, 1: in the answer only, 2: absent
        kinds: list[tuple[float, tuple[int, int], int]] = []  # (-coverage, where first met, its topics)
        best: list[tuple[float, int]] = []  # a min-heap of (coverage, topics) holding the RERANK best kinds' topics
        held = 0
        floor = need

        def visit(i: int, members: int, reach: float) -> None:
            nonlocal held, floor
            if (reach + left[i]) * (1 + 1e-9) < floor:
                return
            if i < len(order):
                position = order[i]
                phrase, spoken = have[position]
                w = weights[query[position]]
                a, b = members & phrase, members & spoken
                if a:
                    state[position] = 0
                    visit(i + 1, a, reach + w)
                if b:
                    state[position] = 1
                    visit(i + 1, b, reach + ANSWER_COVER * w)
                c = members ^ a ^ b  # phrase and answer-only sets never overlap
                if c:
                    state[position] = 2
                    visit(i + 1, c, reach)
                return
            cover = 0.0  # summed as _exact sums, in question order, so that ties stay ties
            first: tuple[int, int] | None = None
            for position in in_order:
                s = state[position]
                if s == 0:
                    cover += weights[query[position]]
                elif s == 1:
                    cover += ANSWER_COVER * weights[query[position]]
                if s != 2 and first is None:
                    first = (position, s)
            if first is None or cover < floor:
                return
            size = members.bit_count()
            kinds.append((-cover, first, members))
            heapq.heappush(best, (cover, size))
            held += size
            while held - best[0][1] >= RERANK:
                held -= heapq.heappop(best)[1]
            if held >= RERANK:
                floor = max(floor, best[0][0] * (1 - 1e-9))

        visit(0, rest, 0.0)
        out: dict[int, tuple[float, tuple[int, int, int]]] = {}
        kinds.sort(key=lambda kind: kind[:2])
        taken, last = 0, None
        for negative, first, members in kinds:  # the RERANK best, and any tied with the last of them
            if -negative < floor or (taken >= RERANK and (negative, first) != last):
                break
            n = 0
            while members and n < RERANK:
                low = members & -members
                number = low.bit_length() - 1
                members ^= low
                out[number] = (-negative, (first[0], first[1], number))
                n += 1
            taken += n
            last = (negative, first)
        # The topics holding a rarer word: scored unless even every common word could not lift them to `floor`.
        lift = left[0] * (1 + 1e-9)
        out.update(self._exact(query, weights, (n for n, c in partial.items() if c * (1 + 1e-9) + lift >= floor)))
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

    def _fit(self, number: int, query: Sequence[str], weights: Mapping[str, float],
             total: float) -> tuple[float, float, float, dict[int, float]]:
        """Topic `number`'s phrase fit and title cosine for the question, the largest kind among the phrasings
        sharing a word with it, and those phrasings (positions → the weight they share)."""
        # Each phrasing's cosine with the question: the weights of the words they share, over the roots of
        # both sums (≤ 1, as each word's weight is at most its rarity).
        shares: dict[int, float] = {}
        by_term = self._phrases_by_term[number]
        for term in query:
            positions = by_term.get(term)
            if positions:
                w = weights[term]
                for position in positions:
                    shares[position] = shares.get(position, 0.0) + w
        start, norms, kinds, sqrt = self._start[number], self._norms, self._kinds, math.sqrt
        fit = title = kind = 0.0
        for position, shared in shares.items():
            cosine = shared / sqrt(total * norms[start + position])
            weight = kinds[start + position]
            if weight * cosine > fit:
                fit = weight * cosine
            if weight > kind:
                kind = weight
            if position == 0:  # the title: a topic *about* what was asked wins a tie
                title = cosine
        return fit, title, kind, shares

    def _wording(self, number: int, shares: Iterable[int], wording_text: str) -> float:
        """The best wording similarity of the question with one of these phrasings of topic `number`."""
        start, kinds, texts = self._start[number], self._kinds, self._texts
        by_kind: dict[float, list[str]] = {}
        for position in shares:
            by_kind.setdefault(kinds[start + position], []).append(texts[start + position])
        wording = 0.0
        for kind in sorted(by_kind, reverse=True):
            if kind > wording:  # only phrasings that could beat the best so far
                # The best of a kind in one call: rapidfuzz prepares the question once, and skips the
                # rest of a phrasing once it cannot beat the best so far.
                best = process.extractOne(wording_text, by_kind[kind], scorer=fuzz.token_set_ratio, processor=None)
                wording = max(wording, kind * (best[1] if best else 0.0) / 100)
        return wording

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
        if not query or limit <= 0:
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
        # (Decorated once: `first` holds the topic's number, so no two compare equal.)
        best = [(n, -c) for c, _, n in heapq.nsmallest(RERANK, [(-c, first, n) for n, (c, first) in covered.items()])]
        wording_text = " ".join(stems[: MAX_TERMS * 3])
        # Reading one message searches its stems a few times (other thresholds, limits): a topic's score is
        # the same each time, so those of the last question are remembered.
        key = (tuple(stems), frozenset(names) & frozenset(query), tuple(surfaces.get(t) for t in query))
        last = self.__dict__.get("_scored")
        if last is None or last[0] != key:
            last = self.__dict__["_scored"] = (key, {})
        scored: dict[int, float] = last[1]
        # First what each candidate could score with a perfect wording (or its score, if known), then the
        # wording (the costly part) from the most promising down, while it could still change the answer.
        promising: list[tuple[float, int, float, tuple[float, float, dict[int, float]] | None]] = []
        for number, cover in best:
            # A topic covering too little can't reach the threshold (see ceiling); `best` is in falling
            # coverage, so the rest can't either.
            share = cover / total
            if ceiling(share) * (1 + 1e-9) < threshold:
                break
            known = scored.get(number)
            if known is not None:
                promising.append((known, number, share, None))
                continue
            fit, title, kind, shares = self._fit(number, query, weights, total)
            most = share * (W_BASE + W_PHRASE * fit + W_WORDING * kind + W_TITLE * title)
            if most >= threshold:
                promising.append((most, number, share, (fit, title, shares)))
        promising.sort(key=itemgetter(0), reverse=True)  # stable: ties stay in coverage order
        hits: list[tuple[float, str, int]] = []  # (minus the rounded score, id, topic): a Match for the kept only
        kept: list[float] = []  # a min-heap of the `limit` best scores kept
        bar = threshold  # what a topic must reach to be kept: the threshold, then near the limit-th best kept
        for most, number, share, parts in promising:
            if most < bar:  # nor can the ones after it (scores are rounded: hence the 0.001 below)
                break
            score = most
            if parts is not None:
                fit, title, shares = parts
                wording = self._wording(number, shares, wording_text)
                # Multiplied, not added: a topic must account for the question *and* fit its phrasing;
                # a good phrase fit cannot rescue a topic that explains only half of what was asked.
                score = scored[number] = share * (W_BASE + W_PHRASE * fit + W_WORDING * wording + W_TITLE * title)
            if score >= threshold:
                rounded = round(min(score, 1.0), 3)
                hits.append((-rounded, self.documents[number].id, number))
                (heapq.heappush if len(kept) < limit else heapq.heappushpop)(kept, rounded)
                if len(kept) >= limit:
                    bar = max(threshold, kept[0] - 0.001)
        hits.sort()  # best first, then by id (ids are unique: the topic numbers are never compared)
        return [Match(doc_id, self.documents[number].title, -negative) for negative, doc_id, number in hits[:limit]]


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
        several = {terms for terms, who in owners.items() if len(who) > 1}  # "Andrew Ng" names four
        # Each name strong enough to count, with its strength, filed under its rarest word only: it needs
        # every word, so a question without that one can't name it, and a common word visits few names.
        self._by_term: dict[str, list[tuple[str, frozenset[str], float, bool]]] = {}
        for resource, terms in entries:
            value = sum(self._idf[t] for t in terms)
            if value >= self.MIN_STRENGTH:
                rarest = min(terms, key=lambda t: (frequency[t], t))
                self._by_term.setdefault(rarest, []).append((resource, terms, value, terms in several))

    def find(self, text: str) -> list[Named]:
        """Resources named in `text`, strongest first."""
        query = set(list(name_terms(self.normalizer, text))[: MAX_TERMS * 2])
        own: dict[str, float] = {}
        shared: dict[str, float] = {}
        for term in query:
            for resource, terms, value, several in self._by_term.get(term, ()):
                if terms <= query:
                    found = shared if several else own
                    found[resource] = max(found.get(resource, 0.0), value)
        # A name several resources share counts only when nothing is named by a name of its own.
        strength = own or shared
        return sorted((Named(r, s) for r, s in strength.items()), key=lambda n: (-n.strength, n.resource))
