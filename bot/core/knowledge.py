"""Loading and validating the knowledge folder into one immutable Knowledge object.

`load_knowledge(folder)` reads every *.yaml file below `folder`, checks each item against the schema
(schema.py) and the whole against itself (unique ids, references that lead somewhere, answers that fit
one Discord message), and either returns a Knowledge — with its matcher index already built, so a reload
swaps everything in one assignment — or raises KnowledgeError listing every problem at once, each as
`file:line: id: what is wrong`.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError
from rapidfuzz import process

from bot.core import compiled, compose, yamlfile
from bot.core.backgrounds import BackgroundDetector
from bot.core.format import MESSAGE_LIMIT
from bot.core.matcher import Document, Index, ResourceNames
from bot.core.schema import (
    SECTIONS,
    Background,
    Entry,
    Model,
    OffTopic,
    Resource,
    Source,
    Step,
    Synonym,
    Topic,
)
from bot.core.text import Normalizer, content, sentences, words
from bot.core.yamlfile import YamlDocument, YamlProblem, parse_yaml, read_yaml


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    item: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line if self.line is not None else 1}: {self.item}: {self.message}"


class KnowledgeError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the knowledge files")
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


@dataclass(frozen=True)
class Knowledge:
    directory: Path
    overlay: Path | None  # the moderators' edits, overriding shipped files of the same name
    paths: Mapping[str, Path]  # each file's path inside the folder → the file that was read
    files: tuple[str, ...]
    sources: Mapping[str, Source]
    resources: Mapping[str, Resource]
    steps: tuple[Step, ...]
    backgrounds: Mapping[str, Background]
    entries: Mapping[str, Entry]
    synonyms: tuple[Synonym, ...]
    off_topic: tuple[OffTopic, ...]
    normalizer: Normalizer = field(repr=False)
    index: Index = field(repr=False)
    detector: BackgroundDetector = field(repr=False)
    names: ResourceNames = field(repr=False)
    load_seconds: float = 0.0
    fingerprint: tuple[tuple[str, str, int, int, int], ...] = ()
    change_id: int = 0  # the latest moderators' change (in the database) this knowledge includes
    overrides: Mapping[Any, Any] = field(default_factory=dict, repr=False)  # (section, id) → Override in force
    edited_files: tuple[str, ...] = ()  # files that differ from the shipped ones because of those overrides

    # Lookups built once per loaded knowledge (autocomplete asks on every keystroke).
    @cached_property
    def steps_by_id(self) -> Mapping[str, Step]:
        return MappingProxyType({s.id: s for s in self.steps})

    @cached_property
    def topics(self) -> Mapping[str, Topic]:
        return MappingProxyType({**self.steps_by_id, **self.entries})

    def topic(self, topic_id: str) -> Topic | None:
        return self.topics.get(topic_id)

    @cached_property
    def _listing(self) -> Mapping[str, tuple[int, ...]]:
        """Each resource id → the positions (in `topics`) of the topics that list it."""
        out: dict[str, list[int]] = {}
        for position, topic in enumerate(self.topics.values()):
            for resource in dict.fromkeys(topic.resources):
                out.setdefault(resource, []).append(position)
        return MappingProxyType({r: tuple(p) for r, p in out.items()})

    def listing(self, resource_ids: Iterable[str]) -> list[Topic]:
        """The topics that list any of these resources, in the order of `topics` (looked up, not scanned)."""
        positions = sorted({p for r in resource_ids for p in self._listing.get(r, ())})
        return [self._topic_list[p] for p in positions]

    @cached_property
    def _topic_list(self) -> tuple[Topic, ...]:
        return tuple(self.topics.values())

    def step(self, step_id: str) -> Step | None:
        return self.steps_by_id.get(step_id)

    def counts(self) -> dict[str, int]:
        return {
            "sources": len(self.sources),
            "resources": len(self.resources),
            "roadmap steps": len(self.steps),
            "backgrounds": len(self.backgrounds),
            "entries": len(self.entries),
            "synonyms": len(self.synonyms),
            "off-topic subjects": len(self.off_topic),
        }

    def citations(self) -> dict[str, int]:
        """How many steps, entries, resources and backgrounds cite each source."""
        cited = dict.fromkeys(self.sources, 0)
        items: list[Any] = [*self.steps, *self.entries.values(), *self.resources.values(), *self.backgrounds.values()]
        for item in items:
            for source in item.sources:
                cited[source] = cited.get(source, 0) + 1
        return cited


def knowledge_files(directory: Path) -> list[Path]:
    """The .yaml files below `directory`, hidden ones (editors' and our own temporary files) left out."""
    found = []
    for path in directory.rglob("*"):
        parts = path.relative_to(directory).parts
        if path.suffix in (".yaml", ".yml") and not any(p.startswith(".") for p in parts) and path.is_file():
            found.append(path)
    return sorted(found)


def effective_files(directory: Path, overlay: Path | None = None) -> dict[str, Path]:
    """Each knowledge file by its path inside the folder ("entries/jobs.yaml") → the file that is read:
    the copy in `overlay` (the moderators' edits) when there is one, else the shipped one."""
    files = {p.relative_to(directory).as_posix(): p for p in knowledge_files(directory)} if directory.is_dir() else {}
    if overlay is not None and overlay.is_dir():
        files.update({p.relative_to(overlay).as_posix(): p for p in knowledge_files(overlay)})
    return dict(sorted(files.items()))


def fingerprint(directory: Path, overlay: Path | None = None) -> tuple[tuple[str, str, int, int, int], ...]:
    """What changes when any knowledge file is edited, added, replaced or removed (cheap: no file is read)."""
    out = []
    for label, folder in (("shipped", directory), ("edits", overlay)):
        if folder is None or not folder.is_dir():
            continue
        for path in knowledge_files(folder):
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((label, path.relative_to(folder).as_posix(), st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


@dataclass
class _Item:
    file: str
    line: int | None
    model: Any


def load_knowledge(directory: Path | str, *, overlay: Path | str | None = None,
                   replace: Mapping[str, str | None] | None = None, cache: Path | None = None) -> Knowledge:
    """Load and validate `directory` (with the moderators' edits in `overlay` taking the place of the
    shipped files of the same name); raise KnowledgeError with every problem found.

    `replace` maps a file's path inside the folder to text that stands in for it (None: the file is gone):
    how an edit is validated, whole, before anything is written.

    With `cache` (a folder; by default compiled.folder(), which the command line sets), knowledge that
    validated is kept there compiled, and loaded from there while no file and no edit has changed (see
    compiled.py)."""
    started = time.perf_counter()
    directory = Path(directory)
    overlay = Path(overlay) if overlay is not None else None
    cache = cache if cache is not None else compiled.folder()
    if cache is not None and directory.is_dir():
        texts = compiled.texts_digest(replace)
        known = compiled.load(cache, directory, overlay, fingerprint(directory, overlay), yamlfile.LIMITS, texts)
        if known is not None:
            return dataclasses.replace(known, load_seconds=time.perf_counter() - started)
        knowledge = _load(directory, overlay, replace, started)
        compiled.store(cache, knowledge, yamlfile.LIMITS, texts)
        return knowledge
    return _load(directory, overlay, replace, started)


def _load(directory: Path, overlay: Path | None, replace: Mapping[str, str | None] | None, started: float) -> Knowledge:
    problems: list[Problem] = []
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), None, "folder", "is not a folder of knowledge files")])
    prints = fingerprint(directory, overlay)  # before reading: a save landing meanwhile is seen next time
    paths = effective_files(directory, overlay)
    for rel, text in (replace or {}).items():
        if text is None:
            paths.pop(rel, None)
        else:
            paths.setdefault(rel, (overlay or directory) / rel)
    if not paths:
        raise KnowledgeError([Problem(str(directory), None, "folder", "has no .yaml knowledge files")])
    limits = yamlfile.LIMITS
    if len(paths) > limits.files:
        raise KnowledgeError([Problem(str(directory), None, "folder", f"has {len(paths)} knowledge files; at most "
                                      f"{limits.files} are read (the setting KNOWLEDGE_MAX_FILES)")])
    total = sum(len(replace[key].encode()) if replace and replace.get(key) is not None else _size(path)
                for key, path in paths.items())
    if total > limits.total_bytes:  # one problem for the folder, before any file is read
        raise KnowledgeError([Problem(str(directory), None, "folder", f"the knowledge files add up to {total / 2**20:.1f} MiB; "
                                      f"at most {limits.total_bytes / 2**20:g} MiB are read (the setting KNOWLEDGE_MAX_MIB)")])

    found: dict[str, list[_Item]] = {name: [] for name in SECTIONS}
    rel_names = []
    for key, path in sorted(paths.items()):
        rel = _display_name(path, overlay if overlay and path.is_relative_to(overlay) else directory)
        rel_names.append(rel)
        try:
            if replace and key in replace:
                doc = parse_yaml(replace[key])
            else:
                doc = read_yaml(path)
        except YamlProblem as exc:
            problems.append(Problem(rel, exc.line, "file", exc.message))
            continue
        except OSError as exc:
            problems.append(Problem(rel, None, "file", f"cannot be read ({exc.strerror or exc})"))
            continue
        for section, index, model in _validated(doc, rel, problems):
            found[section].append(_Item(rel, doc.line_of((section, index)), model))

    if problems and any(p.item == "file" for p in problems):
        # A file that could not be read leaves its ids undefined: listing every reference to them would
        # bury the one problem that matters.
        problems.append(Problem(str(directory), None, "folder", "references between files are checked once every file reads"))
    else:
        problems.extend(_cross_check(found))
    if not found["steps"] and not found["entries"]:
        problems.append(Problem(str(directory), None, "folder", "has no steps or entries, so the advisor could answer nothing"))
    if problems:
        raise KnowledgeError(problems)

    synonyms = tuple(i.model for i in found["synonyms"])
    steps = tuple(i.model for i in found["steps"])
    entries = {i.model.id: i.model for i in found["entries"]}
    backgrounds = {i.model.id: i.model for i in found["backgrounds"]}
    off_topic = tuple(i.model for i in found["off_topic"])
    # An off-topic phrase of several words ("leaking tap", "birthday party") is one token, like a synonym's
    # term, so that its words alone ("party" in "third-party library") say nothing; the knowledge's own
    # synonyms come after, and win where both name the same words.
    phrases = [(w, ()) for o in off_topic for w in o.words if len(w.split()) > 1]
    normalizer = Normalizer([*phrases, *((s.term, s.variants) for s in synonyms)])
    topics: list[Topic] = [*steps, *entries.values()]
    normalizer.set_vocabulary(_vocabulary(topics, backgrounds.values(), synonyms))
    resources = {i.model.id: i.model for i in found["resources"]}
    outside = {t: o.id for o in off_topic if not o.within for w in o.words for t in content(normalizer.stems(w, correct=False))}
    index = Index(normalizer, [_document(t, resources) for t in topics], outside=outside)
    detector = BackgroundDetector(normalizer, ((b.id, b.aliases) for b in backgrounds.values()),
                                  ((b.id, b.tools) for b in backgrounds.values()),
                                  ((b.id, b.workplaces) for b in backgrounds.values()),
                                  yielding=[b.id for b in backgrounds.values() if b.lacking])
    names = ResourceNames(normalizer, {r.id: _resource_names(r) for r in resources.values()}, index.share)
    return Knowledge(
        directory=directory,
        overlay=overlay,
        paths=MappingProxyType(dict(paths)),
        files=tuple(rel_names),
        sources=MappingProxyType({i.model.id: i.model for i in found["sources"]}),
        resources=MappingProxyType(resources),
        steps=steps,
        backgrounds=MappingProxyType(backgrounds),
        entries=MappingProxyType(entries),
        synonyms=synonyms,
        off_topic=off_topic,
        normalizer=normalizer,
        index=index,
        detector=detector,
        names=names,
        load_seconds=time.perf_counter() - started,
        fingerprint=prints,
    )


def _document(topic: Topic, resources: Mapping[str, Resource]) -> Document:
    """What the matcher knows a topic by: its title, phrasings, keywords, and its resources' names and
    kinds, since people ask by name ("is fast.ai any good?") and by kind ("which book…")."""
    named = [resources[r] for r in topic.resources if r in resources]
    phrasings = [f"{r.name} {r.type}" for r in named] + [a for r in named for a in r.aliases]
    answer = topic.answer + (" " + topic.best_way if isinstance(topic, Step) else "")
    return Document(topic.id, topic.title, topic.ask, topic.keywords, tuple(phrasings), tuple(sentences(answer)))


_PARENS = re.compile(r"\(([^)]*)\)")
_NAME_SPLIT = re.compile(r",|&|\band\b|;")


def _resource_names(resource: Resource) -> list[str]:
    """The ways a question may name a resource: its name, the name without the part in brackets, each
    person or maker in brackets or in `by` ("Goodfellow"), and its aliases."""
    out = [resource.name, _PARENS.sub(" ", resource.name)]
    inner = " ".join(_PARENS.findall(resource.name)) + (f", {resource.by}" if resource.by else "")
    out += [part for part in _NAME_SPLIT.split(inner) if part.strip()]
    out += resource.aliases
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported when the file is read


def validate_items(doc: YamlDocument, rel: str) -> list[Problem]:
    """Each item of one file checked against the schema alone (no references to other files): how an
    uploaded file's own mistakes are named by its own line numbers."""
    problems: list[Problem] = []
    for _ in _validated(doc, rel, problems):
        pass
    return problems


def check_knowledge(directory: Path | str, *, overlay: Path | str | None = None) -> list[Problem]:
    try:
        load_knowledge(directory, overlay=overlay)
    except KnowledgeError as exc:
        return list(exc.problems)
    return []


def _display_name(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(directory.name / path.relative_to(directory))


def _vocabulary(topics: list[Topic], backgrounds: Any, synonyms: tuple[Synonym, ...]) -> set[str]:
    vocab: set[str] = set()
    for t in topics:
        for text in (t.title, *t.ask, *t.keywords):
            vocab.update(words(text))
    for b in backgrounds:
        for text in (b.name, *b.aliases, *b.tools, *b.workplaces):
            vocab.update(words(text))
    for s in synonyms:
        for text in (s.term, *s.variants):
            vocab.update(words(text))
    return vocab


def _validated(doc: YamlDocument, rel: str, problems: list[Problem]) -> Iterator[tuple[str, int, Model]]:
    data = doc.data
    if data is None:
        problems.append(Problem(rel, 1, "file", "is empty; it should hold one or more of: " + ", ".join(SECTIONS)))
        return
    if not isinstance(data, dict):
        problems.append(Problem(rel, 1, "file", "should be a mapping of sections (" + ", ".join(SECTIONS) + ")"))
        return
    for section, items in data.items():
        if section not in SECTIONS:
            problems.append(Problem(rel, doc.line_of((section,)), "file", _unknown_key(section, list(SECTIONS), "section")))
            continue
        if not isinstance(items, list):
            problems.append(Problem(rel, doc.line_of((section,)), section, "should be a list (each item starting with '- ')"))
            continue
        model_type = SECTIONS[section]
        for index, item in enumerate(items):
            label = _label(section, index, item)
            if not isinstance(item, dict):
                problems.append(Problem(rel, doc.line_of((section, index)), label, "should be a mapping of keys (like 'id: ...')"))
                continue
            try:
                model = model_type.model_validate(item)
            except ValidationError as exc:
                for error in exc.errors():
                    loc = (section, index, *error["loc"])
                    problems.append(Problem(rel, doc.line_of(loc), label, _plain(error, model_type)))
                continue
            yield section, index, model


def _label(section: str, index: int, item: Any) -> str:
    if isinstance(item, dict):
        for key in ("id", "term"):
            if isinstance(item.get(key), str) and item[key].strip():
                return item[key].strip()
    return f"{section}[{index + 1}]"


def _unknown_key(key: str, allowed: list[str], what: str = "key") -> str:
    guess = process.extractOne(key, allowed, score_cutoff=70)
    hint = f" (did you mean '{guess[0]}'?)" if guess else f" (allowed: {', '.join(allowed)})"
    return f"unknown {what} '{key}'{hint}"


def _plain(error: dict[str, Any], model_type: type[Model]) -> str:
    """A pydantic error in plain words."""
    loc = [str(p) for p in error["loc"]]
    where = ".".join(p for p in loc if not p.isdigit()) or "value"
    if loc and loc[-1].isdigit():
        where = f"{where} item {int(loc[-1]) + 1}"
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"missing required key '{where}'"
    if kind == "extra_forbidden":
        return _unknown_key(loc[-1], list(model_type.model_fields))
    if kind == "string_too_short":
        return f"'{where}' is empty" if ctx.get("min_length") == 1 else f"'{where}' is too short"
    if kind == "string_too_long":
        got = len(error["input"]) if isinstance(error.get("input"), str) else "?"
        return f"'{where}' is too long ({got} characters, at most {ctx.get('max_length')})"
    if kind == "string_pattern_mismatch":
        return f"'{where}' must be lowercase words joined by hyphens, like 'deep-learning' (got {error['input']!r})"
    if kind == "literal_error":
        return f"'{where}' must be one of: {ctx.get('expected', '')}"
    if kind == "string_type":
        return f"'{where}' must be text (put it in quotes if it looks like a number or yes/no)"
    if kind in ("tuple_type", "list_type"):
        return f"'{where}' must be a list (items starting with '- ')"
    if kind == "value_error":
        return f"'{where}': {ctx.get('error', error['msg'])}"
    return f"'{where}': {error['msg']}"


def _provenance(found: dict[str, list[_Item]], sources: Mapping[str, _Item]) -> list[Problem]:
    """Basis and views name sources the item credits; a `free` flag says who states it; a background's
    `nearest` is another background that the guides name themselves."""
    problems: list[Problem] = []

    def say(item: _Item, message: str) -> None:
        problems.append(Problem(item.file, item.line, item.model.id, message))

    for item in found["resources"] + found["steps"] + found["entries"] + found["backgrounds"] + found["off_topic"]:
        credited = set(item.model.sources)
        for key in ("basis", "views"):
            for n, part in enumerate(getattr(item.model, key, ()), 1):
                if part.source not in sources:
                    say(item, f"'{key}' item {n} names the source '{part.source}', which does not exist")
                elif part.source not in credited:
                    say(item, f"'{key}' item {n} names '{part.source}', which is not in this item's 'sources'")
    for item in found["resources"]:
        if item.model.free is not None and not any(b.for_ == "free" for b in item.model.basis):
            say(item, "'free' needs a 'basis' item with 'for: free' naming the guide (or moderators) that says so")
    backgrounds = {i.model.id: i.model for i in found["backgrounds"]}
    for item in found["backgrounds"]:
        near = item.model.nearest
        if near is None:
            continue
        if near == item.model.id or near not in backgrounds:
            say(item, f"'nearest' names '{near}', which is not another background")
        elif backgrounds[near].nearest is not None:
            say(item, f"'nearest' names '{near}', which the guides do not name either; point to one they do")
        if item.model.time or item.model.difficulty:
            say(item, "a background with 'nearest' gives no 'time' or 'difficulty' of its own: the answer shows the "
                      "nearest background's, labelled as such")
    return problems


def _cross_check(found: dict[str, list[_Item]]) -> list[Problem]:
    problems: list[Problem] = []

    def unique(items: list[_Item], what: str) -> dict[str, _Item]:
        seen: dict[str, _Item] = {}
        for item in items:
            ident = item.model.id
            if ident in seen:
                first = seen[ident]
                problems.append(Problem(item.file, item.line, ident, f"the {what} id '{ident}' is already used at {first.file}:{first.line}"))
            else:
                seen[ident] = item
        return seen

    sources = unique(found["sources"], "source")
    resources = unique(found["resources"], "resource")
    unique(found["backgrounds"], "background")
    topics = unique(found["steps"] + found["entries"], "step/entry")
    unique(found["off_topic"], "off-topic subject")
    steps = {i.model.id for i in found["steps"]}

    def refer(item: _Item, key: str, targets: Any, what: str) -> None:
        for ref in getattr(item.model, key):
            if ref not in targets:
                guess = process.extractOne(ref, list(targets), score_cutoff=75)
                hint = f"; did you mean '{guess[0]}'?" if guess else ""
                problems.append(Problem(item.file, item.line, item.model.id, f"'{key}' names the {what} '{ref}', which does not exist{hint}"))

    for item in found["resources"]:
        refer(item, "sources", sources, "source")
    for item in found["steps"] + found["entries"]:
        refer(item, "sources", sources, "source")
        refer(item, "resources", resources, "resource")
        refer(item, "related", topics, "step or entry")
        if item.model.id in item.model.related:
            problems.append(Problem(item.file, item.line, item.model.id, "'related' names the entry itself"))
    for item in found["backgrounds"]:
        refer(item, "sources", sources, "source")
        refer(item, "route", steps, "roadmap step")
    for item in found["off_topic"]:
        refer(item, "nearby", topics, "step or entry")
        refer(item, "sources", sources, "source")
        if item.model.says is not None and not item.model.within:
            problems.append(Problem(item.file, item.line, item.model.id,
                                    "'says' is only for a subject inside the field ('within: true'): other subjects are declined"))
        if item.model.says is not None and not item.model.sources:
            problems.append(Problem(item.file, item.line, item.model.id, "'says' needs the 'sources' it comes from"))
        if item.model.answered_by is not None and item.model.answered_by not in topics:
            problems.append(Problem(item.file, item.line, item.model.id,
                                    f"'answered_by' names the step or entry '{item.model.answered_by}', which does not exist"))
    problems.extend(_provenance(found, sources))

    variants: dict[str, tuple[str, _Item]] = {}
    for item in found["synonyms"]:
        for variant in item.model.variants:
            key = " ".join(words(variant))
            if key in variants and variants[key][0] != item.model.term:
                problems.append(Problem(item.file, item.line, item.model.term, f"the variant '{variant}' already means '{variants[key][0]}'"))
            variants.setdefault(key, (item.model.term, item))

    if not problems:  # sizes are only meaningful once every reference resolves
        by_id = {k: v.model for k, v in resources.items()}
        cites = {k: v.model for k, v in sources.items()}
        for item in found["steps"] + found["entries"]:
            size = compose.needed_size(item.model, by_id, cites)
            if size > MESSAGE_LIMIT - compose.RESERVE:
                problems.append(Problem(item.file, item.line, item.model.id,
                                        f"the answer with its resources and credits is {size} characters; "
                                        f"keep it under {MESSAGE_LIMIT - compose.RESERVE} to fit one Discord message"))
        step_titles = {s.model.id: s.model for s in found["steps"]}
        backgrounds = {b.model.id: b.model for b in found["backgrounds"]}
        for item in found["backgrounds"]:
            near = backgrounds.get(item.model.nearest) if item.model.nearest else None
            size = len(compose.background_text(item.model, step_titles, cites, near))
            if size > MESSAGE_LIMIT - compose.RESERVE:
                problems.append(Problem(item.file, item.line, item.model.id,
                                        f"the route answer is {size} characters; keep it under {MESSAGE_LIMIT - compose.RESERVE}"))
    return problems
