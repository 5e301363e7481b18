"""Normalising text the same way for the knowledge (once, at load) and for every question.

lower case and unicode-folded → contractions expanded → split into words → stemmed (snowball) →
typos corrected against the knowledge's own vocabulary (rapidfuzz) → synonyms from the knowledge
files applied ("machine learning" → "ml", "ml engineer" → "mle", …).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core import english

BREAK = "|"
"""Stands for a clause boundary (, . ; ! ? but) in token lists that keep them."""

# Function words and chat filler: they say nothing about which topic is meant.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any anyone anything are aren as at be because been
    before being below between both but by can could did do does doing done down during each either else
    even ever every few for from further get gets getting go goes going got had has have having he her here
    hers herself him himself his how however i if im in into is it its itself just kind let lets like ll
    me might mine more most much must my myself need needs no nor not now of off on once one only or other
    our ours ourselves out over own please pretty quite rather re really s same say she should so some
    something someone still such sure t than thank thanks that the their theirs them themselves then there
    these they thing things this those through to too toward try u under until up upon us ve very want
    wants was we were what whats when where whether which while who whom whose why will with within
    without would yeah yes yet you your yours yourself yourselves hi hello hey guys folks everyone anybody
    ok okay tell give show know think wondering wonder curious help advice question questions somebody
    one's maybe perhaps actually basically currently lot lots bit im ive id wanna gonna gotta kinda sorta
    would've could've should've isn wasn doesn didn don won shouldn couldn wouldn haven hasn hadn ain
    good best great better nice decent exactly recommend recommendation recommendations suggest suggestion
    suggestions useful important worth worthwhile idea ideas stuff way ways place places kind kinds sort
    any everything around exist exists mean means recommended possible probably definitely honestly
    look looks looking matter matters resource resources material materials tip tips rec recs
    keep keeps hear hearing heard even last ago wondered
    clarify describe roughly approximately approx
    ngl tbh fr frfr lowkey highkey lol lmao bruh bro yo deadass tryna asap smh idk imo imho btw rn tho fam
    yall ya nah pls plz fwiw istg lowk cap
    lol lmao lmfao rofl haha hahaha hehe xd ngl tbh imo imho idk idc iirc afaik btw fwiw fr rn bruh omg
    pls plz thx ty tysm cheers hmm hm um uh uhh yep yup nope nah ya yea ye oh ah welp anyway anyways
    guys yall y'all dude mate bro sis pal fam folks peeps yo gud frfr lowkey highkey deadass istg
    kicking butt ass killing
    """.split()
)

_CONTRACTIONS = [
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'s\b"), ""),
    # the same, typed without the apostrophe (_TYPED: where these start)
    (re.compile(r"\bim\b"), "i am"),
    (re.compile(r"\bive\b"), "i have"),
    (re.compile(r"\b(dont|doesnt|didnt|isnt|arent|wasnt|havent|cant|wont)\b"), "not"),
    (re.compile(r"\bwhats\b"), "what is"),
]
_TYPED = 10
assert all("'" in p.pattern for p, _ in _CONTRACTIONS[:_TYPED]) and not any("'" in p.pattern for p, _ in _CONTRACTIONS[_TYPED:])
# What each pattern's match always holds: where the text lacks it, the pattern is not run (most texts lack
# most of them; a substring test costs a fraction of a regex scan of a long message).
_NEEDS = ["can't", "won't", "ain't", "n't", "'m", "'re", "'ve", "'ll", "'d", "'s", "im", "ive", "nt", "whats"]
assert len(_NEEDS) == len(_CONTRACTIONS)
_GUARDED = [(need, pattern, replacement) for need, (pattern, replacement) in zip(_NEEDS, _CONTRACTIONS, strict=True)]
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_TOKEN = re.compile(r"[^\W_]+|[,.;:!?\u2014\u2013]+")  # em and en dashes end a clause too
_SPACED_HYPHEN = re.compile(r"\s-+\s")  # "economist - what now": a break; "scikit-learn" is not
# fast.ai, node.js, educative.io: one word, not a clause break ("developer.What" still breaks)
_INNER_DOT = re.compile(r"(?<=[^\W_])\.(?=[a-z0-9]{1,4}\b)")
_BREAK_WORDS = frozenset({"but", "although", "though", "however", "because"})
_ARROW = re.compile(r"\s*(?:-+>|=+>|→|⟶|⇒)\s*")

_stemmer = snowballstemmer.stemmer("english")


# Words the stemmer folds into another word's stem: "consistent" into "consist" ("what does it consist
# of"), "experiment" into "experience" (experi), "animation" into "animal". Kept apart here.
_STEM_OVERRIDES = {
    **dict.fromkeys(("consistent", "consistently", "consistency", "inconsistent"), "consistent"),
    **dict.fromkeys(("experiment", "experiments", "experimental", "experimenting", "experimented"), "experiment"),
    **dict.fromkeys(("animation", "animations", "animated", "animator"), "animat_"),
    # the verb is not the course: "do ML engineers specialise?" names no Specialisation
    **dict.fromkeys(("specialise", "specialize", "specialises", "specializes", "specialising", "specializing",
                     "specialised", "specialized"), "specialize_"),
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _STEM_OVERRIDES.get(word) or _stemmer.stemWord(word)


def fold(text: str) -> str:
    """Unicode-fold and lower-case; strip accents so 'café' and 'cafe' agree."""
    if text.isascii():  # most text: NFKC, NFKD and casefold change nothing in ASCII but its case
        return text.replace("`", "'").lower()
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed == text:
        return text
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=8192)  # knowledge loading splits each phrase more than once; questions repeat too
def words(text: str) -> tuple[str, ...]:
    """Folded words, with contractions expanded and clause breaks kept as BREAK."""
    text = fold(text)
    if ">" in text or "→" in text:  # "nurse -> ML engineer", "physics → ML": an arrow reads as "to"
        text = _ARROW.sub(" to ", text)
    for need, pattern, replacement in _GUARDED if "'" in text else _GUARDED[_TYPED:]:
        if need in text:
            text = pattern.sub(replacement, text)
    if "." in text:
        text = _INNER_DOT.sub("", text)
    if "-" in text:
        text = _SPACED_HYPHEN.sub(" , ", text)
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if not token[0].isalnum():
            if token.strip(":") and out and out[-1] != BREAK:  # ':' alone is not a clause break
                out.append(BREAK)
        elif token in _BREAK_WORDS:
            if out and out[-1] != BREAK:
                out.append(BREAK)
        else:
            out.append(token)
    while out and out[-1] == BREAK:
        out.pop()
    return tuple(out)


class Normalizer:
    """Built once per knowledge load; turns any text into the stems the matcher compares."""

    def __init__(self, synonyms: Iterable[tuple[str, Iterable[str]]] = (), vocabulary: Iterable[str] = ()) -> None:
        # Synonym variants, as stem sequences, longest first so "machine learning engineer" beats "machine learning".
        # A term of several words becomes one token ("time series" → "time_seri"), so that "time" alone
        # does not match it, nor "deep" alone "deep learning".
        table: dict[tuple[str, ...], tuple[str, ...]] = {}
        for term, variants in synonyms:
            parts = tuple(stem(w) for w in words(term) if w != BREAK)
            target = ("_".join(parts),) if len(parts) > 1 else parts
            if len(parts) > 1:
                table[parts] = target
            for variant in variants:
                key = tuple(stem(w) for w in words(variant) if w != BREAK)
                if key and key != target:
                    table[key] = target
        self._synonyms = table
        self._starts = {k[0] for k in table}
        # Per first stem, the lengths of the variants starting with it, longest first: the only ones to try.
        sizes: dict[str, set[int]] = {}
        for key in table:
            sizes.setdefault(key[0], set()).add(len(key))
        self._sizes = {first: tuple(sorted(lengths, reverse=True)) for first, lengths in sizes.items()}
        # A cache per instance, so an old knowledge object and its cache are freed after a reload.
        self.correct = lru_cache(maxsize=16384)(self._correct)
        self.set_vocabulary(vocabulary)

    def __getstate__(self) -> dict[str, object]:  # kept compiled (compiled.py): the cache is rebuilt, not kept
        state = dict(self.__dict__)
        del state["correct"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.correct = lru_cache(maxsize=16384)(self._correct)

    def set_vocabulary(self, vocabulary: Iterable[str]) -> None:
        """The surface words typos may be corrected to (the knowledge's own words)."""
        vocab = {w for w in vocabulary if w.isalpha() and len(w) >= 4}
        self.vocabulary = frozenset(vocab)
        # Candidates by (first letter, length): a typo is looked up among a few dozen words, not all of them,
        # so even a vocabulary of 100,000 words costs microseconds per word.
        self._by_start: dict[tuple[str, int], list[str]] = {}
        for word in sorted(vocab):
            self._by_start.setdefault((word[0], len(word)), []).append(word)
        self.correct.cache_clear()

    def _correct(self, word: str) -> str:
        """The vocabulary word `word` is a typo of, or `word` itself.

        Only letters-only words of 6+ letters are corrected, by at most one edit (two from 9 letters;
        a swap of two letters is one edit),
        to a word of nearly the same length sharing its first letter: "lerning" → "learning",
        "transfomer" → "transformer", while short or unrelated words are left alone.
        """
        if word in self.vocabulary or len(word) < 6 or len(word) > 30 or not word.isalpha() or word in STOPWORDS:
            return word
        if english.known(word):
            return word  # a real English word ("printer") is not a typo of a knowledge word ("painter")
        limit = 2 if len(word) >= 9 else 1
        candidates = [w for n in range(len(word) - limit, len(word) + limit + 1) for w in self._by_start.get((word[0], n), ())]
        found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=limit)
        if found:
            return found[0]
        return self._split(word)

    def _split(self, word: str) -> str:
        """A compound typed as one word ("datascience", "bestbook") → its two parts, when both are words
        of the knowledge or common English and the whole is neither."""
        if len(word) < 7 or english.known(word):
            return word
        for i in range(3, len(word) - 2):
            left, right = word[:i], word[i:]
            if all(part in self.vocabulary or english.zipf(part) >= 4.0 for part in (left, right)):
                return f"{left} {right}"
        return word

    def stems(self, text: str, *, correct: bool = True) -> list[str]:
        """Stems of `text`, typos corrected, synonyms applied."""
        return self.stems_of(words(text), correct=correct)

    def stems_of(self, folded: Iterable[str], *, correct: bool = True) -> list[str]:
        """Stems of words already split by words(); clause breaks are dropped."""
        out = []
        for w in folded:
            if w == BREAK:
                continue
            fixed = self.correct(w) if correct else w
            out.extend(stem(part) for part in fixed.split(" ")) if " " in fixed else out.append(stem(fixed))
        if self._starts.isdisjoint(out):  # no synonym starts here: the usual question, kept as it is
            return out
        return self.apply_synonyms(out)

    def apply_synonyms(self, stems: list[str]) -> list[str]:
        if not self._synonyms:
            return stems
        out: list[str] = []
        synonyms, starting = self._synonyms, self._sizes
        i, count = 0, len(stems)
        while i < count:
            for size in starting.get(stems[i], ()):
                if size <= count - i:
                    target = synonyms.get(tuple(stems[i : i + size]))
                    if target is not None:
                        out.extend(target)
                        i += size
                        break
            else:
                out.append(stems[i])
                i += 1
        return out


STOP_STEMS = frozenset(stem(w) for w in STOPWORDS) | STOPWORDS


def content(stems: Iterable[str]) -> list[str]:
    """The stems that carry meaning: no stopwords, no breaks, no numbers-only tokens, each once."""
    seen: dict[str, None] = {}
    for s in stems:
        if s != BREAK and s not in STOP_STEMS and s not in seen and not s.isdigit():
            seen[s] = None
    return list(seen)


# --- finding the part of a long message that asks ------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+|(?<=[.!?])(?=[A-Z])")
_ASKING_START = frozenset(
    """how what which where when why who whose is are am can could should would will do does did any anyone
    anybody recommend suggest tips advice help need thoughts ideas worth good best whats wat wut hows wheres
    whos got know rate pls please explain compare kindly plz tell give share list suggestion suggestions""".split()
)


def sentences(text: str) -> list[str]:
    """The sentences of `text`, in order, without empty ones."""
    return list(_sentences(text))


@lru_cache(maxsize=1024)  # reading one message splits it (and its asking part) five times or so
def _sentences(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in _SENTENCE_END.split(text) if s and s.strip())


def is_asking(sentence: str) -> bool:
    """A sentence that asks: it ends with '?' or starts like a question or a request."""
    if sentence.rstrip().endswith("?"):
        return True
    first = next(iter(words(sentence)), "")
    return first in _ASKING_START


ASKING_START = _ASKING_START


def focus(text: str, *, enough: int = 3, wider: int = 0) -> str:
    """The part of a message that asks, for matching: its last asking sentence, with the sentences just
    before it while it has fewer than `enough` content words ("good idea or not?" needs the one before),
    and `wider` more sentences before that. A message of one sentence, or with no asking sentence, is
    its own focus."""
    parts = sentences(text)
    if len(parts) <= 1:
        return text
    asking = [i for i, s in enumerate(parts) if is_asking(s)]
    if not asking:
        return text
    start = end = asking[-1]
    while start > 0 and len(content(words(" ".join(parts[start : end + 1])))) < enough:
        start -= 1
    start = max(start - wider, 0)
    return " ".join(parts[start : end + 1])
