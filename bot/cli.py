"""The `mle-advisor` command.

    mle-advisor ask [--db PATH] [--user ID] [--json] [QUESTION]   answer one question, or each stdin line
    mle-advisor chat [--db PATH] [--user ID]                      console conversation, slash commands as text
    mle-advisor kb check [DIR]                                    validate the knowledge (exit 1 on errors)
    mle-advisor kb stats [DIR]                                    counts, load time, sources covered
    mle-advisor kb gaps [--db PATH] [--guild ID] [-n N]           what members asked that went unanswered
    mle-advisor kb list                                           every step and entry: id, kind, edited or shipped, title
    mle-advisor kb info TOPIC                                     who changed it and when, answers, 👍/👎
    mle-advisor kb teach QUESTION TOPIC [--by NAME]               make QUESTION a phrasing of TOPIC
    mle-advisor kb edit TOPIC [--by NAME]                         edit a step or entry's YAML in $EDITOR
    mle-advisor kb add [FILE] [--by NAME]                         add an entry (YAML from FILE, or $EDITOR)
    mle-advisor kb import FILE [--as PATH] [--by NAME]            replace or add one knowledge file's items
    mle-advisor kb export OUT.zip                                 every knowledge file, in one zip
    mle-advisor kb history [-n N]                                 the changes, newest first
    mle-advisor kb undo [ID] [--by NAME]                          put back what change ID changed
    mle-advisor kb diff                                           what upstream changed under each edited entry

TOPIC is an id, a title, or an unambiguous beginning of either.
    mle-advisor doctor                                            check a setup before the first start
    mle-advisor run                                               start the Discord bot (needs DISCORD_TOKEN)
    mle-advisor start                                             the bot, or the console chat without a token
    mle-advisor sync [--guild ID]                                 push slash commands to Discord, then exit

ask, chat, kb and doctor never import discord.py, so they start fast. Exit status: 0 fine, 1 invalid
knowledge or a refused change (kb) or problems found (doctor), 2 a setting, the database or the token
is unusable. Errors are one plain line, never a traceback. `mle-advisor --env PATH COMMAND` reads the
settings from that .env file alone. What the commands create is readable by this user only (umask 077).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

# Importing the advisor and the settings (pydantic) makes tens of thousands of objects and no garbage: the
# ~80 collections that would run meanwhile only cost every command its start-up time (issue 17; see main()).
_collecting = gc.isenabled()
gc.disable()
try:
    from pydantic import ValidationError

    from bot.core import compiled, yamlfile
    from bot.core.advisor import Advisor
    from bot.core.editing import EditError, KnowledgeEditor, resolve_topic
    from bot.core.gaps import group as group_gaps
    from bot.core.knowledge import Knowledge, KnowledgeError, load_knowledge
    from bot.core.reply import Reply
    from bot.core.storage import (
        DM,
        LEGACY,
        LOCAL,
        SQLiteStorage,
        StorageError,
        Store,
        is_postgres_url,
        store_for,
    )
    from bot.settings import Settings, env_files, load
finally:
    if _collecting:
        gc.enable()

LOCAL_USER = "local"
EXIT_KNOWLEDGE, EXIT_SETUP = 1, 2
MAX_LINE_CHARS = 20_000
MAX_LINES = 100_000
_USER_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
_SURROGATE = re.compile("[\ud800-\udfff]")


class SetupError(Exception):
    """Something the person running the command must fix; printed as one line, no traceback."""


class BadLine(ValueError):
    """A line of `ask`'s input that is refused (with why), while the rest of the batch is answered."""


ENV_FILE: Path | None = None
"""--env PATH: the one .env file to read (default: see bot/settings.py)."""


def _settings(database: Path | None = None) -> Settings:
    if ENV_FILE is not None and not ENV_FILE.is_file():
        raise SetupError(f"--env {ENV_FILE}: no such file")
    try:
        settings = load(ENV_FILE, database)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        message = str(first.get("ctx", {}).get("error") or first["msg"]).removeprefix("Value error, ")
        raise SetupError(f"the setting {name} is invalid: {message}; see .env.example") from None
    _apply(settings)
    return settings


def _apply(settings: Settings) -> None:
    """The settings that hold for the whole process: the knowledge's limits and where it is kept compiled."""
    yamlfile.use_limits(settings.knowledge_limits)
    compiled.use_folder(settings.database_path.parent / compiled.FOLDER)


def _file_of(storage: Store) -> Path | None:
    """The SQLite file (an older version's edits folder is found beside it), or None on PostgreSQL."""
    return storage.path if isinstance(storage, SQLiteStorage) else None


async def _load(settings: Settings, storage: Store) -> Knowledge:
    """The knowledge: the shipped folder with the moderators' edits (in the database) in force."""
    editor = await _editor(settings, storage)
    try:
        return await editor.load()
    except KnowledgeError as exc:
        problems = str(exc)
        joint = " " if "\n" not in problems else "\n"  # one problem: one line
        raise SetupError(f"the knowledge in {settings.knowledge_dir} has problems; nothing was answered:{joint}{problems}") from None
    except OSError as exc:
        raise SetupError(f"cannot read the knowledge in {settings.knowledge_dir} ({exc.strerror or exc}): set "
                         "KNOWLEDGE_DIR to the folder of the knowledge YAML files") from None


async def _editor(settings: Settings, storage: Store) -> KnowledgeEditor:
    """The editor, once an older version's edits folder (beside the database) has moved into it."""
    editor = KnowledgeEditor(settings.knowledge_dir, storage)
    folder = settings.edits_dir(_file_of(storage))
    try:
        await editor.migrate_folder(folder)
    except EditError as exc:
        raise SetupError(f"the edits in {folder} could not be moved into the database: {exc}"
                         + "".join(f"\n{p}" for p in exc.problems)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"the edits folder {folder} cannot be read: {exc}") from None
    return editor


def user_id(value: object) -> str:
    """A user id from the command line or a JSON line: text or a whole number, 1-64 plain characters."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadLine(f"user must be text or a whole number, not {type(value).__name__ if value is not None else 'null'}")
    text = value if isinstance(value, str) else (str(value) if abs(value) < 10**64 else "x" * 65)
    if not _USER_ID.match(text):
        raise BadLine("user must be 1-64 letters, digits or . _ : @ - (no spaces)")
    return text


def _user_arg(value: str) -> str:
    try:
        return user_id(value)
    except BadLine as exc:
        raise SetupError(f"--user: {exc}") from None


def reply_json(question: str, reply: Reply) -> str:
    return json.dumps(
        {
            "question": question,
            "answer": reply.text,
            "matches": [{"id": m.id, "title": m.title, "score": m.score} for m in reply.matches],
            "background": reply.background,
            "answered": reply.answered,
        },
        ensure_ascii=False,
    )


def parse_line(line: str, default_user: str) -> tuple[str, str]:
    """(user, question) from one input line: plain text, or a JSON object {"user": ID, "question": TEXT}."""
    if len(line) > MAX_LINE_CHARS:
        raise BadLine(f"the line is {len(line):,} characters; at most {MAX_LINE_CHARS:,}")
    if not line.startswith("{"):
        return default_user, line
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return default_user, line  # text that happens to start with "{"
    except (ValueError, RecursionError) as exc:  # absurd numbers, nesting deeper than the parser allows
        raise BadLine(f"not a usable JSON object ({type(exc).__name__})") from None
    if not isinstance(obj, dict):
        raise BadLine('a JSON line must be an object like {"user": "42", "question": "..."}')
    question = obj.get("question")
    if not isinstance(question, str):
        raise BadLine('"question" must be text')
    if _SURROGATE.search(question):
        raise BadLine('"question" holds a lone surrogate (like \\ud800), which is not text: fix the line that wrote it')
    return (user_id(obj["user"]) if "user" in obj else default_user), question


def _stdin_lines(stream: BinaryIO) -> Iterable[tuple[int, str]]:
    """(line number, text) per non-blank line; bytes that are not UTF-8 become U+FFFD, never an error."""
    for number, raw in enumerate(stream, 1):
        line = raw.decode("utf-8", errors="replace").strip()
        if line:
            yield number, line


async def _ask(args: argparse.Namespace) -> int:
    settings = _settings(args.db)
    default_user = _user_arg(args.user)
    async with store_for(args.db or settings.database) as storage:
        advisor = Advisor(await _load(settings, storage), storage, context_minutes=settings.context_minutes)
        # Arguments that are not UTF-8 arrive with lone surrogates (surrogateescape): shown as U+FFFD.
        asked = _SURROGATE.sub("\ufffd", " ".join(args.question))
        lines: Iterable[tuple[int, str]] = [(1, asked)] if args.question else _stdin_lines(sys.stdin.buffer)
        for number, line in lines:
            try:
                user, question = (default_user, line) if args.question else parse_line(line, default_user)
            except BadLine as exc:
                print(f"mle-advisor: line {number} refused: {exc}", file=sys.stderr, flush=True)
                if args.json:
                    print(json.dumps({"line": number, "error": str(exc)}), flush=True)
                continue
            reply = await advisor.ask(user, question)
            print(reply_json(question, reply) if args.json else reply.text + "\n", flush=True)
    return 0


async def _chat(args: argparse.Namespace, notice: str | None = None) -> int:
    settings = _settings(args.db)
    interactive = sys.stdin.isatty()
    async with store_for(args.db or settings.database) as storage:
        advisor = Advisor(await _load(settings, storage), storage, context_minutes=settings.context_minutes)
        console = Console(advisor, _user_arg(args.user))
        if notice:
            print(notice)
        if interactive:
            print("MLE Advisor console. Ask anything, or /help for commands; Ctrl-D or /quit to leave.\n")
        while True:
            if interactive:
                print("you> ", end="", flush=True)
            raw = await asyncio.to_thread(sys.stdin.buffer.readline)
            if not raw:  # end of input
                break
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            try:
                text = await console.handle(line)
            except StorageError as exc:
                text = f"Nothing was saved: {exc}"
            print(text + "\n", flush=True)
    return 0


class Console:
    """The slash commands as text, on the same advisor the bot uses."""

    def __init__(self, advisor: Advisor, user: str) -> None:
        self.advisor = advisor
        self.user = user
        self.confirming_forget = False

    async def handle(self, line: str) -> str:
        a, user = self.advisor, self.user
        if self.confirming_forget:
            self.confirming_forget = False
            if line.lower() in ("yes", "y", "/forget-me confirm"):
                return (await a.forget(user)).text
            return "Kept everything: nothing was erased."
        if not line.startswith("/"):
            return (await a.ask(user, line)).text
        command, _, rest = line[1:].partition(" ")
        command, rest = command.lower(), rest.strip()
        if command == "background":
            action, _, value = rest.partition(" ")
            action = action.lower()
            if action in ("", "show"):
                return (await a.show_background(user)).text
            if action == "clear":
                return (await a.clear_background(user)).text
            return (await a.set_background(user, value if action == "set" else rest)).text
        if command == "forget-me":
            self.confirming_forget = True
            return "This erases your background, progress, questions and feedback. Type `yes` to confirm."
        if command == "my-data":
            reply, data = await a.my_data(user)
            return reply.text.replace("The attached file has all of it.", "All of it:") + "\n" + json.dumps(data, indent=1)
        simple = {
            "roadmap": lambda: a.roadmap(user, background=rest or None),
            "next": lambda: a.next_step(user),
            "done": lambda: a.mark_done(user, rest),
            "undo": lambda: a.mark_done(user, rest, done=False),
        }
        if command in simple:
            if command in ("done", "undo") and not rest:
                return f"Which step? For example `/{command} learn-to-code`; `/roadmap` lists them."
            return (await simple[command]()).text
        pure = {
            "step": lambda: a.step_reply(rest) if rest else a.topics(),
            "resources": lambda: a.resources_reply(rest) if rest else a.topics(),
            "topics": a.topics,
            "about": a.about,
            "help": a.help_reply,
        }
        if command in pure:
            return pure[command]().text
        return f"Unknown command /{command}. " + a.help_reply().text


# --- kb: the knowledge, for hosts and scripts ---------------------------------------------------------

async def _kb_load(args: argparse.Namespace) -> tuple[Path, Knowledge, str]:
    """The knowledge `kb check` and `kb stats` describe: DIR alone, or the shipped folder with the edits in
    the database (when there is one: these commands create none)."""
    settings = _settings()
    directory = Path(args.dir) if args.dir else settings.knowledge_dir
    if args.dir or (not settings.database_url and not settings.database_path.is_file()):
        return directory, load_knowledge(directory), ""
    async with store_for(settings.database) as storage:
        kb = await (await _editor(settings, storage)).load()
    edited = sum(1 for o in kb.overrides.values() if o.body is not None)
    return directory, kb, f", {edited} item(s) edited by moderators"


async def _kb_check(args: argparse.Namespace) -> int:
    try:
        directory, kb, edited = await _kb_load(args)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; the knowledge was not loaded.", file=sys.stderr)
        return EXIT_KNOWLEDGE
    counts = ", ".join(f"{n} {k}" for k, n in kb.counts().items())
    print(f"{directory}: OK ({len(kb.files)} files{edited}: {counts})")
    return 0


async def _kb_stats(args: argparse.Namespace) -> int:
    try:
        directory, kb, edited = await _kb_load(args)
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_KNOWLEDGE
    print(f"Knowledge in {directory}: {len(kb.files)} files{edited}, loaded and validated in {kb.load_seconds * 1000:.1f} ms")
    for kind, n in kb.counts().items():
        print(f"  {kind:<18} {n}")
    print(f"  {'vocabulary':<18} {len(kb.normalizer.vocabulary)} words")
    print("Sources covered (steps, entries, resources and backgrounds citing each):")
    for source_id, n in kb.citations().items():
        print(f"  {n:>4}  {kb.sources[source_id].title} [{source_id}]")
    return 0


def _by(args: argparse.Namespace) -> str:
    return (getattr(args, "by", None) or os.environ.get("USER") or "command line")[:80]


async def _with_editor(args: argparse.Namespace, work) -> int:
    settings = _settings(args.db)
    async with store_for(args.db or settings.database) as storage:
        editor = await _editor(settings, storage)
        try:
            return await work(editor, storage)
        except KnowledgeError as exc:
            print(f"mle-advisor: the knowledge has problems:\n{exc}", file=sys.stderr)
            return EXIT_KNOWLEDGE
        except EditError as exc:
            print(f"mle-advisor: {exc}", file=sys.stderr)
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return EXIT_KNOWLEDGE
        except OSError as exc:  # a file the command reads or writes: read-only, full, or a folder in its place
            print(f"mle-advisor: cannot use {exc.filename or 'a file'}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_SETUP


async def _kb_gaps(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        if args.guild:
            places = [args.guild]
        else:  # every server and the command line; never direct messages
            places = [p for p in await storage.places() if p not in (DM, LEGACY)]
        try:  # to leave out what the knowledge answers now; without valid knowledge, every gap is shown
            source = Advisor(await editor.load(), storage)
        except KnowledgeError:
            source = storage
        gaps = []
        for place in places:
            gaps += await source.gaps(place, limit=args.n)
        merged = group_gaps(gaps)[: args.n]  # one line per question, across places and near-identical wordings
        if not merged:
            print("No gaps: every question was answered and none got a 👎 (or each was dismissed).", file=sys.stderr)
        for gap in merged:
            reason = ",".join(r for r, n in (("unanswered", gap.unanswered), ("unhelpful", gap.unhelpful)) if n)
            print(f"{gap.times}\t{reason}\t{gap.question}")
        return 0

    return await _with_editor(args, work)


async def _kb_teach(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        topic = resolve_topic(await editor.load(), args.topic)
        done = await editor.teach(args.question, topic, by_id="cli", by_name=_by(args), place=LOCAL)
        print(f"change #{done.change.id}: {done.summary}")
        return 0

    return await _with_editor(args, work)


def _read_capped(path: Path) -> bytes:
    """A file's bytes, reading no more than one byte past the knowledge file limit (the editor refuses it)."""
    with path.open("rb") as handle:
        return handle.read(yamlfile.LIMITS.file_bytes + 1)


async def _kb_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        content = await asyncio.to_thread(_read_capped, path)
    except OSError as exc:
        print(f"mle-advisor: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_KNOWLEDGE

    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        done = await editor.import_file(content, name=path.name, rel=args.as_path, by_id="cli", by_name=_by(args), place=LOCAL)
        print(f"change #{done.change.id}: {done.summary}")
        return 0

    return await _with_editor(args, work)


async def _kb_export(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        data = await editor.export_zip()
        target = Path(args.out)
        try:
            await asyncio.to_thread(target.write_bytes, data)
        except OSError as exc:
            print(f"mle-advisor: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_SETUP
        print(f"wrote {len(editor.files())} knowledge files to {target}")
        return 0

    return await _with_editor(args, work)


async def _kb_history(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        changes = await storage.changes(args.n)
        for change in changes:
            by = " ".join(change.by_name.split()) or change.by_id
            print(f"{change.id}\t{change.at}\t{by}\t{' '.join(change.summary.split())}")
        if not changes:
            print("No changes yet: the knowledge is as shipped.", file=sys.stderr)  # stdout stays tabular
        return 0

    return await _with_editor(args, work)


async def _kb_undo(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        done = await editor.undo(args.id, by_id="cli", by_name=_by(args), place=LOCAL)
        print(f"change #{done.change.id}: {done.summary}")
        return 0

    return await _with_editor(args, work)


def _count(text: str) -> int:
    """-n: a whole number of lines to show."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_LINES:
        raise argparse.ArgumentTypeError(f"use a number from 1 to {MAX_LINES:,}")
    return value


async def _kb_diff(args: argparse.Namespace) -> int:
    """For each edited entry whose shipped version changed since the edit: what upstream changed (from the
    shipped version the edit was made on, to the shipped version now), to merge by hand with `kb edit`."""
    import difflib

    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        moved = await editor.upstream()
        for override, now in moved:
            print(f"{override.section}/{override.item_id} (edited in change #{override.change_id}; "
                  f"{override.file}): upstream {'changed it' if now is not None else 'removed it'} since")
            print("\n".join(difflib.unified_diff((override.base or "").splitlines(), (now or "").splitlines(),
                                                 f"shipped when edited/{override.item_id}",
                                                 f"shipped now/{override.item_id}", lineterm="")))
        if not moved:
            edited = sum(1 for o in (await storage.kb_state())[1].values())
            print(f"No edited entry changed upstream since it was edited ({edited} edited item(s) in all)." if edited
                  else "Nothing is edited: every entry follows the shipped files.")
        return 0

    return await _with_editor(args, work)


async def _kb_list(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        for topic_id, title, kind, status in await editor.topics():
            print(f"{topic_id}\t{kind}\t{status}\t{title}")
        return 0

    return await _with_editor(args, work)


async def _kb_info(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        topic = resolve_topic(await editor.load(), args.topic)
        info = await editor.info(topic, None, args.days)
        assert info is not None
        print(f"{info['id']}: {info['title']}")
        print(f"  {info['kind']} in {info['file']}, {info['status']}")
        print(f"  answered {info['answered']} question(s) in the last {info['days']} days (every place); "
              f"👍 {info['helpful']}, 👎 {info['unhelpful']}")
        if not info["changes"]:
            print("  no changes: it reads as the shipped files have it")
        for change in info["changes"]:
            by = " ".join(change.by_name.split()) or change.by_id
            print(f"  #{change.id}\t{change.at}\t{by}\t{' '.join(change.summary.split())}")
        return 0

    return await _with_editor(args, work)


EDIT_HEAD = ("# {what}. Save and close to store it; it is checked first, and nothing is stored if it is\n"
             "# not valid (your text is then kept in a file named below). Lines starting with # are ignored.\n")
NEW_ENTRY = """title:
ask:
  - how people ask it
answer: >-
  The answer, in your own words.
sources: [moderators]
"""


def _in_editor(text: str) -> tuple[str, Path]:
    """Open $VISUAL or $EDITOR (else vi) on `text` in a private temporary file; its text after."""
    import shlex
    import subprocess
    import tempfile

    command = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    fd, name = tempfile.mkstemp(prefix="mle-advisor-", suffix=".yaml")
    path = Path(name)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    try:
        result = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise SetupError(f"cannot start the editor {command[0]!r} ({exc.strerror or exc}): set EDITOR") from None
    if result.returncode != 0:
        path.unlink(missing_ok=True)
        raise SetupError(f"the editor exited with status {result.returncode}; nothing was saved")
    return path.read_text(encoding="utf-8", errors="replace"), path


def _without_comments(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))


async def _kb_edit(args: argparse.Namespace) -> int:
    import difflib

    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        topic = resolve_topic(await editor.load(), args.topic)
        found = await editor.entry_yaml(topic)
        assert found is not None
        body, version = found
        head = EDIT_HEAD.format(what=f"Editing {topic}")
        drift = next(((o, now) for o, now in await editor.upstream() if o.item_id == topic), None)
        if drift is not None:
            diff = difflib.unified_diff((drift[0].base or "").splitlines(), (drift[1] or "").splitlines(),
                                        "shipped when edited", "shipped now", lineterm="")
            head += "# Upstream changed this entry since it was edited; merge what you want to keep:\n" + "".join(
                f"#   {line}\n" for line in diff)
        text, path = await asyncio.to_thread(_in_editor, head + body)
        if _without_comments(text).strip() == _without_comments(body).strip():
            path.unlink(missing_ok=True)
            print("No change: nothing was saved.")
            return 0
        try:
            done = await editor.replace_item(topic, _without_comments(text), version=version, by_id="cli",
                                             by_name=_by(args), place=LOCAL)
        except EditError:
            print(f"mle-advisor: your text is kept in {path}", file=sys.stderr)
            raise
        path.unlink(missing_ok=True)
        print(f"change #{done.change.id}: {done.summary}")
        return 0

    return await _with_editor(args, work)


async def _kb_add(args: argparse.Namespace) -> int:
    async def work(editor: KnowledgeEditor, storage: Store) -> int:
        path = None
        if args.file == "-":
            text = sys.stdin.read()
        elif args.file:
            try:
                text = (await asyncio.to_thread(_read_capped, Path(args.file))).decode("utf-8", errors="replace")
            except OSError as exc:
                raise EditError(f"cannot read {args.file}: {exc.strerror or exc}") from None
        else:
            text, path = await asyncio.to_thread(_in_editor, EDIT_HEAD.format(what="A new entry") + NEW_ENTRY)
            if _without_comments(text).strip() == NEW_ENTRY.strip():
                path.unlink(missing_ok=True)
                print("No change: nothing was saved.")
                return 0
        try:
            done = await editor.add_item(_without_comments(text), by_id="cli", by_name=_by(args), place=LOCAL)
        except EditError:
            if path is not None:
                print(f"mle-advisor: your text is kept in {path}", file=sys.stderr)
            raise
        if path is not None:
            path.unlink(missing_ok=True)
        print(f"change #{done.change.id}: {done.summary}")
        return 0

    return await _with_editor(args, work)


# --- doctor: a setup checked before the first start ------------------------------------------------------

def _doctor(args: argparse.Namespace) -> int:
    from bot.doctor import checkup

    problems = 0
    invalid: dict[str, object] = {}
    if ENV_FILE is not None and not ENV_FILE.is_file():
        raise SetupError(f"--env {ENV_FILE}: no such file")
    files = env_files(ENV_FILE)
    try:
        settings = load(ENV_FILE)
    except ValidationError as exc:  # say what is wrong with each setting, then check the rest as if unset
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            message = str((error.get("ctx") or {}).get("error") or error["msg"]).removeprefix("Value error, ")
            print(f"FIX  the setting {name.upper()} is invalid: {message}")
            problems += 1
            invalid[name] = Settings.model_fields[name].default if name in Settings.model_fields else None
        settings = Settings(_env_file=files, **invalid)  # type: ignore[call-arg]
    _apply(settings)
    for ok, line in checkup(settings, env=os.environ, files=files):
        if "discord_token" in invalid and "DISCORD_TOKEN" in line:
            continue  # already said
        print(("ok   " if ok else "FIX  ") + line)
        problems += not ok
    print("All checks passed." if not problems else f"{problems} thing(s) to fix before the bot can run.")
    return 0 if not problems else EXIT_KNOWLEDGE


# --- Discord ----------------------------------------------------------------------------------------------

def _settings_with_token() -> Settings:
    settings = _settings()
    if not settings.token:
        raise SetupError("DISCORD_TOKEN is not set: put the bot's token in .env (see .env.example) or the environment")
    return settings


def _run_bot(args: argparse.Namespace) -> int:
    from bot.discord.app import run_bot  # only here: discord.py is a slow import the CLI doesn't need

    return run_bot(_settings_with_token())


def _start(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.token:
        return _run_bot(args)
    notice = "No DISCORD_TOKEN set (see .env.example): starting the local console chat on the same engine instead."
    return asyncio.run(_chat(argparse.Namespace(db=None, user=LOCAL_USER), notice=notice))


def _sync(args: argparse.Namespace) -> int:
    from bot.discord.app import sync_commands

    return sync_commands(_settings_with_token(), args.guild)


def _days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError("a whole number of days from 1 to 3650")
    return int(value)


async def _db_copy(args: argparse.Namespace) -> int:
    from bot.core.storage.copy import copy_into
    from bot.core.storage.postgres import PostgresStorage

    settings = _settings()
    url = args.to or (settings.database_url.get_secret_value() if settings.database_url else "")
    if not is_postgres_url(url):
        raise SetupError("give the PostgreSQL database to copy into: --to postgresql://user:password@host/db "
                         "(or set DATABASE_URL)")
    source_file = args.db or settings.database_path
    if not await asyncio.to_thread(Path(source_file).is_file):
        raise SetupError(f"there is no SQLite database at {source_file} to copy (set DATABASE_PATH or --db)")
    async with SQLiteStorage(source_file) as source, PostgresStorage(url) as target:
        counts = await copy_into(source, target)
        where = target.where
    short = False
    for table, (had, has) in counts.items():
        short |= has < had
        print(f"{table:<11} {had:>8} in {source_file}   {has:>8} in PostgreSQL{'   MISSING ROWS' if has < had else ''}")
    if short:
        print(f"mle-advisor: some rows did not reach {where}; nothing was deleted from {source_file}. Run the copy "
              "again; if it persists, check the PostgreSQL log", file=sys.stderr)
        return EXIT_SETUP
    print(f"copied into {where}; safe to run again. Next: set DATABASE_URL to it and restart the bot.")
    return 0


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given the arguments, `kb`'s thirteen commands are described only when `kb` is
    among them (describing them is 1% of a one-shot `ask`, issue 17)."""
    parser = argparse.ArgumentParser(prog="mle-advisor", description="MLE Advisor: from anywhere to ML engineer.")
    parser.add_argument("--env", type=Path, metavar="PATH", help="read the settings from this .env file (default: the "
                        "project's .env, the one beside the database, then the current folder's)")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer QUESTION, or each line of standard input")
    ask.add_argument("--db", type=Path, help="database file (default: DATABASE_PATH)")
    ask.add_argument("--user", default=LOCAL_USER, help="whose question it is (default: %(default)s)")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer")
    ask.add_argument("question", nargs="*", help="the question; without it, read one per line from stdin")

    chat = sub.add_parser("chat", help="a console conversation with the advisor")
    chat.add_argument("--db", type=Path, help="database file (default: DATABASE_PATH)")
    chat.add_argument("--user", default=LOCAL_USER)

    kb = sub.add_parser("kb", help="check, describe and change the knowledge")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    if argv is None or "kb" in argv:
        _kb_commands(kb_sub)

    db = sub.add_parser("db", help="the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    copy = db_sub.add_parser("copy", help="copy the SQLite database into PostgreSQL (safe to run again)")
    copy.add_argument("--to", help="postgresql://user:password@host/db (default: DATABASE_URL)")
    copy.add_argument("--db", type=Path, help="the SQLite file to copy (default: DATABASE_PATH)")

    sub.add_parser("doctor", help="check the setup (token, database, knowledge, settings) and say what to fix")
    sub.add_parser("run", help="start the Discord bot")
    sub.add_parser("start", help="start the bot, or the console chat when no token is set")
    sync = sub.add_parser("sync", help="register the slash commands with Discord, then exit")
    sync.add_argument("--guild", type=int, help="only this server (instant); default: globally")
    return parser


def _kb_commands(kb_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text in (("check", "validate; exit 1 with every problem"), ("stats", "counts, load time, sources")):
        p = kb_sub.add_parser(name, help=text)
        p.add_argument("dir", nargs="?", help="a knowledge folder to check on its own (default: KNOWLEDGE_DIR with the edits)")

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", type=Path, help="database file (default: DATABASE_PATH); edits live beside it")
        return p

    gaps = with_db(kb_sub.add_parser("gaps", help="questions that went unanswered or got 👎, most frequent first"))
    gaps.add_argument("--guild", help="only this server's (default: every server and the command line, never DMs)")
    gaps.add_argument("-n", type=_count, default=20, help="at most this many lines (default: %(default)s)")
    teach = with_db(kb_sub.add_parser("teach", help="make QUESTION a phrasing of TOPIC_ID"))
    teach.add_argument("question")
    teach.add_argument("topic", help="an id, a title, or an unambiguous beginning of either")
    teach.add_argument("--by", help="who made the change (for the history)")
    imp = with_db(kb_sub.add_parser("import", help="FILE replaces the knowledge file at PATH (or adds it)"))
    imp.add_argument("file")
    imp.add_argument("--as", dest="as_path", help="its path inside the knowledge folder (default: the file of the same "
                                                    "name, else entries/NAME)")
    imp.add_argument("--by", help="who made the change (for the history)")
    export = with_db(kb_sub.add_parser("export", help="write every knowledge file into one zip"))
    export.add_argument("out")
    history = with_db(kb_sub.add_parser("history", help="the changes, newest first"))
    history.add_argument("-n", type=_count, default=20, help="at most this many changes (default: %(default)s)")
    undo = with_db(kb_sub.add_parser("undo", help="restore the files as before change ID (default: the latest)"))
    undo.add_argument("id", nargs="?", type=int)
    undo.add_argument("--by", help="who made the change (for the history)")
    with_db(kb_sub.add_parser("diff", help="what upstream changed under each edited entry since it was edited"))
    with_db(kb_sub.add_parser("list", help="every step and entry: id, kind, edited or shipped, title"))
    info = with_db(kb_sub.add_parser("info", help="who changed TOPIC and when, its answers and 👍/👎"))
    info.add_argument("topic", help="an id, a title, or an unambiguous beginning of either")
    info.add_argument("--days", type=_days, default=30, help="answers counted over this many days (default: %(default)s)")
    edit = with_db(kb_sub.add_parser("edit", help="edit a step or entry's YAML in $EDITOR; checked before it is stored"))
    edit.add_argument("topic", help="an id, a title, or an unambiguous beginning of either")
    edit.add_argument("--by", help="who made the change (for the history)")
    add = with_db(kb_sub.add_parser("add", help="add an entry: its YAML from FILE ('-': standard input), else $EDITOR"))
    add.add_argument("file", nargs="?")
    add.add_argument("--by", help="who made the change (for the history)")


KB_ASYNC = {"check": _kb_check, "stats": _kb_stats, "diff": _kb_diff, "gaps": _kb_gaps, "teach": _kb_teach,
            "import": _kb_import, "export": _kb_export, "history": _kb_history, "undo": _kb_undo, "list": _kb_list,
            "info": _kb_info, "edit": _kb_edit, "add": _kb_add}


def main(argv: list[str] | None = None) -> int:
    global ENV_FILE
    # What exists now (modules, classes, the settings' and the schema's validators) lives as long as the
    # process: collections need not look at it again, which is ~6% of a one-shot `ask` (issue 17).
    gc.freeze()
    args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    ENV_FILE = args.env
    os.umask(os.umask(0o077) | 0o077)  # what the bot writes (database, WAL, edits, logs) is this user's alone
    try:
        if args.command == "ask":
            return asyncio.run(_ask(args))
        if args.command == "chat":
            return asyncio.run(_chat(args))
        if args.command == "kb":
            return asyncio.run(KB_ASYNC[args.kb_command](args))
        if args.command == "db":
            return asyncio.run(_db_copy(args))
        if args.command == "doctor":
            return _doctor(args)
        if args.command == "run":
            return _run_bot(args)
        if args.command == "start":
            return _start(args)
        if args.command == "sync":
            return _sync(args)
    except (SetupError, StorageError) as exc:
        print(f"mle-advisor: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `mle-advisor kb stats | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except OSError as exc:  # a file or folder the command needs: one line, never a traceback
        print(f"mle-advisor: {exc.filename or 'a file'}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_SETUP
    return 0


if __name__ == "__main__":
    sys.exit(main())
