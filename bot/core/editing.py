"""Changing the knowledge safely, from Discord or the command line: teach, edit, add, import, undo.

The files stay the one truth, and the shipped ones are never touched: every change is written to the
*edits* folder (beside the database, or KNOWLEDGE_EDITS_DIR), whose files take the place of the
shipped files of the same name. A `git pull` of the code therefore never conflicts with moderators'
edits and never discards them (`kb diff` shows where an upgrade changed a file that has edits).

Every change is
  * validated whole, with exactly the rules of `kb check`, before anything is written;
  * serialised, within the process (a lock) and across processes (a lock file), and refused with the
    current version if the file changed since the moderator started editing ("changed meanwhile");
  * written atomically (a temporary file, fsync, os.replace), touching only the lines of the edited
    entry (re-rendered in the house style, every value quoted as the YAML parser needs); comments and
    layout elsewhere stay byte for byte;
  * recorded: who, when, which files, a one-line summary, and each file's content before and after,
    so `undo` can restore it. If the record cannot be stored, the files are put back and the change
    is reported as not saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import re
import tempfile
import textwrap
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml as pyyaml

from bot.core.knowledge import (
    Knowledge,
    KnowledgeError,
    Problem,
    effective_files,
    knowledge_files,
    load_knowledge,
)
from bot.core.storage import Change, Store
from bot.core.yamlfile import MAX_FILE_BYTES, YamlProblem, parse_yaml

try:  # a lock between processes (the bot and `mle-advisor kb …` on the same host)
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

ADDED_FILE = "entries/added.yaml"
"""Where entries written from Discord go, unless they replace one in another file."""
MODERATORS_SOURCE = "moderators"
_ID = re.compile(r"[^a-z0-9]+")
_LOCK_NAME = ".lock"


class EditError(Exception):
    """A change that was not made; the message says why. `problems` holds validation problems."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class ChangedMeanwhile(EditError):
    """The file changed since the moderator opened it; `current` is what it holds now."""

    def __init__(self, message: str, current: Mapping[str, Any] | None) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Done:
    change: Change
    knowledge: Knowledge  # validated and loaded from the files as written
    summary: str


def digest(text: str | None) -> str:
    """A short fingerprint of a file's content (or of its absence), to detect a change meanwhile."""
    return hashlib.sha256((text if text is not None else "\0absent").encode()).hexdigest()[:16]


def slug(title: str) -> str:
    return _ID.sub("-", title.lower()).strip("-")[:60].strip("-") or "entry"


def quoted(value: str, *, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as exactly that string: plain when the YAML parser agrees,
    else single-quoted. `flow` for an item of a [..] list, where commas and brackets matter too."""
    text = str(value)
    try:
        probe = pyyaml.safe_load(f"[{text}]" if flow else f"x: {text}")
        same = probe == [text] if flow else probe == {"x": text}
    except pyyaml.YAMLError:
        same = False
    if same and text == text.strip() and text and "\n" not in text:
        return text
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def _folded(key: str, text: str, indent: int) -> list[str]:
    """`key: >-` and the text wrapped under it: a folded block reads its lines back as one line, and each
    line break of the text as an empty line, so paragraphs survive."""
    out = [f"{' ' * indent}{key}: >-"]
    for n, paragraph in enumerate(str(text).strip().split("\n")):
        if n:
            out.append("")
        wrapped = textwrap.wrap(paragraph.strip(), width=max(100 - indent - 2, 40), break_long_words=False,
                                break_on_hyphens=False)
        out += [f"{' ' * (indent + 2)}{line}" for line in wrapped]
    return out


def _flow_list(pad: str, key: str, items: Sequence[Any], width: int = 108) -> list[str]:
    """`key: [a, b, …]`, wrapped under its opening bracket like the shipped files."""
    head = f"{pad}{key}: ["
    lines, line = [], head
    parts = [quoted(str(item), flow=True) for item in items]
    for n, part in enumerate(parts):
        piece = part + ("]" if n == len(parts) - 1 else ",")
        if len(line) + len(piece) + 1 > width and line.strip() not in (f"{key}: [",):
            lines.append(line.rstrip())
            line = " " * len(head) + piece
        else:
            line += piece if line.endswith("[") else " " + piece
    lines.append(line)
    return lines


def render_entry(fields: Mapping[str, Any], indent: int = 2) -> str:
    """One entry as YAML lines, in the house style: `ask` as a block list, other lists in brackets, long
    texts folded. `indent` is the column of its "- "."""
    pad = " " * (indent + 2)
    lines: list[str] = []
    for key in ("id", "title", "personal", "short"):
        if fields.get(key):
            lines.append(f"{pad}{key}: {quoted(str(fields[key]))}")
    if fields.get("ask"):
        lines.append(f"{pad}ask:")
        lines += [f"{pad}  - {quoted(str(a))}" for a in fields["ask"]]
    if fields.get("keywords"):
        lines += _flow_list(pad, "keywords", fields["keywords"])
    for key in ("answer", "best_way"):
        if fields.get(key):
            lines += _folded(key, str(fields[key]), indent + 2)
    for key in ("resources", "sources", "related", "feelings"):
        if fields.get(key):
            lines += _flow_list(pad, key, fields[key])
    lines[0] = " " * indent + "- " + lines[0].lstrip()
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Located:
    """Where an item of a section sits in a file's text: lines [start, end)."""

    rel: str
    section: str
    index: int
    start: int
    end: int
    column: int
    data: Mapping[str, Any]


class KnowledgeEditor:
    def __init__(self, shipped: Path, edits: Path, storage: Store) -> None:
        self.shipped = Path(shipped)
        self.edits = Path(edits)
        self.storage = storage
        self._lock = asyncio.Lock()
        self.applied = 0
        """The last change of the database's log written into this machine's edits folder (shared database)."""

    # --- reading ------------------------------------------------------------------------------------

    def files(self) -> dict[str, Path]:
        return effective_files(self.shipped, self.edits)

    def text(self, rel: str) -> str | None:
        """The knowledge file `rel` as the bot reads it (the edited copy when there is one)."""
        path = self.files().get(rel)
        return path.read_text(encoding="utf-8") if path is not None and path.is_file() else None

    def _edited(self, rel: str) -> str | None:
        path = self.edits / rel
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def locate(self, item_id: str, sections: Sequence[str] = ("entries", "steps")) -> _Located | None:
        """The file, section and lines that define `item_id`."""
        for rel, path in self.files().items():
            text = path.read_text(encoding="utf-8")
            if item_id in text:
                found = _locate_in(rel, text, item_id, sections)
                if found is not None:
                    return found
        return None

    def entry_fields(self, item_id: str) -> dict[str, Any] | None:
        """An entry's (or step's) fields as plain data, for a pre-filled edit form."""
        found = self.locate(item_id)
        if found is None:
            return None
        return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in found.data.items()} | {"file": found.rel}

    def version(self, rel: str) -> str:
        return digest(self.text(rel))

    # --- changing -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.edits.mkdir(parents=True, exist_ok=True)
        handle = open(self.edits / _LOCK_NAME, "a+")
        try:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    async def apply(self, change: Mapping[str, str | None] | Callable[[], tuple[dict[str, str | None], str]], *,
                    by_id: str, by_name: str, place: str, summary: str = "") -> Done:
        """Write the new content of some files (a file's path inside the folder → its content, None to drop
        the edited copy) once the whole knowledge validates with them; record the change. `change` may be a
        function returning (new contents, summary), called once no other change can happen meanwhile."""
        # With a shared database, one editor at a time across every process: catch up with the others'
        # changes first, so the "changed meanwhile" checks below compare with the latest text.
        async with self.storage.knowledge_lock(), self._lock:
            await self._catch_up_locked()
            done = await asyncio.to_thread(self._apply_locked, change, by_id, by_name, place, summary,
                                           asyncio.get_running_loop())
            if self.storage.shared:
                self.applied = max(self.applied, done.change.id)
            return done

    async def catch_up(self) -> int:
        """With a shared database (PostgreSQL), write the knowledge changes other processes recorded since
        the last one applied here into this machine's edits folder; how many. The change log in the
        database is the source of truth for moderators' edits; the folder is each machine's copy of it."""
        async with self._lock:
            return await self._catch_up_locked()

    async def _catch_up_locked(self) -> int:
        if not self.storage.shared:
            return 0
        changes = await self.storage.changes_since(self.applied)
        if changes:
            await asyncio.to_thread(self._replay, changes)
            self.applied = changes[-1].id
        return len(changes)

    def _replay(self, changes: Sequence[Change]) -> None:
        with self._file_lock():
            for change in changes:
                for rel, (_before, after) in change.files.items():
                    if self._edited(rel) != after:
                        self._write(rel, after)

    def _apply_locked(self, change: Any, by_id: str, by_name: str, place: str, summary: str,
                      loop: asyncio.AbstractEventLoop) -> Done:
        with self._file_lock():
            new_texts, summary = change() if callable(change) else (dict(change), summary)
            # An edited copy dropped (None) leaves the shipped file, if there is one, or no file at all.
            replace = {rel: (text if text is not None else self._shipped_text(rel)) for rel, text in new_texts.items()}
            for rel, text in replace.items():
                if text is not None and len(text.encode()) > MAX_FILE_BYTES:
                    raise EditError(f"{rel} would be {len(text.encode()) // 1024} KiB; a knowledge file may be at most "
                                    f"{MAX_FILE_BYTES // 1024} KiB")
            try:
                load_knowledge(self.shipped, overlay=self.edits, replace=replace)
            except KnowledgeError as exc:
                raise EditError("the knowledge would not be valid with this change; nothing was written", exc.problems) from None
            before = {rel: self._edited(rel) for rel in new_texts}
            written: list[str] = []
            try:
                for rel, text in new_texts.items():
                    self._write(rel, text)
                    written.append(rel)
                files = {rel: (before[rel], new_texts[rel]) for rel in new_texts}
                change_id = self._on_loop(self.storage.record_change(by_id, by_name, place, summary, files), loop)
            except BaseException:
                for rel in written:  # put the files back: nothing is half done
                    self._write(rel, before[rel])
                raise
            knowledge = load_knowledge(self.shipped, overlay=self.edits)
            change = self._on_loop(self.storage.change(change_id), loop)
            assert change is not None
            return Done(change, knowledge, summary)

    @staticmethod
    def _on_loop(work: Any, loop: asyncio.AbstractEventLoop) -> Any:
        """Run a storage coroutine on the event loop (where the database lives) from this worker thread."""
        return asyncio.run_coroutine_threadsafe(work, loop).result()

    def _shipped_text(self, rel: str) -> str | None:
        path = self.shipped / rel
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def _write(self, rel: str, text: str | None) -> None:
        """Atomically replace (or remove, for None) the edited copy of `rel`."""
        target = self.edits / rel
        if not target.resolve().is_relative_to(self.edits.resolve()):
            raise EditError(f"{rel} is outside the knowledge folder")
        if text is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        dirfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)

    # --- the operations -----------------------------------------------------------------------------

    async def teach(self, question: str, topic_id: str, *, by_id: str, by_name: str, place: str) -> Done:
        """Make `question`'s wording a phrasing of `topic_id`, so the same question is answered by it."""
        phrase = " ".join(question.split()).strip()
        if len(phrase) < 2:
            raise EditError("the question is empty")
        if len(phrase) > 200:
            raise EditError(f"the question is {len(phrase)} characters; a phrasing may be at most 200, so shorten it "
                            "or write it as an entry of its own")

        def change() -> tuple[dict[str, str | None], str]:
            found = self.locate(topic_id)
            if found is None:
                raise EditError(f"there is no topic '{topic_id}' (see /topics or `mle-advisor kb stats`)")
            asked = [str(a) for a in found.data.get("ask") or []]
            if phrase.lower() in (a.lower() for a in asked):
                raise EditError(f"'{topic_id}' already has that phrasing")
            text = self.text(found.rel) or ""
            new_text = _insert_phrase(text, found, phrase) or self._replace_item(text, found, {**found.data, "ask": [*asked, phrase]})
            return {found.rel: new_text}, f"taught '{_short(phrase)}' to {topic_id}"

        return await self.apply(change, by_id=by_id, by_name=by_name, place=place)

    async def save_entry(self, fields: Mapping[str, Any], *, by_id: str, by_name: str, place: str,
                         original_id: str | None = None, version: str | None = None) -> Done:
        """Edit the entry `original_id` (or add a new one) with `fields`; `version` is the file's digest
        when the moderator opened the form, to refuse an edit of a file that changed meanwhile."""
        fields = {k: v for k, v in fields.items() if v not in (None, "", [], ())}

        def edit() -> tuple[dict[str, str | None], str]:
            found = self.locate(original_id or "")
            if found is None:
                raise EditError(f"there is no topic '{original_id}' any more")
            text = self.text(found.rel) or ""
            if version is not None and digest(text) != version:
                raise ChangedMeanwhile(f"'{original_id}' was changed by someone else meanwhile; here is the new version.",
                                       self.entry_fields(original_id or ""))
            merged = {**found.data, **fields}
            merged.setdefault("id", original_id)
            return {found.rel: self._replace_item(text, found, merged)}, f"edited {merged['id']}"

        def add() -> tuple[dict[str, str | None], str]:
            merged = dict(fields)
            merged["id"] = merged.get("id") or self._free_id(slug(str(merged.get("title", ""))))
            merged.setdefault("sources", [MODERATORS_SOURCE])
            current = self.text(ADDED_FILE)
            text = current if current is not None else (
                "# Entries written by moderators from Discord or `mle-advisor kb`. Edit them like any other.\nentries:\n")
            separator = "" if text.rstrip().endswith("entries:") else "\n"
            return {ADDED_FILE: text.rstrip("\n") + "\n" + separator + render_entry(merged)}, f"added {merged['id']}"

        return await self.apply(edit if original_id is not None else add, by_id=by_id, by_name=by_name, place=place)

    def _free_id(self, base: str) -> str:
        candidates = (base, *(f"{base}-{n}" for n in range(2, 50)))
        return next(c for c in candidates if self.locate(c) is None)

    async def import_file(self, content: bytes, *, name: str, rel: str | None, by_id: str, by_name: str, place: str) -> Done:
        """`content` replaces the knowledge file `rel` (default: the file of the same name, else a new
        file in entries/), once the whole knowledge validates with it."""
        if len(content) > MAX_FILE_BYTES:
            raise EditError(f"{name} is {len(content) // 1024} KiB; a knowledge file may be at most {MAX_FILE_BYTES // 1024} KiB")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EditError(f"{name} is not UTF-8 text (byte {exc.start})") from None
        target = rel or self._default_target(name)
        if not re.fullmatch(r"[A-Za-z0-9_./-]+\.ya?ml", target) or ".." in Path(target).parts or target.startswith("/"):
            raise EditError(f"'{target}' is not a knowledge file path inside the folder (like entries/jobs.yaml)")
        existed = self.text(target) is not None
        summary = f"{'replaced' if existed else 'added'} {target} from {_short(name, 40)}"
        return await self.apply({target: text}, by_id=by_id, by_name=by_name, place=place, summary=summary)

    def _default_target(self, name: str) -> str:
        base = Path(name).name
        same = [rel for rel in self.files() if Path(rel).name == base]
        return same[0] if len(same) == 1 else f"entries/{base if base.endswith(('.yaml', '.yml')) else base + '.yaml'}"

    async def undo(self, change_id: int | None, *, by_id: str, by_name: str, place: str) -> Done:
        """Restore the files as they were before change `change_id` (default: the latest)."""
        change = await self.storage.change(change_id)
        if change is None:
            raise EditError("there is no such change" if change_id is not None else "there is no change to undo")
        restore = {rel: before for rel, (before, _after) in change.files.items()}
        return await self.apply(restore, by_id=by_id, by_name=by_name, place=place,
                                summary=f"undid #{change.id} ({_short(change.summary, 60)})")

    def export_zip(self) -> bytes:
        """Every knowledge file as the bot reads it, in one zip (the folder's layout kept)."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel, path in self.files().items():
                info = zipfile.ZipInfo(f"knowledge/{rel}", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        return out.getvalue()

    def upgrades(self) -> list[str]:
        """Edited files whose shipped version differs: where an upgrade's changes are hidden by edits."""
        changed = []
        for path in knowledge_files(self.edits) if self.edits.is_dir() else []:
            rel = path.relative_to(self.edits).as_posix()
            if (self.shipped / rel).is_file():
                changed.append(rel)
        return changed

    # --- text surgery -------------------------------------------------------------------------------

    def _replace_item(self, text: str, found: _Located, fields: Mapping[str, Any]) -> str:
        lines = text.splitlines(keepends=True)
        rendered = render_entry(fields, indent=found.column)
        return "".join(lines[: found.start]) + rendered + "".join(lines[found.end :])


def _locate_in(rel: str, text: str, item_id: str, sections: Sequence[str]) -> _Located | None:
    """Where `item_id` sits in one file, from the line numbers the knowledge reader records."""
    try:
        doc = parse_yaml(text)
    except YamlProblem:
        return None  # a file that doesn't read can't be edited here; `kb check` names its problem
    data = doc.data
    if not isinstance(data, dict):
        return None
    lines = text.splitlines(keepends=True)
    keys = list(data)
    for section in sections:
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not (isinstance(item, dict) and str(item.get("id", "")) == item_id):
                continue
            start = (doc.lines.get((section, index)) or 1) - 1
            dash = re.match(r"^(\s*)- ", lines[start]) if start < len(lines) else None
            if dash is None:
                return None  # not a block list item ("- id: …"): re-rendering it could break the file
            if index + 1 < len(items):
                end = (doc.lines.get((section, index + 1)) or len(lines) + 1) - 1
            else:
                later = [doc.lines[(k,)] - 1 for k in keys[keys.index(section) + 1 :] if (k,) in doc.lines]
                end = min(later) if later else len(lines)
            while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
                end -= 1  # blank lines and comments before the next item stay where they are
            return _Located(rel, section, index, start, end, len(dash.group(1)), item)
    return None


def _insert_phrase(text: str, found: _Located, phrase: str) -> str | None:
    """Add `phrase` as the last line of the entry's block `ask:` list, touching nothing else; None when
    the entry has no block list to add to (then the entry is re-rendered instead)."""
    lines = text.splitlines(keepends=True)
    block = lines[found.start : found.end]
    for i, line in enumerate(block):
        if re.match(r"^\s*ask:\s*$", line):
            j = i + 1
            item_indent = None
            while j < len(block) and re.match(r"^\s*- ", block[j]):
                item_indent = len(block[j]) - len(block[j].lstrip())
                j += 1
            if item_indent is None:
                return None
            new_line = " " * item_indent + "- " + quoted(phrase) + "\n"
            at = found.start + j
            return "".join(lines[:at]) + new_line + "".join(lines[at:])
    return None


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
