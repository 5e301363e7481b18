"""Reading one knowledge file: safe YAML, with the line of every key kept for error messages.

We build plain Python data straight from the parser's events (libyaml when available) instead of
`yaml.safe_load`, for three reasons: aliases and anchors are refused (no "billion laughs", and no
hidden sharing that makes an edit change two entries), duplicate keys are reported instead of the last
one silently winning, and every key's line is recorded so a schema error can say `file:line`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yaml import events


@dataclass(frozen=True)
class Limits:
    """How much knowledge is read at most, so memory and load time stay bounded whatever is uploaded.
    Settings (KNOWLEDGE_MAX_FILE_KIB, KNOWLEDGE_MAX_MIB, KNOWLEDGE_MAX_FILES) change them; the defaults
    take 10,000 entries of about 1.2 KB in files of a few hundred entries each."""

    file_bytes: int = 1024 * 1024  # one file (the shipped files are each under 64 KiB)
    total_bytes: int = 64 * 2**20  # all files together
    files: int = 2000

    def too_big(self, name: str, size: int, verb: str = "is") -> str:
        return (f"{name} {verb} {size // 1024} KiB; a knowledge file may be at most {self.file_bytes // 1024} KiB "
                "(the setting KNOWLEDGE_MAX_FILE_KIB): split it")


LIMITS = Limits()
"""The limits in force: the defaults until the settings are applied (`use_limits`)."""


def use_limits(limits: Limits) -> None:
    global LIMITS
    LIMITS = limits


MAX_DEPTH = 12
"""Lists and mappings nested deeper than this are refused (the schema needs 4): a deeply nested file
costs the YAML parser time and memory that grow faster than its size."""

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


@dataclass(frozen=True)
class _Yaml:
    module: Any
    events: Any
    parser: Any  # libyaml's when available
    resolver: Any
    constructor: Any
    scalar_node: Any


@cache
def _yaml() -> _Yaml:
    """PyYAML, imported on first use: a start that finds the knowledge compiled (compiled.py) reads no YAML."""
    import yaml
    from yaml import constructor, events, nodes, resolver

    return _Yaml(yaml, events, getattr(yaml, "CSafeLoader", yaml.SafeLoader), resolver.Resolver(),
                 constructor.SafeConstructor(), nodes.ScalarNode)

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlProblem(Exception):
    line: int | None
    message: str


@dataclass(frozen=True)
class YamlDocument:
    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int | None:
        """The line of the deepest part of `path` that exists in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def read_yaml(path: Path) -> YamlDocument:
    """Read one file; raise YamlProblem with a line number and plain words on anything wrong."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlProblem(None, f"cannot be read ({exc.strerror or exc})") from None
    if size > LIMITS.file_bytes:
        raise YamlProblem(None, LIMITS.too_big("it", size).removeprefix("it "))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(None, f"is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise YamlProblem(None, f"cannot be read ({exc.strerror or exc})") from None
    return parse_yaml(text)


def parse_yaml(text: str) -> YamlDocument:
    yaml = _yaml().module
    lines: dict[Path_, int] = {}
    builder = _Builder(lines)
    try:
        for event in yaml.parse(text, Loader=_yaml().parser):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlProblem(line, f"is not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(None, f"is not valid YAML: {exc}") from None
    if builder.documents > 1:
        raise YamlProblem(None, "holds more than one YAML document (a line with ---); keep one per file")
    return YamlDocument(builder.result, lines)


class _Builder:
    """Turns parser events into dicts, lists and scalars, recording each key's line."""

    def __init__(self, lines: dict[Path_, int]) -> None:
        self.lines = lines
        self.stack: list[tuple[Any, Path_, list[Any]]] = []  # (container, its path, [pending key, key line])
        self.result: Any = None
        self.documents = 0
        self.yaml = _yaml()

    def feed(self, event: events.Event) -> None:
        events = self.yaml.events
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, events.DocumentStartEvent):
            self.documents += 1
            return
        if isinstance(event, events.AliasEvent):
            raise YamlProblem(line, f"uses the alias *{event.anchor}; aliases are not allowed, write the value out")
        if isinstance(event, (events.ScalarEvent, events.CollectionStartEvent)) and event.anchor:
            raise YamlProblem(line, f"defines the anchor &{event.anchor}; anchors are not allowed, write the value out")
        if isinstance(event, events.ScalarEvent):
            self._add(self._scalar(event, line), line, is_scalar=True)
        elif isinstance(event, events.MappingStartEvent):
            self._check_tag(event.tag, "tag:yaml.org,2002:map", line)
            self._open({}, line)
        elif isinstance(event, events.SequenceStartEvent):
            self._check_tag(event.tag, "tag:yaml.org,2002:seq", line)
            self._open([], line)
        elif isinstance(event, (events.MappingEndEvent, events.SequenceEndEvent)):
            container, _, _ = self.stack.pop()
            if not self.stack:
                self.result = container

    @staticmethod
    def _check_tag(tag: str | None, allowed: str, line: int | None) -> None:
        if tag not in (None, "!", allowed):
            raise YamlProblem(line, f"uses the tag {tag}; only plain text, numbers, lists and mappings are allowed")

    def _scalar(self, event: events.ScalarEvent, line: int | None) -> Any:
        tag = event.tag if event.tag not in (None, "!") else None
        if tag is None:
            tag = self.yaml.resolver.resolve(self.yaml.scalar_node, event.value, event.implicit)
            if tag == "tag:yaml.org,2002:timestamp":  # dates stay text: "2022-03-03"
                return event.value
        if tag not in _PLAIN_TAGS:
            raise YamlProblem(line, f"uses the tag {tag}; only plain text, numbers, lists and mappings are allowed")
        return self.yaml.constructor.construct_object(self.yaml.scalar_node(tag, event.value))

    def _open(self, container: Any, line: int | None) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise YamlProblem(line, f"nests lists or mappings more than {MAX_DEPTH} levels deep; the knowledge needs at most 4")
        path = self._add(container, line, is_scalar=False)
        self.stack.append((container, path, [None, None]))

    def _add(self, value: Any, line: int | None, *, is_scalar: bool) -> Path_:
        """Place `value` in the open container; return its path."""
        if not self.stack:
            if is_scalar:
                self.result = value
            self.lines[()] = line or 1
            return ()
        container, path, pending = self.stack[-1]
        if isinstance(container, list):
            child = (*path, len(container))
            container.append(value)
            self.lines[child] = line or 0
            return child
        if pending[0] is None:  # this value is a key
            if not is_scalar:
                raise YamlProblem(line, "has a list or mapping used as a key; keys must be plain words")
            key = str(value) if value is not None else "null"
            if key == "<<":
                raise YamlProblem(line, "uses a merge key (<<); write the values out instead")
            if key in container:
                raise YamlProblem(line, f"has the key '{key}' twice in the same place")
            pending[0], pending[1] = key, line
            return path
        key, key_line = pending
        pending[0] = pending[1] = None
        container[key] = value
        child = (*path, key)
        self.lines[child] = key_line or line or 0
        return child
