"""Starting fast (issue 17): a one-shot `mle-advisor ask` reads the compiled knowledge instead of the YAML
while nothing changed, imports only what answering needs, and still honours every setting and every edit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import KNOWLEDGE, ROOT

NOT_FOR_ASK = ("yaml", "discord", "asyncpg", "difflib", "bot.doctor", "bot.discord", "bot.core.storage.postgres")


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "DISCORD_TOKEN": "", **(env or {})})


def ask(tmp_path: Path, question: str, *extra: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """`mle-advisor ask --json`, with the database (and so the compiled knowledge) in tmp_path; None in
    `env` leaves that variable out."""
    full = {**os.environ, "DISCORD_TOKEN": "", "DATABASE_PATH": str(tmp_path / "data" / "advisor.db"), **(env or {})}
    full = {k: v for k, v in full.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "bot", *extra, "ask", "--json", question], capture_output=True,
                          text=True, cwd=ROOT, env=full, timeout=120)


def retitle(folder: Path, topic: str, prefix: str) -> None:
    """Put `prefix` before the title of the step or entry `topic` in a copy of the knowledge."""
    (path,) = [p for p in folder.rglob("*.yaml") if f"id: {topic}\n" in p.read_text(encoding="utf-8")]
    text = path.read_text(encoding="utf-8")
    at = text.index("    title: ", text.index(f"id: {topic}\n")) + len("    title: ")
    path.write_text(text[:at] + prefix + text[at:], encoding="utf-8")


def test_ask_imports_only_what_answering_needs(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": str(tmp_path / "advisor.db")}
    code = ("import sys; from bot import cli; code = cli.main(['ask', 'which book for deep learning?']); "
            f"print(sorted(m for m in {NOT_FOR_ASK!r} if m in sys.modules)); sys.exit(code)")
    first = python(code, env)  # reads the YAML and keeps the knowledge compiled beside the database
    assert first.returncode == 0, first.stderr
    assert "'yaml'" in first.stdout.splitlines()[-1]
    again = python(code, env)
    assert again.returncode == 0, again.stderr
    assert "Deep Learning" in again.stdout
    assert again.stdout.splitlines()[-1] == "[]", "imported on the ask path: " + again.stdout.splitlines()[-1]


def test_ask_with_a_stale_compiled_knowledge_reads_and_checks_the_files_again(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    env = {"KNOWLEDGE_DIR": str(folder)}
    before = ask(tmp_path, "what is mlops?", env=env)
    assert before.returncode == 0, before.stderr
    assert list((tmp_path / "data" / ".knowledge-cache").glob("*.pickle")), "the knowledge was kept compiled"

    entries = sorted((folder / "entries").glob("*.yaml"))[0]
    entries.write_text(entries.read_text(encoding="utf-8") + "\n  - id: broken-entry\n    title: Broken\n",
                       encoding="utf-8")
    broken = ask(tmp_path, "what is mlops?", env=env)
    assert broken.returncode == 2 and broken.stdout == ""
    assert "broken-entry" in broken.stderr and "missing required key 'answer'" in broken.stderr

    shutil.rmtree(folder)
    shutil.copytree(KNOWLEDGE, folder)
    retitle(folder, json.loads(before.stdout)["matches"][0]["id"], "Freshly edited ")
    edited = ask(tmp_path, "what is mlops?", env=env)
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["answer"].startswith("**Freshly edited ")


def test_ask_honours_the_settings_from_an_env_file(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    shutil.copytree(KNOWLEDGE, folder)
    retitle(folder, "mlops-production", "Elsewhere ")
    env_file = tmp_path / "my.env"
    env_file.write_text(f"KNOWLEDGE_DIR={folder}\nDATABASE_PATH={tmp_path / 'db' / 'advisor.db'}\n", encoding="utf-8")
    result = ask(tmp_path, "what is mlops?", "--env", str(env_file), env={"DATABASE_PATH": None})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"].startswith("**Elsewhere ")
    assert (tmp_path / "db" / "advisor.db").is_file()

    wrong = ask(tmp_path, "what is mlops?", env={"CONTEXT_MINUTES": "-5"})
    assert wrong.returncode == 2 and "CONTEXT_MINUTES" in wrong.stderr and "Traceback" not in wrong.stderr


def test_importing_the_cli_leaves_garbage_collection_as_it_was() -> None:
    for before in ("gc.enable()", "gc.disable()"):
        result = python(f"import gc; {before}; was = gc.isenabled(); import bot.cli; assert gc.isenabled() == was, was")
        assert result.returncode == 0, result.stderr


def test_a_word_found_by_binary_search_has_the_value_the_whole_table_gives(monkeypatch) -> None:
    from bot.core import english

    monkeypatch.setattr(english, "_table", None)
    monkeypatch.setattr(english, "_found", {})
    monkeypatch.setattr(english, "TABLE_AFTER", 10**9)  # every lookup a binary search, none from the table
    words = list(english._sorted()[0].decode().split("\n")[2:-1])
    words = [line.rsplit(" ", 1)[0] for line in words]
    assert len(words) > 25_000
    near = [w + "s" for w in words[::37]] + [w[:-1] for w in words[::37]] + ["\x00", "\U0010ffff", "zzzzzzzz"]
    odd = ["", "machine learning", "the\n", " the", "the ", "\ud800", "127", "#", "each"]
    searched = {w: english._lookup(w) for w in [*words, *near, *odd]}
    assert english._table is None
    table = english._zipf_table()
    assert len(table) == len(words)
    assert searched == {w: table.get(w) for w in searched}
    assert english.zipf("the") > 7 > english.zipf("learning") > english.zipf("toddler") > english.RARE
    assert english.zipf("xyzzyq") == english.RARE and not english.known("xyzzyq") and english.known("guitar")


def test_the_whole_table_is_built_once_many_words_were_looked_up(monkeypatch) -> None:
    from bot.core import english

    monkeypatch.setattr(english, "_table", None)
    monkeypatch.setattr(english, "_found", {})
    for n in range(english.TABLE_AFTER):
        english.zipf(f"nonword{n}")
    assert english._table is None
    assert english.zipf("friend") > 4 and english._table is not None and english._found == {}


def test_the_code_digest_changes_with_any_change_to_the_code_without_reading_it(tmp_path: Path) -> None:
    from bot.core import compiled

    package = tmp_path / "core"
    (package / "data").mkdir(parents=True)
    module, table = package / "m.py", package / "data" / "t.gz"
    module.write_text("A = 1\n")
    table.write_bytes(b"x")
    (package / "notes.md").write_text("not code")
    seen = {compiled.code_digest(package)}
    compiled.code_digest.cache_clear()
    assert compiled.code_digest(package) in seen  # nothing changed

    def replaced() -> None:  # another file of the same size and time (as an install or a checkout writes it)
        before = module.stat()
        (package / "m.tmp").write_text("A = 2\n")
        os.utime(package / "m.tmp", ns=(before.st_atime_ns, before.st_mtime_ns))
        os.replace(package / "m.tmp", module)

    for change in (replaced,
                   lambda: os.utime(module, ns=(1, 1)),
                   lambda: table.write_bytes(b"yy"),
                   lambda: (package / "new.py").write_text("")):
        change()
        compiled.code_digest.cache_clear()
        assert compiled.code_digest(package) not in seen
        seen.add(compiled.code_digest(package))
    (package / "notes.md").write_text("still not code, now longer")
    compiled.code_digest.cache_clear()
    assert compiled.code_digest(package) in seen
    compiled.code_digest.cache_clear()
