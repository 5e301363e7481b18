"""What a message asks: a topic, a follow-up on the previous answer, a background statement, small talk,
or nothing the knowledge covers. Pure: no storage, no Discord; the advisor acts on the Reading.

How a message is read:

0. What its Markdown holds besides prose (parts.py): a listed plan ("1. python ✅ 2. ???") is progress,
   answered with the step after the furthest one reached; code introducing the member states a background.
1. Small talk ("thanks!!", "who are you?", "wish me luck") is recognised first (smalltalk.py).
2. A long message is matched on the part that asks (text.focus): its last asking sentence, so the
   rest of an introduction cannot pull the answer elsewhere. Backgrounds are read from the whole message.
3. A background the member states about themselves is set aside for matching; one merely mentioned
   ("what should a physicist learn?") is tried both ways (see `_match`).
4. A message that leans on the previous answer ("is there a book for that?", "and after that?",
   "what language is it taught in?") is answered for the previous topic; one that names a new topic
   starts afresh. One naming a part of it ("any course for the calc part?") is answered for that part's
   topic, and the topic it is a part of (the frame) is kept for the next part. The conversation's slots
   are the previous topic, its frame and whether the member's background is known.
5. Resources named in the message ("is the Goodfellow book any good?") pick the topic that lists them
   and are shown first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from bot.core import feelings, parts, smalltalk, text
from bot.core.backgrounds import NEGATIONS, Found
from bot.core.compose import kind_of
from bot.core.english import commonness
from bot.core.knowledge import Knowledge
from bot.core.matcher import CLOSE, DEFAULT_THRESHOLD, anchored
from bot.core.reply import Match
from bot.core.schema import Entry, Step
from bot.core.text import BREAK, content, stem

T = TypeVar("T")

GENERIC_SHARE = 0.3
"""A word that this share of topics use ("ml", "learn") says nothing specific on its own."""
MENTION_MARGIN = 0.2
WIDER_MARGIN = 0.1
KIND_MARGIN = 0.1
"""How much better a question must match without its resource words ("book") to be read that way."""
OWN_QUESTION = 0.25
"""How far over the line one part of a message must match on its own to be a new question, not a
follow-up on the part before it ("…, and which podcasts?" vs "…, any course for it?")."""
FOREIGN = 0.75
"""A word the knowledge never uses weighing this share of its rarest word says the message is about
something else (english.py: rare in English, so not "meetings" or "silent")."""
FEELING_BAND = 0.15
"""How far below the best a topic whose advice answers a stated feeling may be and still be preferred."""
LIKELY_BAND = 0.06
"""How far under the line the closest topic may be and still be answered, when nothing points elsewhere."""
NAME_SHARE = 0.1
"""A word in a guide's description that at most this share of topics use may name that guide ("Careem")."""
PART_BAND = 0.15
"""How far below the best topic a part's words name ("the coding part") another may be and still be chosen."""
PART_BONUS = 0.1
"""What holding the kind of resource asked for, or belonging with the topic discussed, adds to a part's topic."""
HOMEWORK = "solving a maths exercise (I can point you to where to learn the maths, not work it out)"
NAMED_MARGIN = 0.15
# A resource named only by words that are also a subject ("deep learning" for the book "Deep Learning")
# is weakly named (matcher.ResourceNames: summed rarity under this): it counts only with its kind asked
# for ("the deep learning book"), not in "skip classical ML and go straight to deep learning?".
WEAK_NAME = 3.0
"""A topic matched this far over the line keeps the question even if no resource it names is listed there."""
"""How much better a question must match with the sentence before it taken in to be read that way."""
"""How much better a question must match with a mentioned background set aside to be read that way."""

_PERSON = re.compile(r"(ist|er|or|ian|ant|ent|dev)$")
"""How a role names a person ("physicist", "teacher", "accountant") rather than a field ("physics")."""
_SENTENCE = re.compile(r"[.!?;:]+\s*|\n")
_PART = re.compile(r"\b(?:the|that|this|those|these)\s+((?:[^\W\d_][\w'-]*\s+){0,2}?[^\W\d_][\w'-]*)\s+"
                   r"(?:parts?|bits?|sides?|stuff|portions?|sections?|pieces?|half|halves|aspects?|areas?)\b", re.I)
"""A follow-up naming a part of what was discussed: "the coding part", "that system design bit"."""
# A member's age ("I'm 38", "at 45", "52 years old", "is 50 too late"): the word "age" is read beside it,
# which is what the knowledge's phrasings about age use. Not a number of months, hours, applications…
_AGE = re.compile(r"\b(?:i'?m|i am|at|aged?|turning|turned)\s+(?:the age of\s+)?[2-7]\d\b(?!\s*(?:%|k\b|\+|/|\.\d|"
                  r"months?|weeks?|days?|hours?|hrs?|h\b|mins?|minutes?|years? (?:of|in|into|at)|yrs? (?:of|in)|"
                  r"applications?|rejections?|projects?|courses?|percent|people|interviews?))"
                  r"|\b[2-7]\d\s*(?:yo|y/o|years? old|yrs? old)\b|\b[2-7]\d\s+(?:is\s+)?too\s+(?:late|old)\b", re.I)
_LAST_ASKING_CLAUSE = re.compile(r",\s+((?:so\s+)?(?:what|which|how|where|when|is|are|do|does|can|should|could|would|will)\b"
                                 r"[^,]*\?)\s*$", re.I)
_DIGIT = re.compile(r"\d")
_WHERE_TO_LEARN = re.compile(r"\bwhere(?:'s| is| do| can| should| would)?\b.{0,40}\b(?:learn|study|start|pick up|practi[cs]e)\b|"
                             r"\b(?:good|best|right) (?:place|resource|site|way) to (?:learn|study|practi[cs]e)\b", re.I)
_WHO = re.compile(r"\b(?:who(?:'s|\s+is|\s+are|\s+was|\s+wrote|\s+made|\s+writes)|tell me about|where (?:does|do) "
                  r"(?:your|the|this) (?:advice|info|information|answers?) come from)\b", re.I)
_GUIDE_WORDS = frozenset({"guide", "guides", "sources", "source", "advice", "answers", "info", "information"})
_WRITING = frozenset({"wrote", "write", "writes", "written", "author", "authors", "come", "comes", "behind", "use", "using"})
_ONE = frozenset({"one", "ones", "same", "another", "similar"})
_FEELING_STEMS = frozenset(stem(w) for cues, _ in feelings.FEELINGS.values() for w in cues)  # "doomed" → doom
_FOR_ME_WORDS = frozenset({"for", "me", "in", "my", "case", "like", "someone", "what", "how", "about"})
_AFTER_STEP = re.compile(r"\b(?:comes?|goes?|follows?|next|learn|study|do|tackle|is|move|step|thing|plan)\s+(?:right\s+|directly\s+)?after\s+"
                         r"(?P<x>[^?.!,;]+)|^\s*(?:and\s+)?after\s+(?P<y>[^?.!,;]+?)\s*,?\s*(?:what|which|where)\b", re.I)
_CONTRASTING = frozenset("difference differences between versus vs compared compare differ differs separates".split())
# Words that only ask for an answer ("can someone explain?", "any thoughts?"): they say nothing of its subject.
_ASKING_STEMS = frozenset(stem(w) for w in """explain explanation elaborate clarify help advise advice tell suggest
    recommend thoughts opinion opinions idea ideas tips input insight insights someone anyone list name share give
    show drop""".split())
_COMPARING = frozenset({"or", "vs", "versus", "than", "compared"})
_ME = re.compile(r"\b(?:me|myself|whoami|about_me|aboutme)\b", re.I)
_WORD = re.compile(r"[^\W\d_]+")

# Words that point back at the previous answer.
_BACK = frozenset({"that", "it", "this", "those", "these", "them", "one", "ones", "same", "such"})
_JOINING = frozenset({"and", "also", "plus", "btw", "oh"})
_CONTINUE = frozenset({"and", "so", "ok", "okay", "then", "also", "plus", "alright", "cool", "great", "nice"})
# What a follow-up may ask for; with these set aside, a follow-up has nothing left of its own.
KINDS = {
    "book": {"book", "books", "textbook", "textbooks", "read", "reading", "ebook", "pdf"},
    "course": {"course", "courses", "class", "classes", "mooc", "moocs", "lecture", "lectures", "tutorial",
               "tutorials", "program", "programme", "specialization", "specialisation", "bootcamp"},
    "paper": {"paper", "papers", "article", "articles"},
    "video": {"video", "videos", "youtube", "watch"},
    "blog": {"blog", "blogs", "post", "posts"},
    "podcast": {"podcast", "podcasts", "listen"},
    "site": {"site", "sites", "website", "websites", "link", "links", "url", "page"},
}
_FREE = {"free", "gratis", "cheap", "cheaper", "budget", "costless"}
_NEXT = {"next", "after", "afterwards", "afterward", "then", "done", "finished", "finish", "complete", "completed",
         "beyond", "following"}
_PRACTICE = {"practise", "practice", "practicing", "practising", "exercise", "exercises", "hands", "apply",
             "train", "drill"}
_KIND_WORDS = set().union(*KINDS.values())
_DONE = {"learned", "learnt", "finished", "completed", "done", "covered", "mastered", "passed"}
_NOW = {"now", "next", "then", "after", "afterwards"}
_OWN = {"i", "have", "just", "finally", "already", "officially", "ve"}
_REQUEST = (_KIND_WORDS | _FREE | _NEXT | _PRACTICE | _DONE
            | {"recommend", "recommendation", "suggest", "suggestion", "resource", "resources", "good", "any", "got",
               "go", "with", "learn", "study", "there", "for", "need", "want", "once", "now", "what", "about"})
_REQUEST_STEMS = frozenset(stem(w) for w in _REQUEST)
_PLAN_STEMS = frozenset(stem(w) for w in """plan plans step steps stage stages roadmap route list order missing gap
    blank fill fills filled goes go comes come number part progress slot spot so far""".split())
"""Words a message uses about a plan it lists, not about a topic ("what goes in step 4?")."""
_KIND_STEMS = frozenset(stem(w) for w in _KIND_WORDS)
# What a member asks about a list they wrote as a whole: "realistic?", "am I missing anything?", "good order?"
_CHECKING = frozenset("""missing miss missed realistic enough complete feasible doable solid skip skipping forgot
    forgetting forget order plan sense wrong gaps gap else add change right ok okay good""".split())
# ...and the goal it is checked against ("what should I add to be job ready as an MLE?")
_CHECKING_STEMS = frozenset(stem(w) for w in _CHECKING | set("""job jobs ready hired hire employable mle ml engineer
    engineering stack skills skillset""".split()))
# What a resource is said to do in a request for one ("a book that covers X", "a course teaching X"): the
# subject is X, and these verbs, rare in the knowledge, would otherwise outweigh it.
_DESCRIBING = frozenset(stem(w) for w in """cover covers covering covered teach teaches teaching explain explains
    explaining introduce introduces introducing go goes going over walk walks through include includes""".split())


_NOUN_BEFORE = frozenset("a an on low tight small no limited zero student my any the".split())


def _verbs(tokens: Sequence[str]) -> set[str]:
    """Request words used as verbs, which then ask for nothing: "how much time should I budget for it?"
    budgets time; "a course on a budget" asks for a cheap one."""
    return {"budget"} if any(w == "budget" and (i == 0 or tokens[i - 1] not in _NOUN_BEFORE)
                             for i, w in enumerate(tokens)) else set()


def _particle(words: set[str], tokens: Sequence[str]) -> bool:
    """"and how long then?", "which book then": "then" closing a question of its own means "in that case",
    not "after that" ("and then?", "what then?" ask for what comes next)."""
    return (words & _NEXT == {"then"} and bool(tokens) and tokens[-1] == "then"
            and len(content([t for t in tokens if t not in _CONTINUE and t not in _REQUEST])) >= 1)


@dataclass(frozen=True)
class Reading:
    """What a message asks."""

    kind: str  # "topic" | "several" | "resources" (of a kind, across the roadmap) | "statement" | "smalltalk" | "unknown"
    #            | "plan" (a list checked against the roadmap) | "about" (who wrote the guides)
    matches: tuple[Match, ...] = ()  # best first; the topic answered is matches[0]
    found: Found | None = None  # the background the message states, or the one its question mentions
    followup: str | None = None  # how it leans on the previous answer: "resources", "next", "practice", "again"
    wants: frozenset[str] = frozenset()  # resource kinds asked for: "book", "course", ..., "free"
    named: tuple[str, ...] = ()  # ids of resources the message names
    near: tuple[Match, ...] = ()  # when nothing matched confidently: the closest topics
    elsewhere: tuple[str, ...] = ()  # off-topic subjects it seems to be about ("music", "travel")
    smalltalk: str | None = None
    did_you_mean: tuple[Match, ...] = field(default=())
    parts: tuple[Reading, ...] = ()  # kind "several": one reading per question the message asks
    uncovered: str | None = None  # id of a subject inside the field the guides don't cover (off_topic, within)
    likely: bool = False  # answered from just under the line (LIKELY_BAND): the closest topic, not a sure one
    finished: str | None = None  # a roadmap step the member says they finished: ticked off as with /done
    feeling: str | None = None  # a feeling the message states ("burnt out"), acknowledged before the answer
    part_of: str | None = None  # a follow-up naming a part of an answer: the topic it is a part of (the frame)
    done_with: tuple[str, ...] = ()  # resources the member says they finished: not offered again
    ticked: tuple[str, ...] = ()  # roadmap steps a plan the member lists ticks off (✅): ticked off as with /done
    where: bool = False  # one question of several asks where to learn it ("…, and where's a good place for X?")
    covered: tuple[str, ...] = ()  # kind "plan": the roadmap steps a list the member wrote covers, in order
    unplaced: tuple[str, ...] = ()  # kind "plan": items of that list that are no step of the roadmap

    @property
    def topic(self) -> str | None:
        return self.matches[0].id if self.matches else None


class Reader:
    """Reads messages against one loaded knowledge (the advisor makes a new one on reload)."""

    def __init__(self, knowledge: Knowledge, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.kb = knowledge
        self.threshold = threshold
        self._topic_words: dict[str, frozenset[str]] = {}  # _words_of, per topic: built on first use
        self._links: dict[str, str] | None = None  # resource addresses → names, for links in messages
        self._kind_topics: dict[str, Entry | Step | None] = {}  # _kind_topic, built on first use
        self._sources: dict[str, frozenset[str]] | None = None  # _source_words: a guide's own word → its words
        self._authors: frozenset[str] | None = None  # _about_sources: the words of the guides' authors' names
        # Per text, for the message being read: its readers fold, detect and focus the same text again and
        # again (the whole message is often its own asking part). Plain dicts, cleared when they grow.
        self._folds: dict[str, tuple[str, ...]] = {}  # _fold: the detector's words
        self._founds: dict[str, Found | None] = {}  # _found: the background those words state or mention
        self._focused: dict[str, str] = {}  # focus
        # first stem → (stems of a phrase, subject) for subjects inside the field the guides don't cover
        self._within: dict[str, list[tuple[tuple[str, ...], str]]] | None = None
        self._within_firsts: frozenset[str] = frozenset()  # every word of those phrases: a cheap first check
        self._by_feeling: dict[str, list[Entry | Step]] | None = None  # _answering

    # --- the parts ----------------------------------------------------------------------------------

    @staticmethod
    def _remember(table: dict[str, T], key: str, compute: Callable[[str], T]) -> T:
        """`compute(key)`, kept in `table` while the same message is read (readers run in threads: a plain
        dict, cleared rather than trimmed, and an entry is only ever written whole)."""
        try:
            return table[key]
        except KeyError:
            pass
        if len(table) > 256:
            table.clear()
        value = table[key] = compute(key)
        return value

    def _fold(self, text_: str) -> tuple[str, ...]:
        """The detector's words of `text_` (folded, corrected, plurals folded; BREAK between clauses)."""
        return self._remember(self._folds, text_, lambda t: tuple(self.kb.detector.words(t)))

    def _found(self, text_: str) -> Found | None:
        """The background `text_` states or mentions, if any."""
        return self._remember(self._founds, text_, lambda t: self.kb.detector.detect(self._fold(t)))

    def names(self, question: str) -> set[str]:
        """Stems of capitalised words inside sentences ("Tokyo", "Paris"): likely names of things.
        Sentence-initial words and acronyms ("ML", "NLP") are not counted."""
        found = set()
        for sentence in _SENTENCE.split(question):
            for word in _WORD.findall(sentence)[1:]:
                if word[0].isupper() and word[1:].islower() and word.lower() not in ("i", "im"):
                    found.update(self.kb.normalizer.stems(word, correct=False))
        return found

    def surfaces(self, folded: Sequence[str]) -> dict[str, str]:
        """Each stem of the question → the word as written, for how common it is in English."""
        norm = self.kb.normalizer
        return {stem(norm.correct(w)): w for w in folded if w != BREAK}

    def analyse(self, question: str) -> tuple[list[list[str]], Found | None, Sequence[str]]:
        """The ways to read the question's stems, the background it states or mentions, and its words.

        A statement about the asker ("I'm a physicist, …") is taken out whole. A mere mention ("what
        should a physicist learn?") is read both with and without its words, since they may be the topic
        ("which statistics book…") or only the asker's situation ("the roadmap for a data scientist").
        """
        kb = self.kb
        folded = self._fold(question)
        found = self._found(question)
        whole = kb.normalizer.stems_of(folded)
        if found is None:
            return [whole], None, folded
        other = self._compared(folded, found)
        if other is not None:  # "is it harder from marketing or from physics?": read with and without both,
            gone = found.consumed | other.consumed  # as mentions are ("data science route or software route?")
            return [whole, kb.normalizer.stems_of([w for i, w in enumerate(folded) if i not in gone])], None, folded
        if not found.about_self and not _CONTRASTING.isdisjoint(folded):
            # "what's the difference between a data scientist and an ML engineer?": the role is the subject
            return [whole], found, folded
        rest = kb.normalizer.stems_of([w for i, w in enumerate(folded) if i not in found.consumed])
        start = found.start > 0 and folded[found.start - 1] == "from"  # "how do I go from physics to ML?"
        return ([rest] if found.about_self or start else [whole, rest]), found, folded

    def _compared(self, folded: Sequence[str], found: Found) -> Found | None:
        """A second, different background the message compares the first with ("from marketing or from
        software", "physicist vs designer"), when neither is the member's own."""
        if found.about_self or not _COMPARING.intersection(folded):
            return None
        masked = [BREAK if i in found.consumed else w for i, w in enumerate(folded)]
        other = self.kb.detector.detect(masked)
        if other is None or other.about_self or other.background == found.background:
            return None
        return other

    def match(self, question: str) -> tuple[list[Match], Found | None]:
        """Topics for `question` on its own (no conversation), best first, and its background."""
        matches, found, _ = self._match(question)
        return matches, found

    def _match(self, question: str, *, limit: int = 5, given: Found | None = None,
               known: bool = False) -> tuple[list[Match], Found | None, list[str]]:
        """`given`: a background stated elsewhere in the message (one question of several), which makes
        personal answers count as they would in the whole message; `known`: the member told their
        background before (a slot kept across the conversation), which makes personal answers count too."""
        kb = self.kb
        readings, found, folded = self.analyse(question)
        found = found or given
        names = self.names(question)
        surfaces = self.surfaces(folded)
        chosen = readings[0]
        # With a background at hand, a personal answer may win from just below the line (_prefer_personal).
        floor = self.threshold - CLOSE if found is not None or known else self.threshold
        hits = self._above(kb.index.search(chosen, threshold=floor, names=names, surfaces=surfaces, limit=limit))
        if len(readings) > 1 and anchored(readings[0]):
            # The whole question first; without the mention only if clearly better. Only when the message
            # is about ML: in "interview tips for a barista job" the barista is the subject, not a start.
            specific = any(kb.index.share(w) < GENERIC_SHARE for w in content(readings[1]))
            rest = self._above(self._search_if(
                readings[1], (lambda m: m.score - hits[0].score > MENTION_MARGIN) if hits else None,
                hits[0].score + MENTION_MARGIN if hits else 0.0, threshold=floor, names=names, surfaces=surfaces,
                limit=limit)) if specific else []
            if rest and specific and (not hits or rest[0].score - hits[0].score > MENTION_MARGIN):
                chosen, hits = readings[1], rest
            elif not hits:
                chosen = readings[1]
        matches = list(hits)
        if found is not None or known:
            matches = self._prefer_personal(matches)
        if found is not None:
            matches = self._route_if_only_generic(chosen, found, matches, names, surfaces)
        return matches, found, chosen

    def _search_if(self, stems: Sequence[str], wins: Callable[[Match], bool] | None, over: float, *, threshold: float,
                   names: set[str], surfaces: dict[str, str], limit: int = 5) -> list[Match]:
        """The search, or [] when its hits count only if the best `wins` (it is compared with an answer
        found already) and it does not. Every score that wins is over `over`: a quick search for the one
        topic over it decides whether the whole search is needed (most often not). The best of the two
        is the same topic, with the same score (the search scores every topic that can reach its
        threshold among the same best-covered ones; the whole search reuses the scores)."""
        index = self.kb.index
        if wins is not None:  # (scores are rounded: hence the 0.001)
            best = index.search(stems, threshold=max(threshold, over - 0.001), limit=1, names=names, surfaces=surfaces)
            if not best or not wins(best[0]):
                return []
        return index.search(stems, threshold=threshold, names=names, surfaces=surfaces, limit=limit)

    def _above(self, hits: list[Match]) -> list[Match]:
        """Matches over the line; personal answers within "did you mean" distance below it stay, but
        only behind a match over the line (so they can win a close call, never stand alone)."""
        if not hits or hits[0].score < self.threshold:
            return []
        return [h for h in hits if h.score >= self.threshold or getattr(self.kb.topic(h.id), "personal", None)]

    def near(self, question: str) -> list[Match]:
        """The closest topics to a question that matched nothing confidently."""
        readings, _, folded = self.analyse(self.focus(question))
        names, surfaces = self.names(question), self.surfaces(folded)
        # with a field mentioned, read with and without it ("the math is cooking me, do I need it?": the
        # field is the subject)
        best: dict[str, Match] = {}
        for reading in readings:
            for m in self.kb.index.search(reading, limit=2, threshold=self.threshold * 0.7, names=names, surfaces=surfaces):
                if m.id not in best or m.score > best[m.id].score:
                    best[m.id] = m
        return sorted(best.values(), key=lambda m: (-m.score, m.id))[:2]

    def _prefer_personal(self, matches: list[Match]) -> list[Match]:
        """With a background at hand, a personal answer within "did you mean" distance of the best wins."""
        kb = self.kb
        if not matches or getattr(kb.topic(matches[0].id), "personal", None):
            return matches
        best = matches[0].score
        personal = next((m for m in matches[1:] if best - m.score <= CLOSE and getattr(kb.topic(m.id), "personal", None)), None)
        return [personal, *(m for m in matches if m is not personal)] if personal else matches

    def _route_if_only_generic(self, stems: list[str], found: Found, matches: list[Match], names: set[str],
                               surfaces: dict[str, str]) -> list[Match]:
        """"I teach physics. How do I get into ML?": with the background set aside, nothing specific is
        left (only words most topics use), so the question is about this member's route."""
        kb = self.kb
        words = content(stems)
        if (not words and found.about_self) or any(kb.index.share(w) < GENERIC_SHARE for w in words):
            return matches
        if any(not kb.index.knows(w) and kb.index.weight(w, names, surfaces.get(w)) > 0.5 * kb.index.rarest for w in words):
            return matches  # something the knowledge doesn't cover is asked ("how do I become a tattoo artist")
        if matches and getattr(kb.topic(matches[0].id), "personal", None) == "route":
            return matches  # already the route (nothing specific is asked: not how hard, how long, what next)
        route = next((e for e in kb.entries.values() if e.personal == "route"), None)
        if route is None:
            return matches
        scored = {h.id: h.score for h in kb.index.search(stems, limit=len(kb.index.documents), threshold=0.0,
                                                          names=names, surfaces=surfaces)}
        first = Match(route.id, route.title, max(scored.get(route.id, 0.0), self.threshold))
        return [first, *(m for m in matches if m.id != route.id)]

    def focus(self, message: str) -> str:
        """The asking part (text.focus); short options after a question ("what level? high school?
        bachelor's?") belong to that question, so they are read with it."""
        return self._remember(self._focused, message, self._focus)

    def _focus(self, message: str) -> str:
        pieces = text.sentences(message)
        while len(pieces) > 2 and self._option(pieces[-1]) and text.is_asking(pieces[-2]):
            if not self._option(pieces[-2]):
                return text.focus(" ".join(pieces[:-1])) + " " + pieces[-1]
            pieces = [*pieces[:-2], f"{pieces[-2]} {pieces[-1]}"]
        return text.focus(message)

    @staticmethod
    def _option(sentence: str) -> bool:
        """A short fragment that asks without asking words: "high school?", "or a masters?"."""
        tokens = [w for w in text.words(sentence) if w != BREAK]
        return sentence.rstrip().endswith("?") and 0 < len(tokens) <= 3 and tokens[0] not in text.ASKING_START

    def _telling(self, stems: Sequence[str]) -> int:
        """How many of these stems could say what a question is about: words few topics use that are not
        everyday English ("numpy", "portfolio"; not "people", "made", "learn")."""
        return sum(1 for s in content(stems) if self.kb.index.share(s) < GENERIC_SHARE and commonness(s) < 0.8)

    # --- a whole message ------------------------------------------------------------------------------

    def prose(self, message: str) -> str:
        """The message with code, quotes, links and list markers set aside for matching (parts.py)."""
        return parts.prose(message, self._link_names()).text

    def _link_names(self) -> dict[str, str]:
        if self._links is None:
            links = {parts.url_key(r.url): r.name for r in self.kb.resources.values() if r.url}
            # a site with exactly one resource of ours is named by a link to the site alone
            sites: dict[str, set[str]] = {}
            for r in self.kb.resources.values():
                if r.url:
                    sites.setdefault("site:" + parts.url_site(r.url), set()).add(r.name)
            links.update({site: next(iter(found)) for site, found in sites.items() if len(found) == 1})
            self._links = links
        return self._links

    def layout(self, message: str) -> parts.Prose:
        """The message's Markdown read (parts.py): its prose, and what was set aside (code, a plan)."""
        return parts.prose(message, self._link_names())

    def read(self, message: str, *, previous: str | None = None, frame: str | None = None,
             layout: parts.Prose | None = None, known: bool = False) -> Reading:
        """Read one message (see _read)."""
        try:
            return self._read(message, previous=previous, frame=frame, layout=layout, known=known)
        except StopIteration as exc:
            # A reader of ours ending an iteration early must fail like any other error: the advisor may run
            # the reader in a thread, and a StopIteration raised into an asyncio future leaves it unresolved,
            # the question waiting forever.
            raise RuntimeError("reading the message stopped early") from exc

    def _read(self, message: str, *, previous: str | None = None, frame: str | None = None,
              layout: parts.Prose | None = None, known: bool = False) -> Reading:
        """Read one message; `previous` is the topic of the member's last answer in this conversation,
        `frame` the topic that answer was a part of ("the coding part" of an interview question),
        `layout` what its Markdown held besides prose (`message` is then that prose), `known` whether
        the member told their background before (then answers that fit it win close calls).
        The readers, in order: the plan or introduction its Markdown holds, small talk, the separate
        questions it asks, then each question's topic."""
        message = _AGE.sub(lambda m: f"{m.group(0)} (at my age)", message) if _DIGIT.search(message) else message
        if layout is not None:
            intro = self._intro(layout)
            planned = self._planned(layout.plan, intro) if layout.plan else None
            if planned is not None:
                return planned
            checked = self._plan_checked(layout, intro) if len(layout.items) >= 2 else None
            if checked is not None:
                return checked
            if intro is not None and self._stated(message) is None:
                return self._read_one(message, previous=previous, statement=intro, frame=frame, known=known)
        kind = smalltalk.classify(message) or self._reaction(message)
        if kind is not None:
            return Reading("smalltalk", smalltalk=kind)
        if self._about_sources(message):  # "who is Max Mynter?", "who wrote the guides you use?"
            return Reading("about")
        if parts.homework(message):  # "integrate x sin x for me": maths to solve, not maths to learn
            return Reading("unknown", elsewhere=(HOMEWORK,))
        reading = self._several(message, previous, frame, known)
        if reading is None:
            reading = self._read_one(message, previous=previous, frame=frame, known=known)
        feeling = feelings.feeling(message) if reading.kind in ("topic", "several", "unknown") else None
        if feeling is None:
            return reading
        if reading.kind == "several":
            return replace(reading, feeling=feeling)
        return self._for_feeling(reading, feeling, message)

    def _for_feeling(self, reading: Reading, feeling: str, message: str = "") -> Reading:
        """A message that states a feeling: among close candidates the topic whose advice answers that
        feeling wins; a message that asks nothing else gets that advice. Either way it is acknowledged."""
        kb = self.kb
        answering = self._answering(feeling)
        if reading.finished and reading.followup == "next" and answering and _NOW.isdisjoint(text.words(message)):
            # "done Andrew Ng and fast.ai, but recruiters ignore me": the step is ticked off, and the
            # complaint, not "what comes next", is what the message is about
            hits = kb.index.search(kb.normalizer.stems(message), threshold=0.0, limit=1, only={t.id for t in answering})
            if hits:
                return Reading("topic", (Match(hits[0].id, hits[0].title, max(hits[0].score, self.threshold)),),
                               reading.found, feeling=feeling, finished=reading.finished, likely=True)
        if reading.followup or reading.uncovered or reading.elsewhere:
            return replace(reading, feeling=feeling) if reading.kind == "topic" else reading
        if reading.kind == "topic":
            top = reading.matches[0].score
            candidates = list(reading.matches)
            if message and not any(feeling in getattr(kb.topic(m.id), "feelings", ()) for m in candidates):
                # the feeling may be stated outside the asking sentence ("40th rejection. what am I doing wrong?")
                candidates += kb.index.search(kb.normalizer.stems(message), threshold=0.0, limit=1,
                                              only={t.id for t in answering})
            # resources named in a message that asks nothing ("did Andrew Ng and fast.ai, but recruiters
            # ignore me") tell what the member did; the message is about the feeling
            band = 1.0 if reading.named and message and not any(map(text.is_asking, text.sentences(message))) else FEELING_BAND
            fitting = next((m for m in candidates if feeling in getattr(kb.topic(m.id), "feelings", ())
                            and top - m.score <= band), None)
            if fitting is not None and fitting.id != reading.matches[0].id:
                rest = tuple(m for m in reading.matches if m.id != fitting.id)
                return replace(reading, matches=(fitting, *rest), did_you_mean=rest[:1], feeling=feeling)
            return replace(reading, feeling=feeling)
        near = {m.id: m for m in reading.near}
        chosen = next((near[t.id] for t in answering if t.id in near), None) or (reading.near[0] if reading.near else None)
        if chosen is None and answering:
            # the feeling's topic the message's words fit best ("anxious I picked the wrong path" is not about maths)
            fits = kb.index.search(kb.normalizer.stems(message), threshold=0.0, limit=1, only={t.id for t in answering})
            best = kb.topic(fits[0].id) if fits else answering[0]
            chosen = Match(best.id, best.title, self.threshold)
        if chosen is None:
            return reading
        return Reading("topic", (chosen,), reading.found, likely=True, feeling=feeling,
                       did_you_mean=tuple(m for m in reading.near if m.id != chosen.id)[:1])

    def _answering(self, feeling: str) -> list[Entry | Step]:
        """The topics whose advice answers `feeling`, in file order (indexed on first use: 10,000 topics)."""
        if self._by_feeling is None:
            self._by_feeling = {}
            for t in self.kb.topics.values():
                for f in t.feelings:
                    self._by_feeling.setdefault(f, []).append(t)
        return self._by_feeling.get(feeling, [])

    def _naming(self, part: str) -> int:
        """How many words of one part of a message could name a topic on their own, loosely: a part
        with none ("and for free?") belongs to the part before it. Two kinds of part name their topic
        without such a word: a kind of resource that has a topic of its own ("and which podcasts?"), and
        a question that is plainly one of ours by itself ("…, and how long will it take?")."""
        stems = self.kb.normalizer.stems(part)
        share = self.kb.index.share
        naming = sum(1 for s in content(stems) if share(s) < 1.5 * GENERIC_SHARE and commonness(s) < 0.9)
        if naming or not text.is_asking(part):
            return naming
        folded = self._fold(part)
        tokens = set(folded) - _verbs(folded)
        if any(self._kind_topic(k) is not None for k, vocab in KINDS.items() if tokens & vocab):
            return 1
        if tokens & (_KIND_WORDS | _FREE):  # "and is there a free one?": a request about the part before
            return 0
        hits = self.kb.index.search(stems, threshold=self.threshold + OWN_QUESTION, limit=1)
        return 1 if hits else 0

    def _foreign(self, message: str) -> bool:
        """Whether the message uses a rare word the knowledge never does ("organic chemistry", "ballet"):
        then a topic just under the line is not answered as if it were the subject."""
        kb = self.kb
        folded = self._fold(message)
        names, surfaces = self.names(message), self.surfaces(folded)
        return any(not kb.index.knows(w) and kb.index.weight(w, names, surfaces.get(w)) > FOREIGN * kb.index.rarest
                   for w in content(kb.normalizer.stems_of(folded)))

    def _ours(self, stems: Sequence[str], found: Found) -> bool:
        """Whether, besides the field mentioned and resource kinds, the message names a subject of ours:
        a word few topics use and not everyday English ("transformers", "docker")."""
        field = set(self.kb.normalizer.stems(found.alias))
        rest = [w for w in stems if w not in field and w not in _KIND_STEMS]
        return self._telling(rest) > 0

    def _mostly_unknown(self, message: str) -> bool:
        """Whether words the knowledge never uses weigh more than those it does ("tips for grading exams
        faster": only "faster" is ours): then a topic just under the line matched a side word, not the
        subject, and is not offered as the likely answer."""
        kb = self.kb
        folded = self._fold(message)
        names, surfaces = self.names(message), self.surfaces(folded)
        known = unknown = 0.0
        for w in content(kb.normalizer.stems_of(folded)):
            if w in _FEELING_STEMS:
                continue  # how the member feels ("the maths is cooking me") is not the subject, known or not
            weight = kb.index.weight(w, names, surfaces.get(w))
            if kb.index.knows(w):
                known += weight
            else:
                unknown += weight
        return unknown > known

    def _reaction(self, message: str) -> str | None:
        """"welp, that's a longer road than I pictured", "you're more helpful than the FAQ": a reaction,
        unless it tells something about the member (a background) the advisor should remember."""
        kind = smalltalk.reaction(message)
        if kind is None:
            return None
        return None if self._stated(message) is not None else kind

    def _stated(self, message: str) -> Found | None:
        """The background `message` states about the asker (not a mere mention), read once per message."""
        found = self._found(message)
        return found if found is not None and found.about_self else None

    def _several(self, message: str, previous: str | None, frame: str | None = None, known: bool = False) -> Reading | None:
        """Two or three questions in one message, each naming a topic of its own: one reading each."""
        asking = self._joined_questions(message) or self.focus(message)
        pieces = parts.asking_parts(asking, self._naming)
        if len(pieces) < 2:
            return None
        statement = self._stated(message)
        readings: list[Reading] = []
        seen: set[tuple[str, str | None]] = set()  # (topic, follow-up): "…, and what comes after it?" is new
        asked_more = False  # a later part only asked for more of the part before ("…, and a free one?")
        for piece in pieces:
            one = self._read_one(piece, previous=previous, statement=statement, frame=frame, known=known)
            if readings and one.followup and not _BACK.intersection(text.words(piece)):
                # "…, and which podcasts?" may be a question of its own; "…, and how do I show it?" leans back
                alone = self._read_one(piece, statement=statement, known=known)
                if alone.kind == "topic" and alone.matches[0].score >= self.threshold + OWN_QUESTION:
                    one = alone
            if readings and one.followup == "resources" and one.topic == readings[-1].topic and one.wants:
                # "which book for classical ML, and is there a free one?": the first question, asking for more
                readings[-1] = replace(readings[-1], wants=readings[-1].wants | one.wants)
                asked_more = True
                continue
            if readings and one.followup not in (None, "next") and one.topic == readings[-1].topic:
                return None  # "stuck on linear algebra, how do I practise it?": one question, read whole
            if (readings and one.kind == "topic" and one.followup is None and not (one.wants - {"free"})
                    and readings[-1].wants - {"free"} and not _ONE.isdisjoint(text.words(piece))):
                # "a book for linear algebra, and which one for neural nets?": "one" is a book as well
                one = replace(one, wants=one.wants | (readings[-1].wants - {"free"}))
            if one.kind == "topic" and one.followup is None and _WHERE_TO_LEARN.search(piece):
                one = replace(one, where=True)
            key = (one.topic or one.uncovered or "", one.followup)
            # a part the guides only touch ("…, and which pays better?") is answered as such, beside the rest
            if not (one.kind == "topic" or one.uncovered) or key in seen or (
                    one.followup is None and one.topic is not None and one.topic in {t for t, _ in seen}):
                continue
            seen.add(key)
            readings.append(one)
            previous = one.topic
        if len(readings) < 2:
            return readings[0] if asked_more and readings else None
        matches = tuple(r.matches[0] for r in readings if r.matches)
        # Only a background the member states about themselves holds for every part; a field one part
        # mentions ("which maths…") is that part's own.
        return Reading("several", matches, statement, parts=tuple(readings))

    @staticmethod
    def _joined_questions(message: str) -> str | None:
        """"how do I get faster at X? and where do I learn Y?": a last question that opens with a joining
        word continues the question before it, so both are read (the focus alone keeps only the last)."""
        pieces = text.sentences(message)
        asks = [i for i, s in enumerate(pieces) if text.is_asking(s)]
        if len(asks) < 2 or next(iter(text.words(pieces[asks[-1]])), "") not in _JOINING:
            return None
        return " ".join(pieces[asks[-2] : asks[-1] + 1])

    def _read_one(self, message: str, *, previous: str | None = None, statement: Found | None = None,
                  frame: str | None = None, known: bool = False) -> Reading:
        """One question's reading: a follow-up, a topic, a statement about the asker, or unknown."""
        kb = self.kb
        given = statement
        statement = self._stated(message) or given  # a mention counts only in the question itself (below)
        asked = self.focus(message)
        matches, found, stems = self._match(asked, given=given, known=known)
        narrow = text.focus(message, enough=1)
        if narrow != asked and (statement is not None or (matches and getattr(kb.topic(matches[0].id), "personal", None))):
            # The sentences before the question are about the asker ("Java dev here. I want to move to ML.
            # Which maths do I need?") and the asking sentence alone names a topic as well: it is the question.
            alone, found_alone, stems_alone = self._match(narrow, known=known)
            if (alone and self._telling([w for w in stems_alone if w not in _ASKING_STEMS]) >= 1
                    and (not matches or alone[0].score >= matches[0].score)):
                asked, matches, found, stems = narrow, alone, found or found_alone, stems_alone
        clause = _LAST_ASKING_CLAUSE.search(asked) if statement is not None else None
        if clause is not None:
            # "I run a biology lab and want to move into ML, how long would that take me?": what comes before
            # the comma tells who is asking (remembered as the background), the clause after it asks
            alone, found_alone, stems_alone = self._match(clause.group(1), given=statement, known=known)
            says = [w for w in content(stems_alone) if w not in _ASKING_STEMS]  # not "…, could anyone explain?"
            if alone and says and (not matches or alone[0].score > matches[0].score):
                asked, matches, found, stems = clause.group(1), alone, found or found_alone, stems_alone
        wider = text.focus(message, wider=1)
        # "…my boss is open to me trying ML on it. what's the smartest way to learn while doing this at work?":
        # a question that points back ("this") and matches nothing is read with the sentence before it
        points_back = (asked == narrow and not _BACK.isdisjoint(text.words(asked))
                       and (not matches or self._telling(stems) < 2))  # "is it just me or is this a big part of the job?"
        if wider != asked and (asked != narrow or points_back):
            # "is there anything made for people like me?" says little without the sentence before it
            more, found_more, stems_more = self._match(wider, known=known)
            vague = self._telling(stems) < 2  # "anything made for people who just want to do ML?"
            gain = more[0].score - matches[0].score if more and matches else 0.0
            if more and (not matches or (vague and gain > -WIDER_MARGIN) or (gain > WIDER_MARGIN and more[0].id != matches[0].id)):
                asked, matches, found, stems = wider, more, found or found_more, stems_more
        if not matches and asked != message:  # the asking part alone says too little: the whole message
            matches, found_whole, stems = self._match(message)
            found = found or found_whole
        background = statement or found
        uncovered = self._uncovered(asked)
        if uncovered is not None:  # pay, offers, which framework: say so, and what the guides do say
            subject = next(o for o in kb.off_topic if o.id == uncovered)
            answer = kb.topic(subject.answered_by) if subject.answered_by else None
            if answer is not None:
                first = next((m for m in matches if m.id == answer.id), Match(answer.id, answer.title, self.threshold))
                return Reading("topic", (first,), background, uncovered=uncovered)
            if (not subject.says and matches and matches[0].id in subject.nearby and matches[0].score >= self.threshold
                    and self._telling(self._besides(stems, subject.words)) >= 1):
                # "a remote ML job while living in Egypt?": remote work isn't covered, finding jobs in Egypt is;
                # said plainly first, then that answer
                return Reading("topic", (matches[0],), background, uncovered=uncovered)
            near = tuple(Match(t.id, t.title, 0.0) for t in map(kb.topic, subject.nearby) if t is not None)
            return Reading("unknown", (), background, near=near, uncovered=uncovered)
        tokens = self._fold(asked)
        words = set(tokens) - _verbs(tokens)
        wants = frozenset(k for k, vocab in KINDS.items() if words & vocab) | (frozenset({"free"}) if words & _FREE else frozenset())
        kinds = wants - {"free"}
        # "which course for deep learning?" asks about the subject: the book called "Deep Learning" is not
        # named by it; a weakly named resource counts only with its kind asked for (WEAK_NAME).
        named = tuple(n.resource for n in kb.names.find(asked)
                      if n.strength >= WEAK_NAME or n.resource not in kb.resources
                      or kind_of(kb.resources[n.resource]) in kinds)
        if kinds and not named and previous is None:
            # "which book for classical ML?": the topic is what the book is *about*; the word "book"
            # would otherwise pull towards topics whose resources are books ("the deep learning book").
            rest = [w for w in stems if w not in _KIND_STEMS and w not in _DESCRIBING]  # "a book that covers X": X
            subject = [w for w in content(rest) if kb.index.share(w) < GENERIC_SHARE]
            # "what does the Careem hiring guy suggest for podcasts?": the guide asked names no subject
            subjectless = not self._telling([w for w in rest if w not in self._source_words(rest) and w not in _ASKING_STEMS])
            about = [t for t in map(self._kind_topic, sorted(kinds)) if t is not None] if subjectless else []
            if about and len(about) == len(kinds):  # "good podcasts for ML?", "any blogs?": that kind's entry
                found_matches = {m.id: m for m in matches}
                chosen = [found_matches.get(t.id) or Match(t.id, t.title, self.threshold) for t in about]
                if len(chosen) == 1:
                    return Reading("topic", (chosen[0],), background, wants=wants)
                return Reading("several", tuple(chosen), background,
                               parts=tuple(Reading("topic", (m,), background) for m in chosen))
            if not subject and anchored(rest):  # "the best books for machine learning": across the roadmap
                return Reading("resources", (), background, wants=wants)
            top = matches[0] if matches else None
            plain = self._above(self._search_if(
                rest, (lambda m: m.id != top.id and m.score > top.score + KIND_MARGIN) if top else None,
                top.score + KIND_MARGIN if top else 0.0, threshold=self.threshold, names=self.names(asked),
                surfaces=self.surfaces(tokens))) if subject else []
            if plain and (not matches or (plain[0].id != matches[0].id and plain[0].score > matches[0].score + KIND_MARGIN)):
                matches = plain

        finished = self._finished_step(asked, tokens)
        if finished is None and asked != message and not _NOW.isdisjoint(tokens):
            # "finally finished the fast.ai course!! … I built a bird classifier. so… what now?": the step
            # finished is told in a sentence before the question
            for sentence in text.sentences(message):
                if not _DONE.isdisjoint(self._fold(sentence)):
                    finished = self._finished_step(sentence, self._fold(sentence), by_name=True)
                    if finished is not None:
                        break
        if finished is not None and kinds and not _DONE.isdisjoint(tokens) and self._same_step_again(tokens, finished):
            # "done with cs50, which python course goes deeper?": more of the same step, not the next one
            return Reading("topic", (finished,), background, "resources", wants, named, done_with=named)
        if finished is not None:  # "learned python, now what?", "I've finished the maths step"
            return Reading("topic", (finished,), background, "next", wants, named, finished=finished.id)
        after = self._step_after(asked) if "after" in words else None
        if after is not None:  # "what comes after deep learning on the roadmap?": the step after it
            return Reading("topic", (after,), background, "next", wants, named)
        if previous is not None and kb.topic(previous) is not None:
            part = self._part(asked, stems, wants, previous, frame)
            if part is not None:  # "any course for the calc part?": that part's own topic, the request kept
                request = "resources" if kinds else ("practice" if words & _PRACTICE else None)
                return Reading("topic", (part,), background, request, wants, named, part_of=frame or previous)
            followup = self._followup(asked, words, stems, matches, previous, known=known or background is not None)
            if followup == "resources" and kinds:
                own = self._kinds_topic_lacks(previous, kinds)
                if own is not None:  # "…and which podcasts are worth it?" after maths: the podcasts topic
                    first = next((m for m in matches if m.id == own.id), Match(own.id, own.title, self.threshold))
                    return Reading("topic", (first,), background, None, wants, named)
            if followup is not None:
                topic = kb.topic(previous)
                assert topic is not None
                return Reading("topic", (Match(topic.id, topic.title, 1.0),), background, followup, wants, named)

        if named:
            matches = self._topic_for_named(named, matches)
        if (matches and statement is not None and statement.about_self and not named and not wants
                and not getattr(kb.topic(matches[0].id), "personal", None)
                and not self._telling(self._besides(stems, [statement.alias]))):
            # "warehouse supervisor here. is ML for people like me?": nothing asked but whether the move
            # suits them; their route answers it, not whichever topic the few words touched
            return Reading("statement", (), statement)
        if matches:
            top = matches[0]
            close = tuple(m for m in matches[1:3] if top.score - m.score <= CLOSE)
            return Reading("topic", tuple(matches), background, None, wants, named, did_you_mean=close)
        if statement is not None:
            return Reading("statement", (), statement)
        subjects = {o.id: o.about for o in kb.off_topic}
        elsewhere = tuple(subjects[s] for s in kb.index.elsewhere(kb.normalizer.stems(asked)) if s in subjects)
        near = () if elsewhere else tuple(self.near(message))
        # "a textbook on organic chemistry": a field mentioned, in a message not about ML, is its subject
        # ("what should a physicist learn?" names a person like the asker, not a subject)
        # ("a blog on transformers without walls of maths" is about transformers, a subject of ours)
        mentioned = (found is not None and not found.about_self and not anchored(stems) and not _PERSON.search(found.alias)
                     and not self._ours(stems, found))
        if (near and near[0].score >= self.threshold - LIKELY_BAND and not mentioned and not self._foreign(asked)
                and not self._mostly_unknown(asked)):
            # Just under the line, with nothing pointing elsewhere: the closest topic is usually right
            # (measured on our own fresh sets), so it is answered, with the runner-up as "did you mean".
            return Reading("topic", near[:1], background, did_you_mean=tuple(near[1:2]), likely=True)
        return Reading("unknown", (), background, near=near, elsewhere=elsewhere)

    def _uncovered(self, asked: str) -> str | None:
        """The subject inside the field that the guides don't cover which the asking part is about: one of
        its words or phrases appears whole, read the way the message is read ("bootcamp" → "boot camp").
        A word some topic uses (a moderator wrote an entry about pay) is covered, so it no longer counts."""
        norm = self.kb.normalizer
        if self._within is None:
            table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
            firsts: set[str] = set()
            for o in self.kb.off_topic:
                for w in o.words if o.within else ():
                    for key in {tuple(norm.stems(w)), tuple(norm.stems(w, correct=False))}:
                        if key and not all(self.kb.index.knows(t) for t in content(key)):  # a topic covers it now
                            table.setdefault(key[0], []).append((key, o.id))
                            firsts.update(t.rstrip("s") for t in text.words(w) if t not in text.STOPWORDS)
            self._within, self._within_firsts = table, frozenset(firsts)
        if not self._within or self._within_firsts.isdisjoint(w.rstrip("s") for w in text.words(asked)):
            return None  # no word of such a subject at all: the usual case, decided without reading synonyms
        stems = norm.stems(asked)
        for i, s in enumerate(stems):
            for key, subject in self._within.get(s, ()):
                if tuple(stems[i : i + len(key)]) == key:
                    return subject
        return None

    def _followup(self, asked: str, words: set[str], stems: list[str], matches: list[Match], previous: str, *,
                  known: bool = False) -> str | None:
        """How `asked` leans on the previous topic, or None when it starts afresh. With the member's
        background known, a question an answer about them matches ("how much time for all this?") is
        their own question, not the previous answer again."""
        kb = self.kb
        tokens = [w for w in self._fold(asked) if w != BREAK]
        back = bool(words & _BACK)
        cont = bool(tokens) and tokens[0] in _CONTINUE
        request = self._request(words, back, cont, tokens)
        own = [w for w in content(stems) if w not in _REQUEST_STEMS]
        # Words that could name a topic of their own: used by few topics and not everyday English.
        specific = [w for w in own if kb.index.share(w) < GENERIC_SHARE and commonness(w) < 0.8]
        confident = bool(matches) and (matches[0].score >= self.threshold + 0.05
                                       or (known and bool(getattr(kb.topic(matches[0].id), "personal", None))))
        if request and (back or not specific):
            return request  # "is there a book for that?", "a free one?", "and after that one?", "how do I practise that"
        if not (back or cont):
            return None
        if not specific:
            return None if confident else "again"  # "how long will it take me?" is its own question
        # "what language is it taught in?": its own words are about the previous topic, not a new one;
        # "and what about interviews?" names a topic of its own.
        if any(w in self._words_of(previous) for w in specific):
            return request or "again"
        if not matches and not self._mostly_unknown(asked):
            return request or "again"
        # An aside about things the knowledge never mentions ("btw can you check these invoices") leans on
        # nothing said before: it is read afresh, and declined there, not answered with the last topic again.
        return None

    @staticmethod
    def _request(words: set[str], back: bool, cont: bool, tokens: list[str]) -> str | None:
        joined = " ".join(tokens)
        if ("for me" in joined or "in my case" in joined or "like me" in joined) and not content(
                [t for t in tokens if t not in _CONTINUE and t not in _NEXT and t not in _FOR_ME_WORDS]):
            return "again"  # "so for me then?": the last answer again, for the member's own start
        if words & _NEXT and not _particle(words, tokens) and (
                back or cont or len(content(tokens)) <= 2 or {"next", "after", "afterwards"} & words):
            return "next"
        if words & _PRACTICE:
            return "practice"
        if words & (_KIND_WORDS | _FREE):
            return "resources"
        return None

    def _besides(self, stems: Sequence[str], phrases: Sequence[str]) -> list[str]:
        """The stems of a message besides those of some phrases (a subject's own words) and of "ML" itself."""
        norm = self.kb.normalizer
        gone = {s for p in phrases for s in norm.stems(p)} | {"ml", "mle"}
        return [s for s in stems if s not in gone]

    def _step_of(self, item: str) -> str | None:
        """The roadmap step a thing the member lists belongs to: the step it names, or the step the entry
        it names is part of ("pandas" → the Python packages entry → learning to code)."""
        kb = self.kb
        hits = kb.index.search(kb.normalizer.stems(item), threshold=self.threshold, limit=1)
        if not hits:
            return None
        if kb.step(hits[0].id) is not None:
            return hits[0].id
        return next((r for r in getattr(kb.topic(hits[0].id), "related", ()) if kb.step(r) is not None), None)

    def _about_sources(self, message: str) -> bool:
        """Whether the message asks who the guides' authors are or where the advice comes from."""
        if not _WHO.search(message):
            return False
        if self._authors is None:
            self._authors = frozenset(w for src in self.kb.sources.values() if src.guide and src.author
                                      for w in text.words(src.author) if w != BREAK)
        tokens = set(text.words(message))
        return bool(tokens & self._authors) or bool(tokens & _GUIDE_WORDS and tokens & _WRITING)

    def _step_after(self, asked: str) -> Match | None:
        """The roadmap step a question asks what comes after ("what comes after deep learning?", "after the
        maths, what should I study?"), when what it names is one."""
        found = _AFTER_STEP.search(asked)
        if found is None:
            return None
        named = found.group("x") or found.group("y") or ""
        stems = [w for w in self.kb.normalizer.stems(named) if w not in _PLAN_STEMS]
        steps = {s.id for s in self.kb.steps}
        hits = self.kb.index.search(stems, threshold=self.threshold + OWN_QUESTION, only=steps, limit=2) if content(stems) else []
        if not hits or (len(hits) > 1 and hits[0].score - hits[1].score < KIND_MARGIN):
            return None  # "after Andrew Ng's course": he has a course in two steps; which one is not said
        return Match(hits[0].id, hits[0].title, 1.0)

    def _finished_step(self, asked: str, tokens: Sequence[str], *, by_name: bool = False) -> Match | None:
        """"learned python, now what?", "finished the maths, what next": the step just done, whose next
        step is wanted."""
        done = [i for i, w in enumerate(tokens) if w in _DONE]
        own = any(i == 0 or tokens[i - 1] in _OWN for i in done)  # "I've finished the maths step", "just done with git"
        if not done or not (own or _NOW.intersection(tokens)):
            return None
        if all(NEGATIONS.intersection(tokens[max(i - 2, 0) : i]) for i in done):
            return None  # "I've never done anything like it": nothing was finished
        kb = self.kb
        # "step", "part", "stage" say nothing of which step ("step" alone once picked classical ML)
        stems = [s for s in kb.normalizer.stems(asked) if s not in _REQUEST_STEMS and s not in _PLAN_STEMS]
        hits = kb.index.search(stems, threshold=self.threshold * 0.6, only={s.id for s in kb.steps}, limit=3)
        if (hits or by_name) and not _NOW.intersection(tokens):
            # Without "now what?" it is a statement ("I've finished the maths step"): only a step it names
            # counts ("I've done a dozen courses" names none).
            courses = {n.resource for n in kb.names.find(asked)} if by_name else set()  # "finished the fast.ai course"
            holding = [s for s in kb.steps if courses.intersection(s.resources)]
            if len(holding) == 1:
                return Match(holding[0].id, holding[0].title, self.threshold)
            for hit in hits:
                step = kb.step(hit.id)
                named = {w for w in content(kb.normalizer.stems(f"{step.short} {step.title}", correct=False))
                         if kb.index.share(w) < 2 * GENERIC_SHARE} if step else set()
                if named.intersection(stems) or (step is not None and courses.intersection(step.resources)):
                    return hit
            return None
        return hits[0] if hits else None

    def _part(self, asked: str, stems: Sequence[str], wants: frozenset[str], previous: str,
              frame: str | None) -> Match | None:
        """"any practice site for the coding part?", "and for the system design bit?": a follow-up naming
        a part of what was being discussed. The part's own words pick the topic (never the one being
        discussed, which was just answered); among those they name about as well, the one that also fits
        the rest of the message, holds the kind of resource asked for, and belongs with the frame wins."""
        found = _PART.search(asked)
        if found is None:
            return None
        kb = self.kb
        named = content(kb.normalizer.stems(found.group(1)))
        if not self._telling(named):
            return None  # "the first part", "the hard bit": names no topic
        around = {previous, frame}
        hits = [h for h in kb.index.search(named, threshold=self.threshold, limit=8) if h.id not in around]
        if not hits:
            return None
        best = hits[0].score
        pool = {h.id: h for h in hits if best - h.score <= PART_BAND}
        whole = {h.id: h.score for h in kb.index.search(list(stems), threshold=0.0, limit=len(pool), only=set(pool))}
        context = kb.topic(frame or previous)
        kinds = wants - {"free"}

        def fit(hit: Match) -> float:
            topic = kb.topic(hit.id)
            related = context is not None and (hit.id in context.related or context.id in getattr(topic, "related", ()))
            holds = bool(kinds) and any(kind_of(kb.resources[r]) in kinds for r in getattr(topic, "resources", ())
                                        if r in kb.resources)
            return hit.score + whole.get(hit.id, 0.0) + PART_BONUS * related + PART_BONUS * holds

        chosen = max(pool.values(), key=fit)
        return Match(chosen.id, chosen.title, max(chosen.score, self.threshold))

    def _intro(self, layout: parts.Prose) -> Found | None:
        """A background in code the message says is the member ("let me = Developer(...)" + "that's me"):
        the code names the member (me, myself) and so does what is around it, or the code alone does."""
        if not layout.code or not _ME.search(layout.code + "\n" + layout.text):
            return None
        found = self.kb.detector.detect(self.kb.detector.words(layout.code))
        return replace(found, about_self=True) if found is not None else None

    def _planned(self, plan: parts.Plan, statement: Found | None) -> Reading | None:
        """"1. python ✅ 2. classical ML ✅ 3. ??? — what's step 3?": a plan is a statement of progress,
        and what it asks is the step after the furthest one it has reached (ticked items, when it ticks
        any; else every item before the open one). A question of its own under the list is that question."""
        kb = self.kb
        asked = set(text.words(plan.rest))
        if not plan.open and not asked & _NEXT:
            return None
        own = [w for w in kb.normalizer.stems(plan.rest) if w not in _PLAN_STEMS and kb.index.knows(w)]  # not "slot"
        if self._telling(own) and not asked & _NEXT:
            return None  # "where does kaggle fit in this?": a question of its own about the plan
        order = {s.id: i for i, s in enumerate(kb.steps)}
        reached: Step | None = None
        ticked: list[str] = []
        for item, tick in zip(plan.items, plan.ticked, strict=True):
            if any(plan.ticked) and not tick:
                continue  # with some items ticked, the others are still to do
            hits = kb.index.search(kb.normalizer.stems(item), threshold=self.threshold, only=set(order), limit=1)
            step = kb.step(hits[0].id) if hits else None
            if step is None:
                continue
            if tick:
                ticked.append(step.id)
            if reached is None or order[step.id] > order[reached.id]:
                reached = step
        if reached is None:
            return None
        return Reading("topic", (Match(reached.id, reached.title, 1.0),), statement, "next", ticked=tuple(ticked))

    def _plan_checked(self, layout: parts.Prose, statement: Found | None) -> Reading | None:
        """"- learn python - learn sql - get hired: realistic, or am I missing steps?": a list the member
        wrote, asked about as a whole, is checked against the roadmap (what it covers, what it leaves out)."""
        kb = self.kb
        asked = [w for w in text.words(layout.around) if w != BREAK]
        if not (text.is_asking(layout.around) and _CHECKING.intersection(asked)):
            return None
        own = [w for w in kb.normalizer.stems(layout.around) if w not in _PLAN_STEMS and w not in _CHECKING_STEMS
               and kb.index.knows(w)]
        if self._telling(own):
            return None  # "- numpy - pandas: which course covers these?": a question of its own about the list
        covered: list[str] = []
        unplaced: list[str] = []
        for item in layout.items:
            step = self._step_of(item)
            if step is None:
                unplaced.append(item)
            elif step not in covered:
                covered.append(step)
        if not covered:
            return None
        order = [s.id for s in kb.steps]
        return Reading("plan", (), statement, covered=tuple(sorted(covered, key=order.index)), unplaced=tuple(unplaced))

    def _source_words(self, stems: Sequence[str]) -> frozenset[str]:
        """The words describing each guide the message names by a word only that guide's description
        uses ("Careem" → the Learn With Passion post, by an engineer hiring ML engineers at Careem)."""
        if self._sources is None:
            norm = self.kb.normalizer
            texts = {s.id: " ".join(filter(None, (s.title, s.cite, s.short, s.author))) for s in self.kb.sources.values()}
            described = {sid: frozenset(content(norm.stems(t, correct=False))) for sid, t in texts.items()}
            own: dict[str, frozenset[str]] = {}
            for sid, words in described.items():
                for raw in text.words(texts[sid]):  # a name ("Careem", "Mynter"), not "blog" or "roadmap"
                    for w in norm.stems(raw, correct=False):
                        if commonness(raw) < 0.2 and len(raw) > 3 and self.kb.index.share(w) < NAME_SHARE:
                            own[w] = own.get(w, frozenset()) | words
            self._sources = own
        named = [self._sources[w] for w in stems if w in self._sources]
        return frozenset().union(*named) if named else frozenset()

    def _kinds_topic_lacks(self, topic_id: str, kinds: frozenset[str]) -> Entry | Step | None:
        """The topic about the one kind of resource asked for ("Podcasts to listen to"), when the topic
        a follow-up leans on has none of that kind: then that topic answers it, not "none filed here"."""
        topic = self.kb.topic(topic_id)
        if topic is None or len(kinds) != 1:
            return None
        (kind,) = kinds
        about = self._kind_topic(kind)
        if about is None or about.id == topic_id:
            return None
        has = any(kind_of(self.kb.resources[r]) == kind for r in topic.resources if r in self.kb.resources)
        return None if has else about

    def _kind_topic(self, kind: str) -> Entry | Step | None:
        """The topic *about* one kind of resource ("Podcasts to listen to"): its title names the kind and
        most of its resources are of it. Then "any good podcasts?" is that topic's question."""
        if kind not in self._kind_topics:
            vocab = KINDS.get(kind, set())
            found = None
            for topic in self.kb.topics.values():
                pool = [self.kb.resources[r] for r in topic.resources if r in self.kb.resources]
                same = sum(1 for r in pool if kind_of(r) == kind)
                if vocab.intersection(text.words(topic.title)) and same >= 2 and same * 2 > len(pool):
                    found = topic
                    break
            self._kind_topics[kind] = found
        return self._kind_topics[kind]

    def _same_step_again(self, tokens: Sequence[str], finished: Match) -> bool:
        """Whether what is asked after the clause saying something is done names that same step again
        ("finished cs50, a python course that goes further?"), so more of it is wanted, not the next."""
        done = next((i for i, w in enumerate(tokens) if w in _DONE), 0)
        after = next((i for i in range(done, len(tokens)) if tokens[i] == BREAK), None)
        if after is None:
            return False
        kb = self.kb
        rest = [s for s in kb.normalizer.stems_of([w for w in tokens[after + 1 :] if w != BREAK])
                if s not in _REQUEST_STEMS and s not in _KIND_STEMS]
        subject = [w for w in content(rest) if kb.index.share(w) < GENERIC_SHARE and commonness(w) < 0.8]
        if not subject:
            return False
        hits = kb.index.search(subject, threshold=self.threshold, only={s.id for s in kb.steps}, limit=1)
        return bool(hits) and hits[0].id == finished.id

    def _words_of(self, topic_id: str) -> frozenset[str]:
        """Every content stem of a topic's title, phrasings, answer and resources."""
        if topic_id not in self._topic_words:
            self._topic_words[topic_id] = self._collect_words(topic_id)
        return self._topic_words[topic_id]

    def _collect_words(self, topic_id: str) -> frozenset[str]:
        kb = self.kb
        topic = kb.topic(topic_id)
        if topic is None:
            return frozenset()
        parts = [topic.title, *topic.ask, *topic.keywords, topic.answer]
        if isinstance(topic, Step):
            parts.append(topic.best_way)
        for rid in topic.resources:
            r = kb.resources.get(rid)
            if r is not None:
                parts += [r.name, r.note or "", r.by or "", *r.aliases]
        return frozenset(content(kb.normalizer.stems(" ".join(parts), correct=False)))

    def _topic_for_named(self, named: Sequence[str], matches: list[Match]) -> list[Match]:
        """The topic to answer a question that names resources: the best match that lists one of them,
        else the topic (a step first) that lists the most of them."""
        kb = self.kb
        listing = [m for m in matches if set(named) & set(getattr(kb.topic(m.id), "resources", ()))]
        if listing:
            return [listing[0], *(m for m in matches if m is not listing[0])]
        if matches and matches[0].score >= self.threshold + NAMED_MARGIN:
            return matches  # "my github has five projects on the titanic dataset": clearly about portfolios
        candidates = kb.listing(named)
        if not candidates:
            return matches
        best = max(candidates, key=lambda t: (len(set(named) & set(t.resources)), named[0] in t.resources,
                                              isinstance(t, Step), not getattr(t, "personal", None)))
        return [Match(best.id, best.title, max(self.threshold, matches[0].score if matches else 0.0)),
                *(m for m in matches if m.id != best.id)]

    # --- helpers for the advisor -------------------------------------------------------------------

    def next_after(self, topic_id: str, route: Sequence[str], done: set[str]) -> Step | None:
        """The roadmap step that follows `topic_id` on `route` (an entry leads to its first related step)."""
        kb = self.kb
        topic = kb.topic(topic_id)
        if isinstance(topic, Entry):
            step_id = next((r for r in topic.related if kb.step(r)), None)
            if step_id is None:
                return next((kb.step(s) for s in route if s not in done and kb.step(s)), None)
            topic_id = step_id
        order = list(route) if topic_id in route else [s.id for s in kb.steps]
        if topic_id not in order:
            return None
        later = order[order.index(topic_id) + 1 :]
        return next((kb.step(s) for s in later if s not in done and kb.step(s)), None) or \
            next((kb.step(s) for s in later if kb.step(s)), None)
