"""The first reader: a message's Markdown set aside, and the message split into the parts that ask.

Members paste code, error messages, quotes, links and lists around their question. Their words would
drown the question ("import pickle … model.predict" is not a question about pickles), so:

* fenced code blocks are set aside; inline `code` keeps its words (it is usually the thing asked about);
* a link to a resource the knowledge lists becomes that resource's name, any other link the words of
  its address ("coursera learn machine learning");
* a quote ("> …") is set aside, unless what is left refers to it ("true?", "what's the point of this
  line?") or says too little on its own: then the quote is read as part of the question;
* list items become one sentence, their markers dropped; a list that ticks items off (✅) or leaves one
  open ("???") is also kept as a `Plan`: progress, whose open item is what comes next;
* "this" in a question about a code block that trains or runs a model refers to that model ("how do I
  get from this to users?" → "from this model"), so the code's meaning stays while its words go;
* the code is kept aside (`Prose.code`) for a reader that wants it: an introduction written as code
  ("let me = Developer(...)" + "that's me") still says who the member is.

`asking_parts` then splits what is left into the questions it asks ("which maths do I need, and how
long will it take?"): sentences that each ask, or one sentence joined by "and", "plus", "also". Pure
text: which parts name a topic is for the reader to judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.core.text import BREAK, content, is_asking, sentences, words

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_INLINE = re.compile(r"`([^`\n]{1,80})`")
_URL = re.compile(r"<?(https?://[^\s<>]+|www\.[^\s<>]+)>?", re.I)
_QUOTE = re.compile(r"^\s*>+ ?")
_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)])\s+")
_PLACEHOLDER = re.compile(r"(?m)\?{2,}(?=[ \t]*[^\W\d_])|^[ \t]*[-*+•]?[ \t]*\?{2,}[ \t]*$")
_EMPHASIS = re.compile(r"(\*\*|__|~~|\|\|)")
_TLDR = re.compile(r"\btl\s*;?\s*dr\b\s*[:;,-]?", re.I)
_URL_NOISE = frozenset({"http", "https", "www", "com", "org", "net", "io", "dev", "html", "htm", "php", "en", "abs",
                        "pdf", "index", "watch", "edu", "co", "uk", "ai"})
_REFERS = frozenset({"this", "that", "it", "true", "agree", "right", "correct", "accurate", "legit", "mean",
                     "means", "point", "take", "line", "quote", "says", "said", "claim"})
QUOTE_ENOUGH = 6
"""Content words the rest of a message needs to stand without the quote it comes with."""


@dataclass(frozen=True)
class Plan:
    """A list the member wrote of their route: the items before the open one (or all of them) and which
    of those they ticked off. `open` says an item was left to fill ("???", "tbd")."""

    items: tuple[str, ...]
    ticked: tuple[bool, ...]
    open: bool
    rest: str  # the message without the list: what it asks about the plan


@dataclass(frozen=True)
class Prose:
    text: str  # what to read for meaning
    asides: tuple[str, ...] = ()  # what was set aside: code, quotes
    plan: Plan | None = None
    code: str = ""  # the fenced code set aside, its fences dropped
    items: tuple[str, ...] = ()  # the items of its lists, ticked or not ("- python", "- sql")
    around: str = ""  # what it says besides its lists (the question about them)


def url_key(url: str) -> str:
    """An address as compared with the resources' own: no scheme, no "www.", no trailing slash."""
    url = re.sub(r"^https?://", "", url.strip().lower())
    url = url.removeprefix("www.")
    return url.rstrip("/").split("#")[0]


def url_site(url: str) -> str:
    """The site an address is on, without "www." or another first label: "course.fast.ai/x" → "fast.ai"."""
    host = url_key(url).split("/", 1)[0]
    labels = host.split(".")
    keep = 3 if len(labels) > 2 and labels[-2] in ("co", "com", "ac", "org", "net", "gov", "edu") else 2  # "bbc.co.uk"
    return ".".join(labels[-keep:])


def _link_words(url: str, names: Mapping[str, str]) -> str:
    key = url_key(url.rstrip(".,;:!?)"))
    if key in names:
        return names[key]
    site = "site:" + url_site(key)
    if key.count("/") == 0 and site in names:  # a link to the site itself ("fast.ai"): its one resource there
        return names[site]
    tokens = [w for w in re.split(r"[^a-z]+", key) if len(w) > 1 and w not in _URL_NOISE]
    return " ".join(tokens[:8])


def prose(message: str, link_names: Mapping[str, str] | None = None) -> Prose:
    """`message` with its Markdown set aside for matching (see the module's docstring)."""
    names = link_names or {}
    asides: list[str] = []

    def fence(m: re.Match[str]) -> str:
        asides.append(m.group(0))
        return "\n"

    text = _FENCE.sub(fence, message)
    code = "\n".join(a.strip("`") for a in asides)
    if code and _MODEL_CODE.search(code):
        text = _DEICTIC.sub(lambda m: f"{m.group(0)} model", text, count=1)
    text = _tables_as_lists(text)
    text = _LABEL.sub("", text)  # "**Context:** physicist …", "Question: …": the label is no part of it
    listed = plan(text)
    text = _INLINE.sub(lambda m: m.group(1), text)
    text = _URL.sub(lambda m: _link_words(m.group(1), names), text)
    text = _EMPHASIS.sub("", text)
    text = _TLDR.sub(" ", text)  # "TL;DR nurse -> ML engineer?": a label, and its ";" no sentence break
    text = _PLACEHOLDER.sub(" ", text)  # "what goes in the ??? step": a gap, not the end of a question
    quotes: list[str] = []
    lines: list[str] = []
    items: list[str] = []
    every_item: list[str] = []
    around: list[str] = []
    for line in text.split("\n"):
        if _QUOTE.match(line):
            quotes.append(_QUOTE.sub("", line).strip())
            continue
        if _ITEM.match(line):
            items.append(_ITEM.sub("", line).strip().rstrip(".,;"))
            every_item.append(_TICK.sub("", items[-1]).strip(" -*:.,"))
            continue
        around.append(line.strip())
        if items:
            lines.append(", ".join(i for i in items if i) + ".")
            items = []
        lines.append(line.strip())
    if items:
        lines.append(", ".join(i for i in items if i) + ".")
    rest = "\n".join(line for line in lines if line)
    quote = " ".join(q for q in quotes if q)
    if quote:
        asides.append(quote)
        rest_words = [w for w in words(rest) if w != BREAK]
        if not rest_words:
            rest = quote  # only a quote: it is the question
        elif len(content(rest_words)) < QUOTE_ENOUGH or _REFERS.intersection(rest_words):
            rest = _with_quote(rest, quote)
    return Prose(rest.strip(), tuple(asides), listed, code, tuple(i for i in every_item if i and not _OPEN.match(i)),
                 "\n".join(line for line in around if line))


_LABEL = re.compile(r"(?im)^[ \t]*(?:\*\*|__)?[ \t]*(?:context|background|about me|goal|goals|question|questions|q|"
                    r"situation|problem|status|update|edit|tl;?dr)[ \t]*(?:\*\*|__)?[ \t]*:[ \t]*(?:\*\*|__)?")
_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_TABLE_RULE = re.compile(r"^[\s|:\-]+$")


def _tables_as_lists(text: str) -> str:
    """A Markdown table of progress ("| python | done |") read as a list: a row's first cell is the item,
    ticked when another cell says it is done; the header row (the one above the |---| rule) is dropped."""
    if "|" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        row = _TABLE_ROW.match(line)
        if row is None:
            out.append(line)
            continue
        if _TABLE_RULE.match(line) or (i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]) and "|" in lines[i + 1]):
            continue  # the rule, or the header above it
        cells = [c.strip() for c in row.group(1).split("|")]
        name, rest = cells[0], " ".join(cells[1:])
        if not name:
            continue
        out.append(f"- {name} ✅" if _TICK.search(rest) or rest.lower() in ("yes", "y", "x") else f"- {name}")
    return "\n".join(out)


_TICK = re.compile(r"✅|✔️?|☑️?|✓|\[[xX]\]|~~|\((?:done|finished|complete|completed)\)|\bdone\s*$", re.I)
_OPEN = re.compile(r"^(?:\?+|\.{2,}|…|tbd|tba|todo|idk|\?\s*\?\s*\?|\[ \]\s*\?*)$", re.I)
_MODEL_CODE = re.compile(r"\.(?:fit|predict|train|forward)\s*\(|\b(?:torch|keras|sklearn|tensorflow|xgboost)\b|\bmodel\b")
_DEICTIC = re.compile(r"\b(?:this|that)\b(?!\s+(?:model|code|one|is|was|\w+ing)\b)", re.I)


def plan(text: str) -> Plan | None:
    """The member's plan, when `text` holds a list of at least two items that ticks some off or leaves
    one open; None otherwise (a plain list of things)."""
    items: list[str] = []
    ticked: list[bool] = []
    rest: list[str] = []
    open_at: int | None = None
    for line in text.split("\n"):
        if not _ITEM.match(line):
            rest.append(line)
            continue
        item = _ITEM.sub("", line).strip()
        bare = _TICK.sub("", item).strip(" -*:.,")
        if _OPEN.match(bare) or not bare:
            if open_at is None:
                open_at = len(items)
            continue
        items.append(bare)
        ticked.append(bool(_TICK.search(item)))
    if len(items) + (open_at is not None) < 2 or (open_at is None and not any(ticked)):
        return None
    cut = len(items) if open_at is None else open_at
    return Plan(tuple(items[:cut]), tuple(ticked[:cut]), open_at is not None, "\n".join(rest).strip())


def _with_quote(rest: str, quote: str) -> str:
    """The quote read inside the last asking sentence, which refers to it: "true? — <quote>"."""
    parts = sentences(rest)
    asking = [i for i, s in enumerate(parts) if is_asking(s)]
    at = asking[-1] if asking else len(parts) - 1
    last = parts[at].rstrip("?!. ")
    quote = quote.rstrip("?!. ")
    parts[at] = f"{last}: {quote}?" if asking else f"{last}: {quote}."
    return "\n".join(parts)


# --- the questions a message asks ----------------------------------------------------------------------

_JOINS = re.compile(r",?\s+(?:and also|and then|plus|also|as well as)\s+|;\s*|,\s+and\s+|\s+and\s+(?=(?:what|which|how|"
                    r"where|when|why|who|is|are|do|does|did|can|could|should|would|will|any|got)\b)", re.I)
"""Where one question ends and the next begins: ", and", "plus", ";", or a bare "and" before a question
word ("… and how long will it take?"); otherwise a bare "and" joins two things of one question
("commands and syntax")."""
_COMMA_QUESTION = re.compile(r",\s+(?=(?:what|which|how|where|when|is|are|do|does|can|should|any)\b)", re.I)
_MAYBE_SEVERAL = re.compile(r"[,;]|\?.*\S.*\?|\b(?:and|plus|also|as well as)\b", re.I | re.S)
_LEAD = re.compile(r"^\s*(?:(?:a few|few|couple of|some|two|three|four|2|3|4)\s+(?:quick\s+)?(?:things|questions|qs)|"
                   r"two-parter|quick ones?|questions?|qs)\s*[:,-]\s*", re.I)


def asking_parts(text: str, telling: Callable[[str], int], *, most: int = 3) -> list[str]:
    """The separate questions in `text`, when it asks more than one; else [text].

    `telling(part)` says how many words of a part could name a topic: a part is a question of its own
    only with one (so "books and courses for NLP" stays one question: "courses for NLP" alone names the
    topic, "books" does not)."""
    if not _MAYBE_SEVERAL.search(text):
        return [text]  # no joining word, no second question: the usual case, decided by one search
    body = _LEAD.sub("", text.strip())
    asking = [s for s in sentences(body) if is_asking(s)]
    pieces: list[str] = []
    for sentence in asking or [body]:
        chunks: list[str] = []
        for chunk in _JOINS.split(sentence):
            # "which maths do I need, how long will it take?" is two questions; "my laptop is slow,
            # where can I rent a GPU?" is one: a comma splits only after a part that asks itself.
            left, *more = _COMMA_QUESTION.split(chunk, maxsplit=1)
            chunks.extend([left, *more] if more and is_asking(left) else [chunk])
        chunks = [c for c in chunks if c and c.strip(" ,.?!")]
        pieces.extend(chunks if len(chunks) > 1 else [sentence])
    if len(pieces) < 2:
        return [text]
    merged: list[str] = []
    for piece in pieces:  # a chunk that names nothing belongs with the one before it
        if merged and telling(piece) == 0:
            merged[-1] = f"{merged[-1]} and {piece}"
        elif not merged or telling(merged[-1]) > 0:
            merged.append(piece)
        else:
            merged[-1] = f"{merged[-1]} and {piece}"
    if len(merged) < 2 or len(merged) > most:
        return [text]
    return [p.strip() for p in merged]


# --- maths to solve rather than maths to learn ----------------------------------------------------------

_EXPRESSION = re.compile(r"\[\s*\[|\d\s*[-+*/^=×·]\s*[\dx(]|[a-z]\s*\^\s*\(?[\dx]|∫|\bd[xy]\b|"
                         r"\b(?:sin|cos|tan|log|ln|exp)\s*\(?\s*[\dx]|\be\s*\^|\bx\s*[-+*/=^]|\d\s*x\b", re.I)
_MAYBE_EXPRESSION = re.compile(r"[\d\[^∫x]|dy", re.I)
"""What every match of _EXPRESSION holds (a digit, "[", "^", "∫", an x, or "dy"): a scan for these settles
most messages several times faster than _EXPRESSION, whose alternatives are tried at every letter."""
_SOLVE = frozenset("""solve compute calculate integrate differentiate derive evaluate simplify factor factorise
    factorize find determine prove work walk""".split())


def homework(message: str) -> bool:
    """A maths exercise to be done ("find the eigenvalues of [[2,1],[1,2]]", "integrate e^x cos x"), not a
    question about learning maths: a formula or matrix in the message and a verb asking for its solution
    (or "what is/are … of" a formula)."""
    if not _MAYBE_EXPRESSION.search(message) or not _EXPRESSION.search(message):
        return False
    tokens = [w for w in words(message) if w != BREAK]
    if _SOLVE.intersection(tokens):
        return True
    return any(a in ("what", "whats") and b in ("is", "are") for a, b in zip(tokens, tokens[1:], strict=False))
