"""Recognising where someone starts from ("I studied physics", "backend dev here", "I write Kotlin for an
Android app", "I manage a coffee shop") in free text.

Aliases are matched on words, not stems: a stemmer reads "developer" and "development" as one word,
which would turn "how do I learn web development?" into a statement about being a developer. Only
plurals are folded ("physicists" = "physicist"), and typos are corrected first.

Two kinds of alias: `aliases` name a role, a field or a tool of the trade ("paralegal", "data analyst",
"Kotlin", "sysadmin"); `workplaces` name where people work ("hotel", "warehouse", "coffee shop") and
count only when no role is stated ("I'm on the analytics team of a grocery chain" is analytics).

A match counts unless the words just before it negate it ("I'm not a data scientist", "no longer a
developer") or make it a wish ("I want to become a data scientist", "interested in data science"). It is
a statement about the asker when its clause says so: "I am / work as / write / build / run …", "my job
…", "as a …", "coming from …", "… here", "worked retail", "sysadmin at a hosting company", "2 years of
Django", "translator since 6 years". Otherwise it is only a mention ("how can a physicist become…"): used
for that one question, never remembered. Statements beat mentions, roles beat workplaces, and among
those the last one wins ("I studied physics but now I'm a backend developer" → software), except that one
marked as past ("I used to be…") loses to a current one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot.core.text import BREAK, Normalizer, words

NEGATIONS = frozenset({"not", "no", "never", "nor", "neither", "non", "without"})
# Between "I am/work…" and the alias, one of these makes the alias part of a question, not one's own
# ("I am not understand what is the difference between data scientist and …").
_ASKING = frozenset({"what", "which", "how", "why", "whether", "difference", "between", "versus", "vs", "compared"})
_SELF_VERBS = frozenset(
    """am was have had has studied study studying work worked working do did come came hold majored major
    graduated graduate teach taught been currently run ran used got switched moved quit finished finishing
    completed completing earned earning holding write wrote writing build built building maintain maintained
    maintaining develop developed developing code coded program programmed drive drove driving manage managed
    managing supervise supervised supervising edit edited editing produce produced producing sell sold selling
    fix fixed fixing test tested testing ship shipped shipping answer answered answering cook cooked cooking serve served serving
    deliver delivered delivering support supported supporting handle handled handling make made making create
    created creating analyse analyze analysed analyzed analysing analyzing lead led leading own owned design
    designed designing operate operated operating care cared nurse nursed treat treated translate translated
    translating photograph photographed shoot shot play played playing spend spent keep kept start started
    starting help helped helping clean cleaned cleaning sing draw drew paint painted plan planned planning
    train trained training tutor tutored instruct instructed practise practice practiced practised run
    running automate automated automating administer administered administering""".split()
)
_CLAUSE_START_VERBS = frozenset(
    """worked studied did spent been done graduated majored write wrote writing build building built maintain
    maintaining manage managing run running drive driving teach teaching supervise supervising finishing
    finished completing doing studying working""".split()
)
"""Verbs that state one's own work with "I" left out, at the start of a clause: "worked retail", "been a
nurse for 10 years", "write Terraform all day"."""
_WORK_VERBS = frozenset(
    """work worked working use used using write wrote writing build built building maintain maintained maintaining
    develop developed developing code coded coding program programmed programming run ran running manage managed
    managing ship shipped deploy deployed support supported automate automated administer administered keep kept
    design designed make made create created supervise supervised supervising drive drove driving own owned
    operate operated lead led spend spent been do did analyse analyze analysed analyzed analysing analyzing
    handle handled test tested testing serve served cook cooked deliver delivered""".split()
)
_CREDENTIALS = frozenset(
    """degree degrees phd doctorate masters master bachelor bachelors bsc msc ba ma mba background experience
    diploma certificate qualification years year job career been worked""".split()
)
_MY_QUALIFIERS = frozenset("whole entire current main previous last first own real actual daily regular".split())
_MY_NOUNS = frozenset("background degree major job field career profession experience work title role training day situation story".split())
_WISHES = frozenset(
    """want wants wanna love hope hoping plan planning dream dreaming aspire aspiring aim aiming become
    becoming learn learning interested interest into curious consider considering thinking apply applying
    switch switching transition transitioning pivot pivoting move moving get getting break breaking join
    joining pursue pursuing try trying explore exploring should could would might goal future someday eventually
    intend intending wish wishing reading read about hearing""".split()
)
"""Words between a cue and an alias that make it a wish, not a fact: "I want to become a data scientist",
"I'm learning data science", "I'd love to work as an analyst", "I'm thinking of switching to data science"."""
_TARGET = frozenset({"become", "becoming", "becomes"})
_PAST = [("used", "to"), ("former",), ("formerly",), ("previously",), ("ex",), ("was",), ("retired",)]
_FILLER = frozenset({"a", "an", "the", "really", "actually", "just", "currently", "now", "still", "am", "be", "been",
                     "so", "well", "basically", "mostly", "kind", "of", "sort", "full", "time", "part", "senior",
                     "junior", "lead", "head", "chief", "self", "employed", "freelance", "professional", "decent",
                     "bit", "ok", "okay", "hi", "hey", "hello", "yeah", "yes", "also", "already"})
# What may follow a bare statement ("no coding background at all", "physicist, 5 years"):
_TRAILING = frozenset({"at", "all", "whatsoever", "here", "year", "years", "yrs", "yr", "of", "experience", "so", "far",
                       "yet", "now", "currently", "since", "for", "about", "almost", "over", "nearly", "month", "months"})
_NUMBERS = frozenset("""a an one two three four five six seven eight nine ten eleven twelve fifteen twenty few
    couple several many""".split())
_DURATION = frozenset({"year", "years", "yrs", "yr", "month", "months", "decade", "decades"})
_EMPLOYER = frozenset({"at", "for", "with", "in"})
_LEVELS = frozenset("secondary primary high middle school elementary sixth form local hospital night".split())
"""Words that place a role before its name: "secondary maths teacher", "hospital pharmacist"."""
_PARTS_OF_A_ROUTE = frozenset("step steps part parts section sections module modules chapter chapters stage phase".split())
_BUSINESSES = frozenset("""startup startups company companies firm firms business businesses client clients
    chain chains group brand agency agencies sector industry app apps platform product products corp
    corporation giant team teams department departments office desk division unit""".split())
_PRODUCTS = frozenset("app apps website websites platform software system systems product products api".split())
_TEACHING = frozenset({"teach", "teaching", "taught", "teaches", "tutor", "tutoring", "lecture", "lecturing"})
_DOING = frozenset("""doing working building writing running making managing handling analysing analyzing
    maintaining designing coding programming supporting""".split())
_ADVERBS = frozenset("also mostly currently now still actually just already mainly primarily".split())
"""Between "I" and its verb: "I already am a dev", "I mainly write Kotlin"."""
_ALONGSIDE = frozenset("mostly mainly plus and some lots lot with in on using primarily".split())
"""Words that may join a trade's tool to the statement it belongs to: "mostly churn models", "plus some SQL"."""
_CUES = (NEGATIONS | _SELF_VERBS | _MY_NOUNS | _TRAILING | _WISHES | _CLAUSE_START_VERBS | _WORK_VERBS | _CREDENTIALS
         | {"i", "my", "as", "coming", "from", "used", "to", "here", "myself"})


def as_written(message: str, alias: str) -> str:
    """The words of `message` that `alias` (folded, plurals dropped) was read from, for showing the
    member what was understood: "Kubernetes", not "kubernete"."""
    pattern = r"\W+".join(re.escape(t) + r"(?:e?s)?" for t in alias.split())
    found = re.search(rf"(?<!\w){pattern}(?!\w)", message, re.IGNORECASE) if pattern else None
    return found.group(0) if found else alias


def plural(word: str) -> str:
    """'physicists' → 'physicist'; leaves 'physics', 'class', 'analysis' alone."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Found:
    background: str
    about_self: bool
    start: int  # word positions of the alias itself
    end: int
    consumed: frozenset[int]  # word positions that belong to the statement, for the matcher to skip
    alias: str = ""  # the words that were recognised ("gameplay programmer"), to show what was understood
    weak: bool = False  # a tool or a workplace rather than a role
    strength: int = 2  # 2 a role or field, 1 a tool of the trade, 0 a workplace


class BackgroundDetector:
    def __init__(self, normalizer: Normalizer, aliases: Iterable[tuple[str, Iterable[str]]],
                 tools: Iterable[tuple[str, Iterable[str]]] = (), workplaces: Iterable[tuple[str, Iterable[str]]] = (),
                 yielding: Iterable[str] = ()) -> None:
        self.normalizer = normalizer
        # Backgrounds that say what someone lacks ("never coded") rather than what they do: any other
        # background stated with them wins ("I'm a marketer and I've never coded" is a marketer).
        self.yielding = frozenset(yielding)
        table: dict[tuple[str, ...], tuple[str, int]] = {}
        aliases = [(background, tuple(names)) for background, names in aliases]
        # "I teach chemistry": the subject taught is not the teacher's field; they are a teacher.
        self.teacher = next((b for b, names in aliases if "teacher" in names), None)
        for strength, source in ((2, aliases), (1, tools), (0, workplaces)):
            for background, names in source:
                for name in names:
                    key = tuple(plural(w) for w in words(name) if w != BREAK)
                    if key:
                        table.setdefault(key, (background, strength))
        # Words that name a trade on their own ("kotlin", "python"): before a role they only say which kind
        # ("kotlin android dev, 4 yrs" is as bare a statement as "android dev, 4 yrs").
        self._trade_words = frozenset(key[0] for key in table if len(key) == 1)
        # subject → the background of its teacher, where the knowledge names one ("maths teacher", "physics teacher")
        self._teachers = {key[:-1]: bg for key, (bg, strength) in table.items()
                          if strength == 2 and len(key) > 1 and key[-1] == "teacher" and bg != self.teacher}
        # Aliases by their first word, longest first, so each position tries only the few that can match.
        self._by_first: dict[str, list[tuple[tuple[str, ...], str, int]]] = {}
        for key, (background, strength) in sorted(table.items(), key=lambda item: -len(item[0])):
            self._by_first.setdefault(key[0], []).append((key, background, strength))

    def words(self, text: str) -> list[str]:
        """Folded, typo-corrected words with plurals folded; BREAK between clauses.
        The cue words themselves are never "corrected" ("studied" must stay "studied")."""
        return [w if w == BREAK or w in _CUES else plural(self.normalizer.correct(w)) for w in words(text)]

    def detect(self, tokens: Sequence[str]) -> Found | None:
        """The background `tokens` (from .words()) state or mention, if any."""
        candidates: list[tuple[int, bool, Found]] = []  # (position, is_past, found)
        spans: list[tuple[int, int, str]] = []  # every alias, tool or workplace met, judged or not
        position = 0
        while position < len(tokens):
            if tokens[position] in self._by_first:
                for key, background, strength in self._by_first[tokens[position]]:
                    end = position + len(key)
                    if tuple(tokens[position:end]) == key:
                        spans.append((position, end, background))
                        found = self._judge(tokens, position, end, background, strength)
                        if found is not None:
                            candidates.append((position, self._is_past(tokens, position), found))
                        position = end - 1
                        break
            position += 1
        if not candidates:
            return None
        # Statements beat mentions, a field beats a lack of one, roles beat tools beat workplaces, current beats
        # past; then the last one wins.
        def rank(c: tuple[int, bool, Found]) -> tuple[bool, bool, int, bool]:
            return (c[2].about_self, c[2].background not in self.yielding, c[2].strength, not c[1])

        best_rank = max(rank(c) for c in candidates)
        best = [c for c in candidates if rank(c) == best_rank]
        chosen = max(best, key=lambda c: c[0])[2]
        # A lack stated beside the field that won ("… and I've never coded") is still part of the statement,
        # not of the question.
        lacks = [c[2].consumed for c in candidates if c[2].about_self and c[2].background in self.yielding]
        if lacks and chosen.background not in self.yielding:
            chosen = replace(chosen, consumed=chosen.consumed.union(*lacks))
        if chosen.about_self:
            # The same trade's tools said alongside ("I'm a data scientist, mostly churn models") describe the
            # asker too: they are part of the statement, not a question about churn models.
            more = self._alongside(tokens, [(a, b) for a, b, bg in spans if bg == chosen.background], chosen.consumed)
            more |= self._how_long(tokens, chosen.consumed | more)
            if more:
                chosen = replace(chosen, consumed=chosen.consumed | more)
        return chosen

    @staticmethod
    def _how_long(tokens: Sequence[str], consumed: frozenset[int]) -> frozenset[int]:
        """Clauses that only say for how long ("…, 5 yrs now", "…, ten years, …"), in a message that states a
        background: part of the statement, not a question about years."""
        if not consumed:
            return frozenset()
        more: set[int] = set()
        first = 0
        while first < len(tokens):
            last = first
            while last < len(tokens) and tokens[last] != BREAK:
                last += 1
            clause = tokens[first:last]
            if clause and any(w in _DURATION for w in clause) and all(
                    w in _DURATION or w in _TRAILING or w in _FILLER or w in _NUMBERS or w.isdigit() for w in clause):
                more.update(range(first, last))
            first = last + 1
        return frozenset(more)

    @staticmethod
    def _alongside(tokens: Sequence[str], spans: Sequence[tuple[int, int]], consumed: frozenset[int]) -> frozenset[int]:
        """Clauses that only add the stated trade's own words, with filler and durations ("mostly pandas",
        "kotlin, 5 yrs"): every word of such a clause. A clause that asks something is left alone."""
        more: set[int] = set()
        trade = {i for start, end in spans for i in range(start, end)}
        for start, end in spans:
            if start in consumed:
                continue
            first = BackgroundDetector._clause_start(tokens, start)
            last = end
            while last < len(tokens) and tokens[last] != BREAK:
                last += 1
            rest = [i for i in range(first, last) if i not in trade]
            if all(tokens[i] in _FILLER or tokens[i] in _TRAILING or tokens[i] in _ALONGSIDE or tokens[i].isdigit()
                   or tokens[i] in _NUMBERS for i in rest):
                more.update(range(first, last))
        return frozenset(more)

    @staticmethod
    def _clause_start(tokens: Sequence[str], position: int) -> int:
        while position > 0 and tokens[position - 1] != BREAK:
            position -= 1
        return position

    def _judge(self, tokens: Sequence[str], start: int, end: int, background: str, strength: int) -> Found | None:
        clause = self._clause_start(tokens, start)
        opener = list(tokens[clause:start])
        if strength == 2 and self._modifier(opener, tokens[end : end + 2]):
            strength = 0  # "Swift for a banking startup": the employer's trade, not the asker's role
        taught = [w for w in opener if w not in _FILLER][-1:]
        if strength == 2 and taught and taught[0] in _TEACHING and opener[-2:-1] != ["self"] and self.teacher:
            # "I teach chemistry", "teaching biology at a school": a teacher, unless the knowledge files the
            # teacher of that subject under a background of its own ("I teach maths" = "maths teacher")
            background = self._teachers.get(tuple(tokens[start:end]), self.teacher)
        weak = strength < 2
        meaningful = [w for w in opener if w not in _FILLER]
        if any(w in NEGATIONS for w in meaningful[-3:]) and "only" not in meaningful[-2:]:
            return None
        if self._target([w for w in opener if w not in ("a", "an", "the")]):
            return None  # "how do I become a tattoo artist?": where they want to go, not where they start
        after = list(tokens[end : end + 2])
        if after in (["no", "longer"], ["not", "anymore"]):
            return None
        if after[:1] and after[0] in _PARTS_OF_A_ROUTE:
            return None  # "I've finished the maths step": a step of the roadmap, not a field
        alias = " ".join(tokens[start:end])
        cue = self._cue(opener)
        if cue is not None and any(w in _ASKING for w in opener[cue:]):
            cue = None
        if cue is not None and any(w in NEGATIONS for w in opener[cue + 1 : cue + 3]):
            return None  # "I'm not a …", "I am not understand …": not what they are
        if cue is not None and self._wish(opener[cue:] if opener[cue] != "as" else opener):  # "get a job as a pilot"
            return Found(background, False, start, end, frozenset(range(start, end)), alias, weak, strength)  # a wish: a mention
        if cue is not None and not self._cue_counts([*opener[cue:], *tokens[start:end]], weak):
            cue = None
        lasting = self._lasting(tokens, clause, start, end)  # "2 years of Django", "translator since 6 years"
        lasting = lasting or self._owned_after(tokens, end)  # "Java microservices are my day job"
        if not [w for w in opener if w not in _FILLER] and tokens[end : end + 1] and tokens[end] in _DOING:
            lasting = True  # "data analyst doing SQL all day", "nurse working nights"
        if weak:  # a tool or a workplace says where someone starts only when they work with it or there
            about_self = cue is not None or lasting
            if not about_self:
                return None
            first = clause + cue if cue is not None else start
            return Found(background, True, start, end, frozenset(range(first, end)), alias, weak, strength)
        bare = self._bare(tokens, clause, start, end, self._trade_words)
        employed = not meaningful and after[:1] and after[0] in _EMPLOYER  # "sysadmin at a hosting company"
        about_self = cue is not None or after[:1] == ["here"] or bare or bool(employed) or lasting
        if about_self:
            # The statement runs from its cue ("coming from …", "I work as …") to the alias: the rest
            # of the clause may be the question ("too late to switch at 35, coming from accounting?").
            first = clause + cue if cue is not None else (clause if (bare or employed or lasting) else start)
            consumed = set(range(first, end))
            for position in range(end, len(tokens)):  # "… for 10 years", "… here", "… since 2019"
                if tokens[position] in _TRAILING or tokens[position].isdigit() or tokens[position] in _NUMBERS:
                    consumed.add(position)
                else:
                    break
        else:
            consumed = set(range(start, end))
        return Found(background, about_self, start, end, frozenset(consumed), alias, weak, strength)

    @staticmethod
    def _target(meaningful: list[str]) -> bool:
        """The alias follows "become" or "be" ("to be a nurse"), but not "used to be" (a past statement)."""
        meaningful = [w for w in meaningful if w not in ("really", "actually", "just", "good", "great", "successful")]
        last = meaningful[-2:]
        if any(w in _TARGET for w in last):
            return True
        return bool(last) and last[-1] in ("be", "being") and meaningful[-3:-1] != ["used", "to"]

    @staticmethod
    def _cue(opener: list[str]) -> int | None:
        """Where in the clause a statement about oneself begins, if it does: "I am/work/write …",
        "my background/degree …", "as a …", "coming from …", "worked retail"."""
        for i, a in enumerate(opener):
            b = opener[i + 1] if i + 1 < len(opener) else ""
            c = opener[i + 2] if i + 2 < len(opener) else ""
            if a == "my" and b in _MY_QUALIFIERS and c in _MY_NOUNS:  # "my whole career has been …"
                return i
            if (a == "i" and b in _SELF_VERBS) or (a == "my" and b in _MY_NOUNS) or (a in ("coming", "come") and b == "from"):
                return i
            if a == "i" and b in _ADVERBS and i + 2 < len(opener) \
                    and opener[i + 2] in _SELF_VERBS:
                return i
        if opener[-2:] in (["as", "a"], ["as", "an"]):
            return len(opener) - 2
        if opener[-1:] == ["as"]:
            return len(opener) - 1
        lead = [w for w in opener if w not in _FILLER]
        if lead and lead[0] in _CLAUSE_START_VERBS:
            return opener.index(lead[0])
        if lead[:1] == ["background"] and lead[1:2] in (["in"], ["is"], []):  # "background in mechanical engineering"
            return opener.index("background")
        return None

    @staticmethod
    def _cue_counts(statement: Sequence[str], weak: bool) -> bool:
        """"I have a question about statistics" is no statement: "have" and "got" count only with a degree,
        a job or experience ("I have a PhD in physics", "got my degree in maths"); a tool or a workplace
        counts only with a verb of working ("I write Kotlin", "I manage a coffee shop")."""
        verbs = [w for w in statement if w in _SELF_VERBS or w in _CLAUSE_START_VERBS]
        if weak:
            mine = statement[:1] == ["my"] and any(w in _MY_NOUNS for w in statement[1:3])  # "my day job is SEO"
            return any(w in _WORK_VERBS for w in verbs) or statement[:1] == ["as"] or mine
        if verbs and verbs[0] in ("have", "had", "has", "got"):
            return any(w in _CREDENTIALS or w in ("no", "never", "zero") for w in statement)
        return True

    @staticmethod
    def _wish(words_: Sequence[str]) -> bool:
        """Between the cue and the alias, a word that makes it a wish ("I want to become …"); "switched to"
        and "moved to" are facts."""
        return any(w in _WISHES for w in words_)

    @staticmethod
    def _bare(tokens: Sequence[str], clause: int, start: int, end: int, trades: frozenset[str] = frozenset()) -> bool:
        """A clause that is only the background: "complete beginner", "no coding background at all",
        "kotlin android dev, 5 yrs" (a trade's own word before the role)."""
        if any(w not in _FILLER and w not in _LEVELS and w != "taught" and w not in trades
               for w in tokens[clause:start]):  # "self-taught dev", "secondary maths teacher"
            return False
        rest = []
        for w in tokens[end:]:
            if w == BREAK:
                break
            rest.append(w)
        if rest[:1] and rest[0] in _EMPLOYER and len(rest) <= 4:
            return True  # "secondary maths teacher in the UK.", "nurse at a small clinic"
        return all(w in _TRAILING or w in _FILLER or w.isdigit() for w in rest)

    @staticmethod
    def _lasting(tokens: Sequence[str], clause: int, start: int, end: int) -> bool:
        """A duration right around the alias says it is one's own: "2 yrs of django", "translator since 6
        years", "chef for about ten years"."""
        before = [w for w in tokens[max(clause, start - 3) : start]]
        if before[-1:] == ["of"] and any(w in _DURATION for w in before):
            return True
        after = []
        for w in tokens[end : end + 5]:
            if w == BREAK:
                break
            after.append(w)
        return bool(after) and after[0] in ("since", "for", "with") and any(w in _DURATION for w in after)

    @staticmethod
    def _owned_after(tokens: Sequence[str], end: int) -> bool:
        """"Java microservices are my day job", "pandas is my bread and butter": the clause after the
        alias says it is one's own work."""
        after = []
        for w in tokens[end : end + 6]:
            if w == BREAK:
                break
            after.append(w)
        return any(a in ("is", "are", "was", "were") and b == "my" for a, b in zip(after, after[1:], strict=False)) \
            and any(w in _MY_NOUNS or w in ("bread", "living") for w in after)

    @staticmethod
    def _modifier(opener: Sequence[str], after: Sequence[str]) -> bool:
        """The alias describes an employer or a product, not a person: "for a banking startup", "at a
        law firm's IT desk", "a banking app"."""
        lead = [w for w in opener if w not in ("a", "an", "the", "big", "small", "large", "local")]
        return (bool(lead) and lead[-1] in _EMPLOYER and len(opener) > 1 and bool(after)
                and after[0] in _BUSINESSES) or (bool(after) and after[0] in _PRODUCTS)

    @staticmethod
    def _is_past(tokens: Sequence[str], start: int) -> bool:
        clause = tokens[BackgroundDetector._clause_start(tokens, start) : start]
        return any(tuple(clause[i : i + len(m)]) == m for m in _PAST for i in range(len(clause)))
