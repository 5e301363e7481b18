"""The shape of the knowledge files, as pydantic models (see knowledge/README.md for moderators).

Each knowledge file is a mapping with one or more of these sections, each a list:
`sources`, `resources`, `steps`, `backgrounds`, `entries`, `synonyms`.
Unknown keys are errors, so a typo like `anwser:` is caught instead of silently ignored.

Provenance: steps, entries, backgrounds and resources may list `basis`, each a guide (`source`) and a
place in it a reader can find (`at`: its section heading, or the words around a figure), optionally
saying which claim it backs (`for`). Where the guides disagree, a topic lists `views`: each guide's
position in our words (`says`), with its source and locator; answers give every view and name whose it is.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Feeling = Literal["tired", "rejected", "doubt", "afraid", "down", "stuck"]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1400)]
Locator = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=160)]
Claim = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ViewText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=420)]

ResourceType = Literal["book", "course", "paper", "site", "community", "blog", "podcast", "tool", "article", "video"]
RESOURCE_TYPES: tuple[str, ...] = ResourceType.__args__
Personal = Literal["route", "time", "focus", "next", "difficulty"]


def check_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"'{value}' is not a web address (it should start with https:// and have no spaces)")
    if len(value) > 300:
        raise ValueError("the address is longer than 300 characters")
    return value


class Model(BaseModel):
    # defer_build: validators are built on first use, so a start that finds the knowledge compiled
    # (compiled.py), validating nothing, does not pay for building them.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


class Source(Model):
    """One of the guides the advice comes from; every entry credits its sources."""

    id: Id
    title: Name
    titled: bool = True  # false when the guide has no title of its own and `title` describes it
    cite: Name  # the short credit shown under answers
    short: Name | None = None  # how an answer names it inside a sentence ("Max Mynter's guide")
    file: Name | None = None  # the guide's file in the shared guides folder, for checking locators
    author: Name | None = None
    url: str | None = None
    published: str | None = None
    about: Note | None = None
    guide: bool = True  # false for a source that is not one of the guides (the moderators' own entries)

    _url = field_validator("url")(check_url)


class Basis(Model):
    """Where a guide backs a claim: the source, a locator a reader can find in it, and (optionally) which
    claim. A `for: free` basis is what allows a resource's `free` flag."""

    source: Id
    at: Locator  # the guide's section heading, or the words around the figure
    for_: Claim | None = Field(default=None, alias="for")

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)


class View(Model):
    """One guide's side where the guides disagree: answers show each view and name whose it is."""

    source: Id
    at: Locator
    says: ViewText  # the guide's position, in our words, as a sentence


class Resource(Model):
    """A book, course, paper, site... named by a guide. Entries and steps refer to it by id."""

    id: Id
    name: Name
    type: ResourceType
    url: str | None = None
    note: Note | None = None
    by: Name | None = None  # author, teacher or maker, when the name doesn't say it
    year: int | None = Field(default=None, ge=1900, le=2100)
    free: bool | None = None  # free to use (or to audit); None when we don't know
    aliases: tuple[Phrase, ...] = ()  # other names people use for it ("ESL", "the Hastie book")
    sources: tuple[Id, ...]
    basis: tuple[Basis, ...] = ()  # where each source names it

    _url = field_validator("url")(check_url)


class Topic(Model):
    """Anything the matcher can answer with: roadmap steps and entries share these fields."""

    id: Id
    title: Name
    ask: tuple[Phrase, ...] = ()  # how people ask for it
    keywords: tuple[Phrase, ...] = ()  # words and synonyms that point to it
    answer: Text
    resources: tuple[Id, ...] = ()
    sources: tuple[Id, ...]
    related: tuple[Id, ...] = ()
    # Feelings whose advice this is (feelings.py names them: tired, rejected, doubt, afraid, down, stuck): a
    # message stating one prefers this topic among close candidates, or gets it when it asks nothing else.
    feelings: tuple[Feeling, ...] = ()
    basis: tuple[Basis, ...] = ()  # where in each source the answer's claims are
    views: tuple[View, ...] = ()  # where the guides disagree: each one's view, shown after the answer

    @field_validator("views")
    @classmethod
    def _two_sides(cls, value: tuple[View, ...]) -> tuple[View, ...]:
        if value and len({v.source for v in value}) < 2:
            raise ValueError("a disagreement needs views from at least two different sources")
        return value

    @field_validator("sources")
    @classmethod
    def _some_source(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one source, so the answer can credit it")
        return value


class Step(Topic):
    """One step of the roadmap, in the order of the `steps` list."""

    short: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    best_way: Text


class Entry(Topic):
    """A question people ask, with the answer in our words.

    `personal` marks answers that depend on the asker's background: the composer fills in the
    background's route, time, focus or next step when it knows one.
    """

    personal: Personal | None = None


class Background(Model):
    """A starting point, recognised in free text by its aliases."""

    id: Id
    name: Name
    aliases: tuple[Phrase, ...]  # roles and fields: "paralegal", "data analyst", "physics"
    tools: tuple[Phrase, ...] = ()  # tools of the trade, counted when someone works with them: "Kotlin", "pandas"
    workplaces: tuple[Phrase, ...] = ()  # where people work, counted when they work there: "hotel", "warehouse"
    route: tuple[Id, ...]
    route_name: Name
    time: Note | None = None
    difficulty: Note | None = None
    summary: Text
    leverage: Text
    learn_first: Text
    sources: tuple[Id, ...]
    basis: tuple[Basis, ...] = ()
    # A background the guides do not name: the one whose advice is nearest. Its figures (time, how hard)
    # are then shown labelled as that background's, never as this one's own.
    nearest: Id | None = None
    # True when the aliases say what someone lacks ("never coded") rather than a field: a field stated in the
    # same message wins, so a marketer who never coded gets the advice for marketers.
    lacking: bool = False

    @field_validator("aliases", "route")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one item")
        return value


class OffTopic(Model):
    """Subjects the advisor knows are not its own: a question about them is declined, and says so.

    Their words count strongly against every topic, unless the question is plainly about ML ("I teach
    guitar, how do I get into ML?": there the guitar is only context)."""

    id: Id
    about: Name  # "music", shown in the reply: "that sounds like a question about music"
    words: tuple[Phrase, ...]
    # A subject inside the field that the guides do not cover (pay, negotiating offers, which framework):
    # its words count even in a message about ML, and the reply says plainly that the guides don't cover
    # it, then names the `nearby` topics that say what they do say. With `answered_by`, that topic is
    # answered, after a line saying what the guides do not say.
    within: bool = False
    nearby: tuple[Id, ...] = ()
    answered_by: Id | None = None
    # What the guides do say that comes closest to such a subject, in our words ("no salaries, but Mynter
    # on the career ceiling…"): the reply gives it after saying plainly what they don't cover. Like an
    # entry's answer, it credits its `sources` and says under `basis` where each claim is.
    says: Text | None = None
    sources: tuple[Id, ...] = ()
    basis: tuple[Basis, ...] = ()


class Synonym(Model):
    """Words that mean the same to the matcher: each of `variants` is read as `term`."""

    term: Phrase
    variants: tuple[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)], ...]  # "u" is a word


SECTIONS: dict[str, type[Model]] = {
    "sources": Source,
    "resources": Resource,
    "steps": Step,
    "backgrounds": Background,
    "entries": Entry,
    "synonyms": Synonym,
    "off_topic": OffTopic,
}
