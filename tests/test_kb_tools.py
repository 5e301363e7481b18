"""Moderators' tools on the command line (issues 15 and 16): finding things (kb list, kb info, titles and
prefixes), editing one entry in $EDITOR, adding one, seeing what upstream changed under an edit, and
changes that land whole with their history whatever happens to the process or the disk."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_cli import kb_env, run


def db_path(env: dict[str, str]) -> Path:
    return Path(env["DATABASE_PATH"])


def consistent(path: Path) -> tuple[int, int]:
    """Replaying every recorded change's items, in order, gives exactly the overrides in force: nothing
    is in force without its history, and no history entry lacks what it did. (changes, overrides)"""
    with contextlib.closing(sqlite3.connect(path)) as db:
        replayed: dict[tuple[str, str], str] = {}
        changes = db.execute("SELECT id FROM kb_changes ORDER BY id").fetchall()
        for (change_id,) in changes:
            items = db.execute("SELECT section, item_id, after FROM kb_change_items WHERE change_id = ?", (change_id,)).fetchall()
            assert items, f"change #{change_id} has no items"
            for section, item_id, after in items:
                if after is None:
                    replayed.pop((section, item_id), None)
                else:
                    replayed[(section, item_id)] = json.loads(after)["body"]
        in_force = {(s, i): json.loads(state)["body"] for s, i, state in
                    db.execute("SELECT section, item_id, state FROM kb_overrides").fetchall()}
        assert in_force == replayed
        return len(changes), len(in_force)


def ask_id(question: str, env: dict[str, str]) -> str | None:
    matches = json.loads(run("ask", "--json", question, env=env).stdout)["matches"]
    return matches[0]["id"] if matches else None


def test_kb_list_shows_ids_titles_kinds_and_what_is_edited(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    assert run("kb", "teach", "where do my old notebooks go", "git-basics", env=env).returncode == 0
    rows = [line.split("\t") for line in run("kb", "list", env=env).stdout.splitlines()]
    by_id = {r[0]: r for r in rows}
    assert by_id["git-basics"][1:] == ["entry", "edited", "Git and version control"]
    assert {r[1] for r in rows} == {"step", "entry"} and len(rows) > 30
    assert sum(r[2] == "edited" for r in rows) == 1 and all(r[2] in ("shipped", "edited") for r in rows)


def test_topics_are_named_by_title_or_an_unambiguous_beginning(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    by_title = run("kb", "teach", "where do my old notebooks go", "Git and version control", env=env)
    assert by_title.returncode == 0 and "to git-basics" in by_title.stdout
    by_prefix = run("kb", "teach", "and my older scripts too", "git-ba", env=env)
    assert by_prefix.returncode == 0 and "to git-basics" in by_prefix.stdout
    vague = run("kb", "teach", "a question", "d", env=env)
    assert vague.returncode == 1 and "could be any of" in vague.stderr
    unknown = run("kb", "teach", "a question", "jobs", env=env)  # issue 16: said "see /topics or kb stats"
    assert unknown.returncode == 1 and "kb list" in unknown.stderr


def test_kb_info_says_who_changed_it_when_and_how_it_does(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    untouched = run("kb", "info", "git-basics", env=env)
    assert untouched.returncode == 0 and "no changes" in untouched.stdout and "answered 0 question(s)" in untouched.stdout
    assert run("kb", "teach", "where do my old notebooks go", "git-basics", "--by", "alice", env=env).returncode == 0
    assert ask_id("where do my old notebooks go", env) == "git-basics"
    info = run("kb", "info", "Git and version", env=env).stdout
    assert "git-basics: Git and version control" in info and "edited" in info
    assert "answered 1 question(s) in the last 30 days" in info and "👍 0, 👎 0" in info
    assert "#1\t" in info and "alice" in info and "taught" in info


def test_kb_edit_opens_the_editor_on_one_entry_and_saves_only_what_validates(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    script = tmp_path / "editor.py"
    script.write_text("import re, sys, pathlib\np = pathlib.Path(sys.argv[1])\n"  # a title line replaced, as a person would
                      "new = pathlib.Path(sys.argv[0] + '.replacement').read_text()\n"
                      "p.write_text(re.sub(r'(?m)^(\\s*)title: .*$', lambda m: m.group(1) + new, p.read_text(), count=1))\n")
    (tmp_path / "editor.py.replacement").write_text("title: Git, the basics")
    editor = f"{sys.executable} {script}"
    edited = run("kb", "edit", "git-basics", "--by", "alice", env=env | {"EDITOR": editor, "VISUAL": ""})
    assert edited.returncode == 0 and "change #1: edited git-basics" in edited.stdout
    assert "title: Git, the basics" not in (tmp_path / "knowledge" / "entries" / "learning.yaml").read_text()
    assert any(line.endswith("Git, the basics") for line in run("kb", "list", env=env).stdout.splitlines())
    (tmp_path / "editor.py.replacement").write_text("titel: Git, the basics")  # a mistake
    broken = run("kb", "edit", "git-basics", env=env | {"EDITOR": editor, "VISUAL": ""})
    assert broken.returncode == 1 and "titel" in broken.stderr and "your text is kept in" in broken.stderr
    kept = Path(broken.stderr.split("your text is kept in ")[1].split()[0])
    assert "titel: Git, the basics" in kept.read_text()
    kept.unlink()
    assert [line.split("\t")[0] for line in run("kb", "history", env=env).stdout.splitlines()] == ["1"]  # nothing saved
    unchanged = run("kb", "edit", "git-basics", env=env | {"EDITOR": "true", "VISUAL": ""})
    assert unchanged.returncode == 0 and "nothing was saved" in unchanged.stdout


def test_kb_add_from_a_file_or_standard_input(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    entry = tmp_path / "pay.yaml"
    entry.write_text("id: pay\ntitle: Pay\nask: [how much do ml engineers earn]\nanswer: The guides give no figures.\n"
                     "sources: [moderators]\n")
    added = run("kb", "add", str(entry), env=env)
    assert added.returncode == 0 and "added pay" in added.stdout
    assert ask_id("how much do ML engineers earn?", env) == "pay"
    again = run("kb", "add", str(entry), env=env)
    assert again.returncode == 1 and "already used" in again.stderr
    russian = run("kb", "add", "-", stdin="title: Как стать инженером\nask: [как стать инженером]\nanswer: Ответ.\n", env=env)
    assert russian.returncode == 0 and "added entry-1" in russian.stdout


def test_an_upgrade_reaches_the_rest_of_a_taught_file_and_kb_diff_shows_it_the_right_way_round(tmp_path: Path) -> None:
    """Issue 16's acceptance: after kb teach on one entry, an upgrade that changes another entry of the
    same shipped file is answered at once; kb diff shows the upstream change to the taught entry."""
    env = kb_env(tmp_path)
    assert run("kb", "diff", env=env).stdout.startswith("Nothing is edited")
    assert run("kb", "teach", "where do my old notebooks go", "git-basics", env=env).returncode == 0
    shipped = tmp_path / "knowledge" / "entries" / "learning.yaml"
    text = shipped.read_text()
    rows = [line.split("\t") for line in run("kb", "list", env=env).stdout.splitlines()]
    neighbour = next(r for r in rows if r[2] == "shipped" and f"id: {r[0]}\n" in text and r[1] == "entry")
    upgraded = text.replace(f"title: {neighbour[3]}\n", "title: Zebra-striped upgrade title\n", 1)
    upgraded = upgraded.replace("title: Git and version control", "title: Version control with git", 1)
    shipped.write_text(upgraded)  # `git pull` brings a new version of the file
    after = {r[0]: r[3] for r in (line.split("\t") for line in run("kb", "list", env=env).stdout.splitlines())}
    assert after[neighbour[0]] == "Zebra-striped upgrade title"  # the untouched entry follows upstream at once
    assert after["git-basics"] == "Git and version control"  # the edited one keeps the moderators' version
    assert ask_id("where do my old notebooks go", env) == "git-basics"
    diff = run("kb", "diff", env=env).stdout
    assert "entries/git-basics" in diff and "upstream changed it" in diff
    assert "-  title: Git and version control" in diff and "+  title: Version control with git" in diff
    assert "Zebra" not in diff  # only the edited entry's upstream change, not the whole file
    doctor = run("doctor", env=env | {"DISCORD_TOKEN": "MTEwMDAwMDAwMDAwMDAwMDAwMA.GAbcde.abcdefghijklmnopqrstuvwxyz0123456789AB"})
    assert "1 edited item(s) changed upstream since they were edited (git-basics)" in doctor.stdout


def test_undo_that_would_discard_a_later_change_is_refused_naming_it(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    assert run("kb", "teach", "alice's notebook question", "git-basics", "--by", "alice", env=env).returncode == 0
    assert run("kb", "teach", "bob's repository question", "git-basics", "--by", "bob", env=env).returncode == 0
    refused = run("kb", "undo", "1", env=env)
    assert refused.returncode == 1 and "#2 (bob" in refused.stderr and "git-basics" in refused.stderr
    assert ask_id("bob's repository question", env) == "git-basics"
    assert run("kb", "undo", "2", env=env).returncode == 0 and run("kb", "undo", "1", env=env).returncode == 0


def test_hidden_import_paths_are_refused_up_front(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    good = tmp_path / "pay.yaml"
    good.write_text("entries:\n  - id: pay\n    title: Pay\n    answer: None given.\n    sources: [moderators]\n")
    for path in (".lock.yaml", "entries/.secret.yaml"):
        refused = run("kb", "import", str(good), "--as", path, env=env)
        assert refused.returncode == 1 and "hidden" in refused.stderr
    assert run("kb", "history", env=env).stdout == ""


def test_an_old_edits_folder_moves_into_the_database_and_nothing_is_lost(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    folder = tmp_path / "data" / "knowledge-edits" / "entries"
    folder.mkdir(parents=True)
    learning = (tmp_path / "knowledge" / "entries" / "learning.yaml").read_text()
    (folder / "learning.yaml").write_text(learning.replace("    ask:\n", "    ask:\n      - an old taught phrasing\n", 1))
    assert ask_id("an old taught phrasing", env) is not None  # the first command moves it in
    assert not folder.parent.exists() and (tmp_path / "data" / "knowledge-edits.moved-to-database").is_dir()
    history = run("kb", "history", env=env).stdout
    assert "moved the edits in knowledge-edits/" in history
    assert run("kb", "undo", env=env).returncode == 0  # and it can be undone like any change
    assert consistent(db_path(env)) == (2, 0)


# --- a change lands whole with its history, or not at all (issue 15.5) ------------------------------------

def _big_import(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"many-{n}.yaml"
    path.write_text("entries:\n" + "".join(
        f"  - id: topic-{n}-{k}\n    title: Topic {n} {k}\n    ask: [question {n} {k} about things]\n"
        f"    answer: {'Words of the answer. ' * 30}\n    sources: [moderators]\n" for k in range(40)))
    return path


def test_kill_9_at_any_moment_never_leaves_a_change_without_its_history(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    assert run("kb", "history", env=env).returncode == 0  # the database exists
    rng = random.Random(7)
    killed = 0
    whole = 2.0  # how long one import takes here, measured by the first (left to finish): kills land inside it
    for n in range(8):
        command = [sys.executable, "-m", "bot", "kb", "import", str(_big_import(tmp_path, n)), "--as", f"entries/m{n}.yaml"]
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "DISCORD_TOKEN": "", **env},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if n == 0:
            process.wait()
            whole = time.monotonic() - started
        else:
            time.sleep(rng.uniform(0.05, 0.9) * whole)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        consistent(db_path(env))
    changes, _ = consistent(db_path(env))
    assert killed and changes <= 8
    listed = run("kb", "list", env=env).stdout
    for n in range(8):  # what is in force is exactly what the history says
        assert (f"topic-{n}-0\t" in listed) == (f"from many-{n}.yaml" in run("kb", "history", "-n", "50", env=env).stdout)


@contextlib.contextmanager
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {result.stderr.strip()[:100]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_or_a_locked_database_changes_nothing_and_says_so(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    with small_disk(tmp_path) as disk:
        env["DATABASE_PATH"] = str(disk / "advisor.db")
        assert run("kb", "history", env=env).returncode == 0
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
        os.close(fd)
        full = run("kb", "import", str(_big_import(tmp_path, 1)), "--as", "entries/m1.yaml", env=env)
        assert full.returncode == 2 and "full" in full.stderr and "Traceback" not in full.stderr
        filler.unlink()
        assert consistent(db_path(env)) == (0, 0) and "topic-1-0" not in run("kb", "list", env=env).stdout
        locker = sqlite3.connect(db_path(env), timeout=1, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            locked = run("kb", "import", str(_big_import(tmp_path, 2)), "--as", "entries/m2.yaml", env=env)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert locked.returncode == 2 and "locked" in locked.stderr
        assert consistent(db_path(env)) == (0, 0)
        done = run("kb", "import", str(_big_import(tmp_path, 3)), "--as", "entries/m3.yaml", env=env)
        assert done.returncode == 0 and consistent(db_path(env)) == (1, 40)
