"""Recognising a stated background ("I studied physics", "backend dev here") in free text.

Aliases are matched on words, not stems: a stemmer reads "developer" and "development" as one word,
which would turn "how do I learn web development?" into a statement about being a developer. Only
plurals are folded ("physicists" = "physicist"), and typos are corrected first.

A match counts unless the words just before it negate it ("I'm not a data scientist", "no longer a
developer", "without a statistics degree"). It is a statement about the asker ("self") when its clause
says so: "I am / I work as / I studied / I have … ", "my background / degree / job …", "as a …",
"coming from …", or "… here" right after it. Otherwise it is only a mention ("how can a physicist
become…"): used for that one question, not remembered. When several count, the last one wins ("I
studied physics but now I'm a backend developer" → software), and one marked as past ("I used to be…")
loses to a current one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.text import BREAK, Normalizer, words

_NEGATIONS = frozenset({"not", "no", "never", "nor", "neither", "non", "without"})
_SELF_VERBS = frozenset(
    """am was have had has studied study studying work worked working do did come came hold majored major
    graduated graduate teach taught been currently run ran used got switched switching moved moving quit
    finished finishing completed completing earned earning hold holding""".split()
)
_MY_NOUNS = frozenset("background degree major job field career profession experience work title role training".split())
_PAST = [("used", "to"), ("former",), ("formerly",), ("previously",), ("ex",), ("was",), ("retired",)]
_FILLER = frozenset({"a", "an", "the", "really", "actually", "just", "currently", "now", "still", "am", "be", "been"})
# What may follow a bare statement ("no coding background at all", "physicist, 5 years"):
_TRAILING = frozenset({"at", "all", "whatsoever", "here", "year", "years", "of", "experience", "so", "far", "yet"})
_CUES = _NEGATIONS | _SELF_VERBS | _MY_NOUNS | _TRAILING | {"i", "my", "as", "coming", "from", "used", "to"}


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


class BackgroundDetector:
    def __init__(self, normalizer: Normalizer, aliases: Iterable[tuple[str, Iterable[str]]]) -> None:
        self.normalizer = normalizer
        table: dict[tuple[str, ...], str] = {}
        for background, names in aliases:
            for name in names:
                key = tuple(plural(w) for w in words(name) if w != BREAK)
                if key:
                    table.setdefault(key, background)
        # Aliases by their first word, longest first, so each position tries only the few that can match.
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for key, background in sorted(table.items(), key=lambda item: -len(item[0])):
            self._by_first.setdefault(key[0], []).append((key, background))

    def words(self, text: str) -> list[str]:
        """Folded, typo-corrected words with plurals folded; BREAK between clauses.
        The cue words themselves are never "corrected" ("studied" must stay "studied")."""
        return [w if w == BREAK or w in _CUES else plural(self.normalizer.correct(w)) for w in words(text)]

    def detect(self, tokens: Sequence[str]) -> Found | None:
        """The background `tokens` (from .words()) state or mention, if any."""
        candidates: list[tuple[int, bool, Found]] = []  # (position, is_past, found)
        position = 0
        while position < len(tokens):
            if tokens[position] in self._by_first:
                for key, background in self._by_first[tokens[position]]:
                    end = position + len(key)
                    if tuple(tokens[position:end]) == key:
                        found = self._judge(tokens, position, end, background)
                        if found is not None:
                            candidates.append((position, self._is_past(tokens, position), found))
                        position = end - 1
                        break
            position += 1
        if not candidates:
            return None
        current = [c for c in candidates if not c[1]] or candidates
        return max(current, key=lambda c: c[0])[2]

    @staticmethod
    def _clause_start(tokens: Sequence[str], position: int) -> int:
        while position > 0 and tokens[position - 1] != BREAK:
            position -= 1
        return position

    def _judge(self, tokens: Sequence[str], start: int, end: int, background: str) -> Found | None:
        clause = self._clause_start(tokens, start)
        opener = list(tokens[clause:start])
        meaningful = [w for w in opener if w not in _FILLER]
        if any(w in _NEGATIONS for w in meaningful[-3:]) and "only" not in meaningful[-2:]:
            return None
        after = list(tokens[end : end + 2])
        if after in (["no", "longer"], ["not", "anymore"]):
            return None
        cue = self._cue(opener)
        bare = self._bare(tokens, clause, start, end)
        about_self = cue is not None or after[:1] == ["here"] or bare
        if about_self:
            # The statement runs from its cue ("coming from …", "I work as …") to the alias: the rest
            # of the clause may be the question ("too late to switch at 35, coming from accounting?").
            consumed = set(range(clause + cue if cue is not None else (clause if bare else start), end))
            if after[:1] == ["here"]:
                consumed.add(end)
        else:
            consumed = set(range(start, end))
        return Found(background, about_self, start, end, frozenset(consumed))

    @staticmethod
    def _cue(opener: list[str]) -> int | None:
        """Where in the clause a statement about oneself begins, if it does: "I am/work/studied …",
        "my background/degree …", "as a …", "coming from …"."""
        for i, a in enumerate(opener):
            b = opener[i + 1] if i + 1 < len(opener) else ""
            if (a == "i" and b in _SELF_VERBS) or (a == "my" and b in _MY_NOUNS) or (a in ("coming", "come") and b == "from"):
                return i
        if opener[-2:] in (["as", "a"], ["as", "an"]):
            return len(opener) - 2
        if opener[-1:] == ["as"]:
            return len(opener) - 1
        return None

    @staticmethod
    def _bare(tokens: Sequence[str], clause: int, start: int, end: int) -> bool:
        """A clause that is only the background: "complete beginner", "no coding background at all"."""
        if any(w not in _FILLER for w in tokens[clause:start]):
            return False
        rest = []
        for w in tokens[end:]:
            if w == BREAK:
                break
            rest.append(w)
        return all(w in _TRAILING or w in _FILLER or w.isdigit() for w in rest)

    @staticmethod
    def _is_past(tokens: Sequence[str], start: int) -> bool:
        clause = tokens[BackgroundDetector._clause_start(tokens, start) : start]
        return any(tuple(clause[i : i + len(m)]) == m for m in _PAST for i in range(len(clause)))
