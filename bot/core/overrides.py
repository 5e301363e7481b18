"""Moderators' edits as per-item overrides of the shipped knowledge files.

The shipped files (knowledge/) are never changed by the bot. Each moderator's change is stored in the
database as the new text of the ITEMS it touched (an entry, a step, a resource…), keyed by section and id:

  * an item that ships and was edited: its edited text replaces the shipped item, wherever that item
    lives in the shipped files now (so an upgrade that moves it to another file is followed);
  * an item removed by a moderator: body None;
  * a new item: placed in its `file`, after the item `after_id` when that is still there, else at the
    end of its section.

Everything else in the shipped files keeps following them: an upgrade that changes another entry of the
same file is answered at once. `base` keeps the shipped item the edit was made on, so `kb diff` and
`doctor` can show where upstream moved under an edit.

This module is pure (no database, no Discord): it composes the files the loader reads from the shipped
texts and the overrides, and cuts a file into items.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.core.knowledge import Knowledge, knowledge_files, load_knowledge
from bot.core.schema import SECTIONS
from bot.core.yamlfile import YamlProblem, parse_yaml

Key = tuple[str, str]  # (section, id)
KEY_FIELD = {"synonyms": "term"}  # every other section's items are named by `id`


@dataclass(frozen=True)
class Override:
    section: str
    item_id: str
    file: str  # the knowledge file it belongs to when it is not (or no longer) in the shipped files
    body: str | None  # the item's YAML, "- id: …" at column 0; None: the moderators removed it
    base: str | None = None  # the shipped item's YAML when the edit was made; None: it did not ship then
    after_id: str = ""  # a new item follows this one in its file
    origins: Mapping[str, str] = field(default_factory=dict)  # phrasing (lowercase) → place it was taught from
    change_id: int = 0

    @property
    def key(self) -> Key:
        return (self.section, self.item_id)

    def state(self) -> dict[str, Any]:
        """As stored (JSON)."""
        return {"file": self.file, "body": self.body, "base": self.base, "after_id": self.after_id,
                "origins": dict(self.origins)}

    @classmethod
    def from_state(cls, key: Key, state: Mapping[str, Any], change_id: int = 0) -> Override:
        return cls(key[0], key[1], str(state.get("file") or ""), state.get("body"), state.get("base"),
                   str(state.get("after_id") or ""), dict(state.get("origins") or {}), change_id)


@dataclass(frozen=True)
class Item:
    """One item of a file: its key, data, and the lines [start, end) it spans at `column`."""

    section: str
    item_id: str
    data: Mapping[str, Any]
    start: int
    end: int
    column: int
    text: str  # its lines, moved to column 0

    @property
    def key(self) -> Key:
        return (self.section, self.item_id)


def item_name(section: str, item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    value = item.get(KEY_FIELD.get(section, "id"))
    return str(value).strip() if isinstance(value, (str, int)) and str(value).strip() else None


def items_of(text: str) -> tuple[list[Item], dict[str, tuple[int, int]]]:
    """The block-list items of a knowledge file's text, and where each section's list sits (start line of
    its key, column of its items). Items written in flow style ("[{…}]") are left out: their lines cannot
    be cut out alone."""
    try:
        doc = parse_yaml(text)
    except YamlProblem:
        return [], {}
    data = doc.data
    if not isinstance(data, dict):
        return [], {}
    lines = text.splitlines(keepends=True)
    keys = list(data)
    out: list[Item] = []
    sections: dict[str, tuple[int, int]] = {}
    for section in keys:
        items = data.get(section)
        if section not in SECTIONS or not isinstance(items, list):
            continue
        head = (doc.lines.get((section,)) or 1) - 1
        column = -1
        for index, item in enumerate(items):
            start = (doc.lines.get((section, index)) or 0) - 1
            dash = re.match(r"^(\s*)- ", lines[start]) if 0 <= start < len(lines) else None
            name = item_name(section, item)
            if dash is None or name is None:
                continue
            column = len(dash.group(1))
            if index + 1 < len(items):
                end = (doc.lines.get((section, index + 1)) or len(lines) + 1) - 1
            else:
                later = [doc.lines[(k,)] - 1 for k in keys[keys.index(section) + 1:] if (k,) in doc.lines]
                end = min(later) if later else len(lines)
            while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1  # blank lines and comments before the next item stay where they are
            body = "".join(_dedent(line, column) for line in lines[start:end])
            out.append(Item(section, name, item, start, end, column, body if body.endswith("\n") else body + "\n"))
        sections[section] = (head, column if column >= 0 else 2)
    return out, sections


def _dedent(line: str, column: int) -> str:
    return line[column:] if line[:column].strip() == "" and len(line) > column else line.lstrip(" ") if not line.strip() else line


def _indent(text: str, column: int) -> str:
    pad = " " * column
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def body_data(body: str) -> dict[str, Any] | None:
    """The mapping an item's YAML ("- id: …") holds, or None if it is not one item."""
    try:
        data = parse_yaml(body).data
    except YamlProblem:
        return None
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        return data[0]
    return None


def shipped_texts(directory: Path) -> dict[str, str]:
    out = {}
    for path in knowledge_files(directory) if directory.is_dir() else []:
        try:
            out[path.relative_to(directory).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # the loader reports it with the file's name
    return out


class Shipped:
    """The shipped files, and where each item is in them: read once per composition."""

    def __init__(self, directory: Path, texts: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self.texts = dict(texts) if texts is not None else shipped_texts(directory)
        self._items: dict[str, tuple[list[Item], dict[str, tuple[int, int]]]] = {}
        self._where: dict[Key, str] | None = None

    def items(self, rel: str) -> tuple[list[Item], dict[str, tuple[int, int]]]:
        if rel not in self._items:
            self._items[rel] = items_of(self.texts[rel]) if rel in self.texts else ([], {})
        return self._items[rel]

    def where(self) -> dict[Key, str]:
        """Each shipped item's file."""
        if self._where is None:
            self._where = {item.key: rel for rel in self.texts for item in self.items(rel)[0]}
        return self._where

    def item(self, key: Key) -> Item | None:
        rel = self.where().get(key)
        return next((i for i in self.items(rel)[0] if i.key == key), None) if rel else None


def home(key: Key, override: Override | None, shipped: Shipped) -> str | None:
    """The file an item is in: where it ships, else the file its override names."""
    return shipped.where().get(key) or (override.file if override is not None else None)


def compose(shipped: Shipped, overrides: Mapping[Key, Override]) -> dict[str, str]:
    """The text of every file the overrides change (or add), as the loader should read it."""
    by_file: dict[str, list[Override]] = {}
    for key, override in overrides.items():
        rel = home(key, override, shipped)
        if rel:
            by_file.setdefault(rel, []).append(override)
    return {rel: compose_file(shipped.texts.get(rel, ""), found) for rel, found in by_file.items()}


def compose_file(text: str, overrides: Iterable[Override]) -> str:
    """One file's text with its items replaced, removed or added."""
    items, sections = items_of(text) if text.strip() else ([], {})
    present = {item.key for item in items}
    replaced = {o.key: o for o in overrides if o.key in present}
    new = sorted((o for o in overrides if o.key not in present and o.body is not None), key=lambda o: o.change_id)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    placed: set[Key] = set()

    def followers(section: str, after: str, column: int) -> list[str]:
        out = []
        for o in new:
            if o.section == section and o.after_id == after and o.key not in placed:
                placed.add(o.key)
                out.append(_indent(_ensure_newline(o.body or ""), column))
                out += followers(section, o.item_id, column)
        return out

    inserts: dict[int, list[str]] = {}  # before line n
    cuts: dict[int, tuple[int, str]] = {}  # line n: (end, replacement)
    last_end: dict[str, int] = {}
    for item in items:
        override = replaced.get(item.key)
        if override is not None:
            cuts[item.start] = (item.end, _indent(_ensure_newline(override.body), item.column) if override.body else "")
        last_end[item.section] = max(last_end.get(item.section, 0), item.end)
        chunk = followers(item.section, item.item_id, item.column)
        if chunk:
            inserts.setdefault(item.end, []).extend(chunk)
    for section, end in last_end.items():  # the rest of a section's new items: at its end
        chunk = followers(section, "", sections[section][1]) + [
            _indent(_ensure_newline(o.body or ""), sections[section][1])
            for o in new if o.section == section and o.key not in placed]
        placed.update(o.key for o in new if o.section == section)
        if chunk:
            inserts.setdefault(end, []).extend(chunk)
    out: list[str] = []
    n = 0
    while n <= len(lines):
        out.extend(inserts.get(n, []))
        if n == len(lines):
            break
        if n in cuts:
            end, replacement = cuts[n]
            out.append(replacement)
            # inserts between start and end belong after the item
            for m in range(n + 1, end):
                out.extend(inserts.get(m, []))
            n = end
            continue
        out.append(lines[n])
        n += 1
    for section in [s for s in SECTIONS if any(o.section == s and o.key not in placed for o in new)]:
        if out and out[-1].strip():
            out.append("\n")
        out.append(f"{section}:\n")
        for o in new:
            if o.section == section and o.key not in placed:
                placed.add(o.key)
                out.append(_indent(_ensure_newline(o.body or ""), 2))
    return "".join(out)


def _ensure_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def load_with(directory: Path, overrides: Mapping[Key, Override], *, change_id: int = 0,
              shipped: Shipped | None = None) -> Knowledge:
    """The knowledge: the shipped folder with the moderators' overrides in force (KnowledgeError if invalid)."""
    shipped = shipped or Shipped(directory)
    composed = compose(shipped, overrides)
    knowledge = load_knowledge(directory, replace=composed)
    return replace(knowledge, change_id=change_id, overrides=dict(overrides), edited_files=tuple(sorted(composed)))


def from_rows(rows: Mapping[Key, tuple[Mapping[str, Any], int]]) -> dict[Key, Override]:
    return {key: Override.from_state(key, state, change_id) for key, (state, change_id) in rows.items()}


def moved_upstream(shipped: Shipped, overrides: Mapping[Key, Override]) -> list[tuple[Override, str | None]]:
    """Edited items whose shipped version changed since the edit: (override, the shipped YAML now, or None
    when an upgrade removed it)."""
    out = []
    for key, override in sorted(overrides.items()):
        if override.base is None:
            continue
        now = shipped.item(key)
        if now is None or body_data(override.base) != dict(now.data):
            out.append((override, now.text if now else None))
    return out
