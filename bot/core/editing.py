"""Changing the knowledge safely, from Discord or the command line: teach, edit, add, import, undo.

The shipped files are never touched. A moderator's change is stored in the database as the new text of
the ITEMS it touches (an entry, a step, a resource…), which override those items of the shipped files
(bot/core/overrides.py); everything else keeps following the shipped files, so an upgrade reaches every
entry nobody edited. The database is the one truth for edits, shared by every process using it.

Every change is
  * prepared on a snapshot of the overrides and validated whole, with exactly the rules of `kb check`;
  * refused if the item changed since the moderator opened it ("changed meanwhile", per item);
  * recorded in ONE transaction with its history entry (who, when, what, each item before and after),
    which also checks no other process recorded a change since the snapshot (else it is prepared again
    on the new state): the change and its history land together or not at all, whatever fails;
  * undone item by item, refused (naming the later change) when a later change touched the same item;
    an import likewise keeps, or names, what changed since its export.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import textwrap
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from bot.core import yamlfile
from bot.core.knowledge import Knowledge, KnowledgeError, Problem, knowledge_files, validate_items
from bot.core.overrides import (
    Key,
    Override,
    Shipped,
    body_data,
    compose,
    from_rows,
    items_of,
    load_with,
    moved_upstream,
)
from bot.core.storage import LOCAL, Change, KbConflict, Store
from bot.core.yamlfile import YamlProblem, parse_yaml

T = TypeVar("T")
ADDED_FILE = "entries/added.yaml"
"""Where entries written from Discord go."""
MODERATORS_SOURCE = "moderators"
FOLDER_MOVED = "edits-folder-moved"
EXPORT_MARK = re.compile(r"^# Exported from MLE Advisor at change #(\d+)", re.MULTILINE)
_ID = re.compile(r"[^a-z0-9]+")
_ATTEMPTS = 5


class EditError(Exception):
    """A change that was not made; the message says why. `problems` holds validation problems."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class ChangedMeanwhile(EditError):
    """The item changed since the moderator opened it; `current` is what it holds now."""

    def __init__(self, message: str, current: Mapping[str, Any] | None) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class Done:
    change: Change
    knowledge: Knowledge  # validated, with the change in force
    summary: str


def digest(text: str | None) -> str:
    """A short fingerprint of a file's content (or of its absence), to detect a change meanwhile."""
    return hashlib.sha256((text if text is not None else "\0absent").encode()).hexdigest()[:16]


def slug(title: str) -> str:
    """An id from a title: accents dropped, lowercase words joined by hyphens; "" when no Latin letter or
    digit is left (then the id is numbered: entry-1, entry-2, …)."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _ID.sub("-", folded.lower()).strip("-")[:50].strip("-")


def quoted(value: str, *, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as exactly that string: plain when the YAML parser agrees,
    else single-quoted. `flow` for an item of a [..] list, where commas and brackets matter too."""
    import yaml as pyyaml  # here only: most starts read no YAML at all

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


def _provenance(fields: Mapping[str, Any], indent: int) -> list[str]:
    """`basis` (one guide and locator a line) and `views` (each guide's side of a disagreement), kept
    through an edit so that re-saving an entry never drops where its claims come from."""
    pad = " " * indent
    lines: list[str] = []
    if fields.get("basis"):
        lines.append(f"{pad}basis:")
        for item in fields["basis"]:
            parts = [f"{key}: {quoted(str(item[key]), flow=True)}" for key in ("source", "at", "for") if item.get(key)]
            lines.append(f"{pad}  - {{{', '.join(parts)}}}")
    if fields.get("views"):
        lines.append(f"{pad}views:")
        for item in fields["views"]:
            lines.append(f"{pad}  - source: {quoted(str(item.get('source', '')))}")
            lines.append(f"{pad}    at: {quoted(str(item.get('at', '')))}")
            lines += _folded("says", str(item.get("says", "")), indent + 4)
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
    lines += _provenance(fields, indent + 2)
    lines[0] = " " * indent + "- " + lines[0].lstrip()
    return "\n".join(lines) + "\n"




# --- a snapshot of the edits, and reading items from it ---------------------------------------------------

@dataclass
class Snapshot:
    """The overrides in force after change `change_id`, over the shipped files as they are now."""

    change_id: int
    overrides: dict[Key, Override]
    shipped: Shipped

    def current(self, key: Key) -> tuple[str | None, dict[str, Any] | None]:
        """An item's YAML and data as in force (None, None: no such item)."""
        override = self.overrides.get(key)
        if override is not None:
            return override.body, (body_data(override.body) if override.body else None)
        item = self.shipped.item(key)
        return (item.text, dict(item.data)) if item is not None else (None, None)

    def topic_key(self, topic_id: str) -> Key | None:
        for section in ("entries", "steps"):
            if self.current((section, topic_id))[1] is not None:
                return (section, topic_id)
        return None

    def file_of(self, key: Key) -> str:
        override = self.overrides.get(key)
        return self.shipped.where().get(key) or (override.file if override else ADDED_FILE)

    def status(self, key: Key) -> str:
        override = self.overrides.get(key)
        if override is None:
            return "shipped"
        if override.body is None:
            return "removed"
        return "edited" if key in self.shipped.where() else "added"

    def ids(self) -> set[str]:
        """Every step and entry id in use (they share one set)."""
        return {k[1] for k in [*self.shipped.where(), *self.overrides] if k[0] in ("steps", "entries")}

    def file_items(self, rel: str) -> dict[Key, dict[str, Any]]:
        """The items of one file as in force, in order."""
        texts = compose(self.shipped, {k: o for k, o in self.overrides.items() if self.file_of(k) == rel})
        text = texts.get(rel, self.shipped.texts.get(rel, ""))
        return {item.key: dict(item.data) for item in items_of(text)[0]}

    def hidden(self, key: Key, place: str | None) -> list[str]:
        """Phrasings of this item taught from another server's members' questions: not shown in `place`."""
        if place is None:
            return []
        override = self.overrides.get(key)
        if override is None:
            return []
        return [phrase for phrase, origin in override.origins.items() if origin not in (place, LOCAL)]

    def fields(self, key: Key, place: str | None) -> dict[str, Any] | None:
        """An item's fields as plain data for a form, with another server's phrasings left out."""
        body, data = self.current(key)
        if data is None:
            return None
        hidden = {h.lower() for h in self.hidden(key, place)}
        out = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in data.items()}
        if hidden and isinstance(out.get("ask"), list):
            out["ask"] = [a for a in out["ask"] if str(a).lower() not in hidden]
        return out | {"file": self.file_of(key), "version": digest(body)}

    def override_for(self, key: Key, body: str | None, place: str, *, rebase: bool = False) -> Override | None:
        """The override that makes `key` read `body` (None: removed), keeping where it came from; None
        when that is just the shipped item (so the item follows upstream again)."""
        shipped = self.shipped.item(key)
        old = self.overrides.get(key)
        new_data = body_data(body) if body is not None else None
        if shipped is not None and new_data is not None and new_data == dict(shipped.data):
            return None
        old_data = self.current(key)[1] or {}
        before = {str(a).lower() for a in old_data.get("ask") or []}
        origins = {p: o for p, o in (old.origins.items() if old else ()) if p in {str(a).lower() for a in (new_data or {}).get("ask") or []}}
        for phrase in (new_data or {}).get("ask") or []:
            if str(phrase).lower() not in before and shipped_phrase(shipped, phrase) is False:
                origins[str(phrase).lower()] = place
        base = shipped.text if shipped is not None else None
        if old is not None and not rebase:
            return replace(old, body=body, origins=origins)
        return Override(key[0], key[1], self.file_of(key), body, base, old.after_id if old else "", origins)


def shipped_phrase(shipped: Any, phrase: Any) -> bool:
    return shipped is not None and str(phrase).lower() in {str(a).lower() for a in shipped.data.get("ask") or []}


@dataclass(frozen=True)
class Plan:
    items: dict[Key, Override | None]
    summary: str
    shared_summary: str = ""  # without members' words, for other servers; "" = the summary


class _Conflicts(Exception):
    def __init__(self, keys: list[Key]) -> None:
        super().__init__(", ".join(k[1] for k in keys))
        self.keys = keys


async def _thread(work: Callable[..., T], *args: Any) -> T:
    """Run CPU work in a thread. A StopIteration escaping into the future would leave it pending for good
    (and every later change waiting behind the lock): it becomes an ordinary error instead."""

    def guarded() -> T:
        try:
            return work(*args)
        except StopIteration as exc:
            raise RuntimeError(f"internal error while preparing the change ({exc!r})") from None

    return await asyncio.to_thread(guarded)


def resolve_topic(knowledge: Knowledge, text: str) -> str:
    """A step or entry id from what a moderator typed: its id, its title, or an unambiguous beginning
    of either (case does not matter)."""
    wanted = " ".join(text.split()).lower()
    if not wanted:
        raise EditError("name a topic: its id or title (`mle-advisor kb list` lists them)")
    topics = knowledge.topics
    if wanted in topics:
        return wanted
    titled = [t.id for t in topics.values() if t.title.lower() == wanted]
    if len(titled) == 1:
        return titled[0]
    starts = sorted({t.id for t in topics.values() if t.id.startswith(wanted) or t.title.lower().startswith(wanted)})
    if len(starts) == 1:
        return starts[0]
    if starts:
        shown = ", ".join(starts[:6]) + ("…" if len(starts) > 6 else "")
        raise EditError(f"'{_short(text, 60)}' could be any of: {shown}; type more of it")
    raise EditError(f"there is no topic '{_short(text, 60)}' (`mle-advisor kb list` or /kb info lists ids and titles)")


# --- the editor ------------------------------------------------------------------------------------------

class KnowledgeEditor:
    def __init__(self, shipped: Path, storage: Store) -> None:
        self.shipped = Path(shipped)
        self.storage = storage
        self._lock = asyncio.Lock()

    async def snapshot(self) -> Snapshot:
        change_id, rows = await self.storage.kb_state()
        shipped = await _thread(Shipped, self.shipped)
        return Snapshot(change_id, from_rows(rows), shipped)

    async def load(self) -> Knowledge:
        """The knowledge with every edit in force (KnowledgeError when it is not valid)."""
        snap = await self.snapshot()
        return await _thread(lambda: load_with(self.shipped, snap.overrides, change_id=snap.change_id, shipped=snap.shipped))

    # --- reading ---------------------------------------------------------------------------------------

    async def entry_fields(self, topic_id: str, place: str | None = None) -> dict[str, Any] | None:
        """A step's or entry's fields for a pre-filled form, with "file" and "version" (to detect a change
        meanwhile); phrasings taught from another server's members are left out."""
        snap = await self.snapshot()
        key = snap.topic_key(topic_id)
        return snap.fields(key, place) if key else None

    async def entry_yaml(self, topic_id: str) -> tuple[str, str] | None:
        """An entry's YAML as in force, and its version."""
        snap = await self.snapshot()
        key = snap.topic_key(topic_id)
        if key is None:
            return None
        body = snap.current(key)[0] or ""
        return body, digest(body)

    async def topics(self) -> list[tuple[str, str, str, str]]:
        """(id, title, kind, status) of every step and entry, in the order the knowledge reads them."""
        snap = await self.snapshot()
        knowledge = await self.load()
        out = []
        for topic in knowledge.topics.values():
            kind = "step" if knowledge.step(topic.id) else "entry"
            out.append((topic.id, topic.title, kind, snap.status((f"{kind}s" if kind == "step" else "entries", topic.id))))
        return out

    async def info(self, topic_id: str, place: str | None = None, days: int = 30) -> dict[str, Any] | None:
        snap = await self.snapshot()
        key = snap.topic_key(topic_id)
        if key is None:
            return None
        _, data = snap.current(key)
        changes = await self.storage.item_changes(*key, limit=10)
        answered, up, down = await self.storage.topic_usage(topic_id, days, place)
        return {"id": topic_id, "title": (data or {}).get("title", topic_id), "kind": key[0][:-1] if key[0] == "steps" else "entry",
                "file": snap.file_of(key), "status": snap.status(key), "changes": changes,
                "answered": answered, "helpful": up, "unhelpful": down, "days": days}

    async def upstream(self) -> list[tuple[Override, str | None]]:
        """Edited items whose shipped version changed since the edit (see overrides.moved_upstream)."""
        snap = await self.snapshot()
        return await _thread(moved_upstream, snap.shipped, snap.overrides)

    async def export_zip(self, place: str | None = None) -> bytes:
        """Every knowledge file as in force, in one zip (the folder's layout kept), each marked with the
        change it was exported at, so an import can tell what changed since. Phrasings taught from
        another server's members' questions are left out when exported for `place`."""
        snap = await self.snapshot()
        return await _thread(self._zip, snap, place)

    def _zip(self, snap: Snapshot, place: str | None) -> bytes:
        overrides = dict(snap.overrides)
        for key, override in snap.overrides.items():
            hidden = {h.lower() for h in snap.hidden(key, place)}
            data = body_data(override.body) if override.body and hidden else None
            if data is not None:
                data["ask"] = [a for a in data.get("ask") or [] if str(a).lower() not in hidden]
                overrides[key] = replace(override, body=render_entry(data, indent=0))
        texts = dict(snap.shipped.texts) | compose(snap.shipped, overrides)
        mark = (f"# Exported from MLE Advisor at change #{snap.change_id}. Edit it and import it (/kb import or\n"
                "# `mle-advisor kb import`): changes made since this export are kept, or named if yours would undo them.\n")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel, text in sorted(texts.items()):
                info = zipfile.ZipInfo(f"knowledge/{rel}", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, (mark + text).encode())
        return out.getvalue()

    def files(self) -> list[str]:
        return [p.relative_to(self.shipped).as_posix() for p in knowledge_files(self.shipped)]

    # --- changing --------------------------------------------------------------------------------------

    async def _change(self, compute: Callable[[Snapshot, Any], Plan], *, by_id: str, by_name: str, place: str,
                      prepare: Callable[[Snapshot], Awaitable[Any]] | None = None, mark: str | None = None) -> Done:
        """Prepare the change on a fresh snapshot, validate the knowledge with it, and record it with its
        overrides in one transaction; if another process recorded a change meanwhile, do it all again.
        With a shared database the store's knowledge lock also keeps other processes' editors waiting
        (PostgreSQL: an advisory lock), so the retry is for a process that does not take it (an older one)."""
        async with self.storage.knowledge_lock(), self._lock:
            for _ in range(_ATTEMPTS):
                snap = await self.snapshot()
                extra = await prepare(snap) if prepare is not None else None
                plan = await _thread(compute, snap, extra)
                items: dict[Key, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
                overrides = dict(snap.overrides)
                for key, after in plan.items.items():
                    before = snap.overrides.get(key)
                    if (before.state() if before else None) == (after.state() if after else None):
                        continue
                    items[key] = (before.state() if before else None, after.state() if after else None)
                    if after is None:
                        overrides.pop(key, None)
                    else:
                        overrides[key] = replace(after, change_id=snap.change_id + 1)
                if not items:
                    raise EditError("that changes nothing: the knowledge already reads so")
                try:
                    knowledge = await _thread(lambda o=overrides, s=snap: load_with(self.shipped, o, shipped=s.shipped))
                except KnowledgeError as exc:
                    raise EditError("the knowledge would not be valid with this change; nothing was changed",
                                    exc.problems) from None
                try:
                    change_id = await self.storage.kb_commit(
                        snap.change_id, items, by_id=by_id, by_name=by_name, place=place, summary=plan.summary,
                        shared_summary=plan.shared_summary or plan.summary, mark=mark)
                except KbConflict:
                    continue  # another process got there first: catch up and prepare it again
                overrides = {k: replace(o, change_id=change_id) if k in items else o for k, o in overrides.items()}
                change = await self.storage.change(change_id)
                assert change is not None
                return Done(change, replace(knowledge, change_id=change_id, overrides=overrides), plan.summary)
            raise EditError("the knowledge kept changing while this change was prepared; nothing was changed: try again")

    async def teach(self, question: str, topic_id: str, *, by_id: str, by_name: str, place: str) -> Done:
        """Make `question`'s wording a phrasing of `topic_id`, so the same question is answered by it."""
        phrase = " ".join(question.split()).strip()
        if len(phrase) < 2:
            raise EditError("the question is empty")
        if len(phrase) > 200:
            raise EditError(f"the question is {len(phrase)} characters; a phrasing may be at most 200, so shorten it "
                            "or write it as an entry of its own")

        def compute(snap: Snapshot, _: Any) -> Plan:
            key = snap.topic_key(topic_id)
            if key is None:
                raise EditError(f"there is no topic '{_short(topic_id, 60)}' (`mle-advisor kb list` or /kb info lists them)")
            body, data = snap.current(key)
            asked = [str(a) for a in (data or {}).get("ask") or []]
            if phrase.lower() in (a.lower() for a in asked):
                raise EditError(f"'{topic_id}' already has that phrasing")
            new_body = _insert_phrase(body or "", phrase) or render_entry({**(data or {}), "ask": [*asked, phrase]}, indent=0)
            return Plan({key: snap.override_for(key, new_body, place)}, f"taught '{_short(phrase)}' to {topic_id}",
                        f"taught a phrasing to {topic_id}")

        return await self._change(compute, by_id=by_id, by_name=by_name, place=place)

    async def save_entry(self, fields: Mapping[str, Any], *, by_id: str, by_name: str, place: str,
                         original_id: str | None = None, version: str | None = None) -> Done:
        """Edit the step or entry `original_id` (or add a new entry) with `fields`. For an edit, every field
        given is applied as given: an empty one is removed (or refused with the reason when it is
        required). `version` is the item's version when the moderator opened it, to refuse an edit of an
        item that changed meanwhile."""

        def edit(snap: Snapshot, _: Any) -> Plan:
            key, data = _unchanged_since(snap, original_id or "", version, "here is the new version.", place)
            merged = dict(data or {})
            for name, value in fields.items():
                if name in ("file", "version"):
                    continue
                if value in (None, "", [], ()):
                    merged.pop(name, None)
                else:
                    merged[name] = list(value) if isinstance(value, tuple) else value
            if str(merged.get("id", original_id)) != original_id:
                raise EditError(f"an id cannot be changed ('{original_id}'): add a new entry instead")
            merged["id"] = original_id
            hidden = snap.hidden(key, place)
            if hidden and "ask" in fields:  # phrasings the form did not show stay
                asked = [str(a) for a in merged.get("ask") or []]
                merged["ask"] = asked + [h for h in _originals(data, hidden) if h.lower() not in {a.lower() for a in asked}]
            if not merged.get("ask") and data and data.get("ask") and "ask" in fields:
                merged.pop("ask", None)
            return Plan({key: snap.override_for(key, render_entry(merged, indent=0), place)}, f"edited {original_id}")

        def add(snap: Snapshot, _: Any) -> Plan:
            merged = {k: v for k, v in fields.items() if v not in (None, "", [], ()) and k not in ("file", "version")}
            wanted = str(merged.get("id") or "")
            merged["id"] = wanted or free_id(snap.ids(), slug(str(merged.get("title", ""))))
            if wanted and wanted in snap.ids():
                raise EditError(f"the id '{wanted}' is already used; choose another")
            merged.setdefault("sources", [MODERATORS_SOURCE])
            key = ("entries", str(merged["id"]))
            body = render_entry(merged, indent=0)
            override = Override("entries", key[1], ADDED_FILE, body, None, "",
                                {str(a).lower(): place for a in merged.get("ask") or []})
            return Plan({key: override}, f"added {merged['id']}")

        return await self._change(edit if original_id is not None else add, by_id=by_id, by_name=by_name, place=place)

    async def replace_item(self, topic_id: str, text: str, *, version: str | None, by_id: str, by_name: str,
                           place: str) -> Done:
        """Replace a step or entry with YAML written by hand (`kb edit`): one item, the same id. The
        shipped version it now rests on becomes its base (the editor was shown what upstream changed)."""
        data = _one_item(text)
        if str(data.get("id", "")) != topic_id:
            raise EditError(f"the entry's id must stay '{topic_id}' (found '{data.get('id', '')}')")

        def compute(snap: Snapshot, _: Any) -> Plan:
            key, _data = _unchanged_since(snap, topic_id, version, "nothing was saved.", None)
            return Plan({key: snap.override_for(key, _as_item(text), place, rebase=True)}, f"edited {topic_id}")

        return await self._change(compute, by_id=by_id, by_name=by_name, place=place)

    async def add_item(self, text: str, *, by_id: str, by_name: str, place: str) -> Done:
        """Add one new entry written as YAML (`kb add`)."""
        data = _one_item(text)
        if not data.get("id"):
            return await self.save_entry(data, by_id=by_id, by_name=by_name, place=place)

        def compute(snap: Snapshot, _: Any) -> Plan:
            item_id = str(data["id"])
            if item_id in snap.ids():
                raise EditError(f"the id '{item_id}' is already used; `kb edit {item_id}` changes it")
            body = _as_item(text)
            return Plan({("entries", item_id): Override("entries", item_id, ADDED_FILE, body, None, "",
                                                        {str(a).lower(): place for a in data.get("ask") or []})},
                        f"added {item_id}")

        return await self._change(compute, by_id=by_id, by_name=by_name, place=place)

    async def import_file(self, content: bytes, *, name: str, rel: str | None, by_id: str, by_name: str, place: str) -> Done:
        """The items of `content` replace those of the knowledge file `rel` (default: the file of the same
        name, else a new file in entries/), item by item, once the whole knowledge validates with them.
        A file exported earlier keeps what changed since its export, or names it when the import would undo it."""
        if len(content) > yamlfile.LIMITS.file_bytes:
            raise EditError(yamlfile.LIMITS.too_big(name, len(content)))
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EditError(f"{name} is not UTF-8 text (byte {exc.start})") from None
        target = rel or self._default_target(name)
        check_path(target)
        target = PurePosixPath(target).as_posix()  # "entries//x.yaml" and "./entries/x.yaml" name entries/x.yaml
        try:
            doc = parse_yaml(text)
        except YamlProblem as exc:
            raise EditError(f"{name} is not valid YAML", [Problem(name, exc.line, "file", exc.message)]) from None
        problems = validate_items(doc, name)
        if problems:
            raise EditError(f"{name} has mistakes; nothing was changed", problems)
        imported, _ = items_of(text)
        if not imported:
            raise EditError(f"{name} holds no items (entries, steps, resources…) to import")
        mark = EXPORT_MARK.search("\n".join(text.splitlines()[:3]))
        exported_at = int(mark.group(1)) if mark else None

        async def since_export(snap: Snapshot) -> dict[Key, tuple[dict[str, Any] | None, Change]]:
            """Each item changed after the export: its override at the export, and the first later change."""
            if exported_at is None or exported_at >= snap.change_id:
                return {}
            out: dict[Key, tuple[dict[str, Any] | None, Change]] = {}
            for change in await self.storage.changes_since(exported_at):
                for key, (before, _after) in change.items.items():
                    out.setdefault(key, (before, change))
            return out

        def compute(snap: Snapshot, later: dict[Key, tuple[dict[str, Any] | None, Change]]) -> Plan:
            current = snap.file_items(target)
            plan: dict[Key, Override | None] = {}
            conflicts: list[Key] = []
            previous: dict[str, str] = {}
            for item in imported:
                key, data = item.key, dict(item.data)
                after = previous.get(key[0], "")
                previous[key[0]] = key[1]
                now = snap.current(key)[1]
                hidden = snap.hidden(key, place)
                body = item.text
                if hidden and isinstance(data.get("ask"), list):  # another server's phrasings are kept
                    missing = [h for h in _originals(now, hidden) if h.lower() not in {str(a).lower() for a in data["ask"]}]
                    if missing:
                        data["ask"] = [*data["ask"], *missing]
                        body = render_entry(data, indent=0)
                if now == data:
                    continue
                if key in later:
                    if _data_of(later[key][0], snap, key) == data:
                        continue  # the importer left it as exported: keep the later change
                    conflicts.append(key)
                    continue
                override = snap.override_for(key, body, place)
                if override is not None and key not in snap.shipped.where() and key not in snap.overrides:
                    override = replace(override, file=target, after_id=after)
                plan[key] = override
            names = {i.key for i in imported}
            for key in current:
                if key in names:
                    continue
                if key in later:
                    if _data_of(later[key][0], snap, key) is None:
                        continue  # added after the export: keep it
                    conflicts.append(key)
                    continue
                plan[key] = None if key not in snap.shipped.where() else replace(
                    snap.override_for(key, "- removed\n", place) or Override(key[0], key[1], target, None), body=None)
            if conflicts:
                raise _Conflicts(conflicts)
            verb = "replaced" if current else "added"
            return Plan(plan, f"{verb} {target} from {_short(name, 40)} ({_count(len(plan), 'item')} changed)")

        try:
            return await self._change(compute, by_id=by_id, by_name=by_name, place=place, prepare=since_export)
        except _Conflicts as exc:
            named = await self._name_conflicts(exc.keys, exported_at or 0, place)
            raise EditError(f"not imported: since your export (change #{exported_at}), {named}. Export again and redo "
                            "your change on the new version; nothing was changed") from None

    def _default_target(self, name: str) -> str:
        base = Path(name).name
        same = [rel for rel in self.files() if Path(rel).name == base]
        return same[0] if len(same) == 1 else f"entries/{base if base.endswith(('.yaml', '.yml')) else base + '.yaml'}"

    async def undo(self, change_id: int | None, *, by_id: str, by_name: str, place: str) -> Done:
        """Put every item change `change_id` (default: the latest) touched back as it was before it;
        refused, naming the later change, when a later change touched one of those items."""
        change = await self.storage.change(change_id)
        if change is None:
            raise EditError("there is no such change" if change_id is not None else "there is no change to undo")
        if not change.items:
            raise EditError(f"change #{change.id} was made before edits moved into the database and cannot be undone "
                            "item by item: export the knowledge, fix it and import it instead")

        def compute(snap: Snapshot, _: Any) -> Plan:
            conflicts = []
            plan: dict[Key, Override | None] = {}
            for key, (before, after) in change.items.items():
                now = snap.overrides.get(key)
                if (now.body if now else None, now is not None) != ((after or {}).get("body"), after is not None):
                    conflicts.append(key)
                    continue
                plan[key] = Override.from_state(key, before) if before is not None else None
            if conflicts:
                raise _Conflicts(conflicts)
            shared = visible_summary(change, "")  # what a server other than the change's own may read
            return Plan(plan, f"undid #{change.id} ({_short(visible_summary(change, place), 60)})",
                        f"undid #{change.id} ({_short(shared, 60)})")

        try:
            return await self._change(compute, by_id=by_id, by_name=by_name, place=place)
        except _Conflicts as exc:
            named = await self._name_conflicts(exc.keys, change.id, place)
            raise EditError(f"not undone: {named} after change #{change.id}; undo that first, or edit the item by "
                            "hand. Nothing was changed") from None

    async def _name_conflicts(self, keys: list[Key], after: int, place: str | None) -> str:
        parts = []
        for key in keys[:5]:
            later = await self.storage.item_changes(*key, after=after, limit=1)
            if later:
                c = later[0]
                parts.append(f"'{key[1]}' was changed by #{c.id} ({_short(c.by_name or c.by_id, 30)}: "
                             f"{_short(visible_summary(c, place), 60)})")
            else:
                parts.append(f"'{key[1]}' was changed")
        return "; ".join(parts) + ("…" if len(keys) > 5 else "")

    async def migrate_folder(self, folder: Path) -> int | None:
        """Move the moderators' edits of an older version (whole files in an edits folder) into the
        database, once: each edited file's items that differ from the shipped ones become overrides, in
        one change. The folder is then renamed, not deleted. Returns the change id, or None."""
        if await self.storage.kb_meta(FOLDER_MOVED) is not None:
            return None
        texts = await _thread(_folder_texts, folder)
        if not texts:
            return None

        def compute(snap: Snapshot, _: Any) -> Plan:
            plan: dict[Key, Override | None] = {}
            for rel, text in texts.items():
                edited, _ = items_of(text)
                names = {i.key for i in edited}
                previous: dict[str, str] = {}
                for item in edited:
                    shipped = snap.shipped.item(item.key)
                    after = previous.get(item.section, "")
                    previous[item.section] = item.item_id
                    if shipped is not None and dict(shipped.data) == dict(item.data):
                        continue
                    plan[item.key] = Override(item.section, item.item_id, rel, item.text,
                                              shipped.text if shipped else None, after if shipped is None else "", {})
                for shipped_item in snap.shipped.items(rel)[0]:
                    if shipped_item.key not in names:
                        plan[shipped_item.key] = Override(shipped_item.section, shipped_item.item_id, rel, None,
                                                          shipped_item.text)
            return Plan(plan, f"moved the edits in {folder.name}/ ({_count(len(texts), 'file')}) into the database")

        try:
            done = await self._change(compute, by_id="migration", by_name="upgrade", place=LOCAL, mark=FOLDER_MOVED)
        except EditError as exc:
            if "changes nothing" not in str(exc):
                raise
            return None
        await _thread(_set_aside, folder)
        return done.change.id


def _folder_texts(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in knowledge_files(folder)}


def _set_aside(folder: Path) -> None:
    try:
        folder.rename(folder.with_name(folder.name + ".moved-to-database"))
    except OSError:
        pass  # the mark in the database keeps it from being moved twice


def visible_summary(change: Change, place: str | None) -> str:
    """A change's summary as moderators of `place` may see it: members' words only in the server they
    were said in (and for the host, place None)."""
    if place is None or change.place == place:
        return change.summary
    if change.shared_summary:
        return change.shared_summary
    return re.sub(r"^taught '.*' to ", "taught a phrasing to ", change.summary)  # recorded before shared summaries


def check_path(target: str) -> None:
    """A knowledge file path an import may write: inside the folder, a .yaml file, not hidden (the loader
    skips hidden files, so it would never be read)."""
    parts = [p for p in PurePosixPath(target).parts if p != "."]
    if not re.fullmatch(r"[A-Za-z0-9_./-]+\.ya?ml", target) or ".." in parts or target.startswith("/"):
        raise EditError(f"'{_short(target, 80)}' is not a knowledge file path inside the folder (like entries/jobs.yaml)")
    if any(part.startswith(".") for part in parts):
        raise EditError(f"'{_short(target, 80)}' is a hidden path: the knowledge loader skips hidden files, so it would "
                        "never be read; choose a name without a leading dot")


def free_id(taken: set[str], base: str) -> str:
    """`base`, or `base-2`, `base-3`, … (no limit); without a base, `entry-1`, `entry-2`, …"""
    if base and base not in taken:
        return base
    stem = base or "entry"
    n = 1 if not base else 2
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def _one_item(text: str) -> dict[str, Any]:
    try:
        data = parse_yaml(text).data
    except YamlProblem as exc:
        raise EditError("the YAML does not read", [Problem("entry", exc.line, "file", exc.message)]) from None
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict) and set(data) == {"entries"} and isinstance(data["entries"], list) and len(data["entries"]) == 1:
        data = data["entries"][0]
    if not isinstance(data, dict):
        raise EditError("write one entry: a mapping of keys like 'id:', 'title:', 'answer:'")
    return data


def _unchanged_since(snap: Snapshot, topic_id: str, version: str | None, then: str,
                     place: str | None) -> tuple[Any, Any]:
    """The key and fields of `topic_id` in force, refusing when it is gone or is no longer the `version` the
    moderator started from (ChangedMeanwhile carries the new fields, as `place` may see them, and `then`)."""
    key = snap.topic_key(topic_id)
    if key is None:
        raise EditError(f"there is no topic '{topic_id}' any more")
    body, data = snap.current(key)
    if version is not None and digest(body) != version:
        raise ChangedMeanwhile(f"'{topic_id}' was changed by someone else meanwhile; {then}", snap.fields(key, place))
    return key, data


def _as_item(text: str) -> str:
    """Hand-written YAML of one item as an item of a list ("- id: …"), comments kept."""
    data = _one_item(text)
    stripped = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if stripped and stripped[0].lstrip().startswith("- ") and not text.lstrip().startswith("entries:"):
        items, _ = items_of("entries:\n" + textwrap.indent(text, "  "))
        if len(items) == 1:
            return items[0].text
    if not text.lstrip().startswith(("entries:", "- ")):
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            indented = "entries:\n  - " + lines[0].lstrip() + "\n" + "".join(f"    {line}\n" for line in lines[1:])
            items, _ = items_of(indented)
            if len(items) == 1 and dict(items[0].data) == data:
                return items[0].text
    return render_entry(data, indent=0)


def _originals(data: Mapping[str, Any] | None, lowered: list[str]) -> list[str]:
    """The phrasings of `data` whose lowercase is in `lowered`, as written."""
    wanted = set(lowered)
    return [str(a) for a in (data or {}).get("ask") or [] if str(a).lower() in wanted]


def _data_of(state: Mapping[str, Any] | None, snap: Snapshot, key: Key) -> dict[str, Any] | None:
    """An item's data under an override state (None: the shipped item)."""
    if state is None:
        item = snap.shipped.item(key)
        return dict(item.data) if item else None
    return body_data(state["body"]) if state.get("body") else None


def _insert_phrase(body: str, phrase: str) -> str | None:
    """Add `phrase` as the last line of the item's block `ask:` list, touching nothing else; None when the
    item has no block list to add to (then it is re-rendered instead)."""
    lines = body.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if re.match(r"^\s*ask:\s*$", line):
            j = i + 1
            indent = None
            while j < len(lines) and re.match(r"^\s*- ", lines[j]):
                indent = len(lines[j]) - len(lines[j].lstrip())
                j += 1
            if indent is None:
                return None
            return "".join(lines[:j]) + " " * indent + "- " + quoted(phrase) + "\n" + "".join(lines[j:])
    return None


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
