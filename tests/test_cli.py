"""The command line exactly as other tools (and people) drive it."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DISCORD_TOKEN": "", **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=60)


def test_ask_json_contract(tmp_path: Path) -> None:
    result = run("ask", "--json", "--db", str(tmp_path / "a.db"), "--user", "42", "Which book for deep learning?")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.strip().splitlines()
    reply = json.loads(line)
    assert set(reply) == {"question", "answer", "matches", "background", "answered"}
    assert reply["answered"] is True
    assert reply["question"] == "Which book for deep learning?"
    assert reply["matches"][0]["id"] == "deep-learning"
    assert all(set(m) == {"id", "title", "score"} and isinstance(m["score"], float) for m in reply["matches"])
    assert [m["score"] for m in reply["matches"]] == sorted((m["score"] for m in reply["matches"]), reverse=True)
    assert reply["background"] is None and len(reply["answer"]) <= 2000


def test_ask_json_says_whether_it_answered(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    thanks = json.loads(run("ask", "--json", "--db", db, "thanks!").stdout)
    assert thanks["answered"] is True and thanks["matches"] == []
    tap = json.loads(run("ask", "--json", "--db", db, "how do I fix a leaking tap?").stdout)
    assert tap["answered"] is False and tap["matches"] == []
    book = json.loads(run("ask", "--json", "--db", db, "which book for deep learning?").stdout)
    assert book["answered"] is True and book["matches"]


def test_ask_reads_stdin_lines_in_order_with_json_users(tmp_path: Path) -> None:
    lines = [json.dumps({"user": "a", "question": "I'm a data scientist"}), "what is mlops?",
             json.dumps({"user": "b", "question": "how long will it take me?"}),
             json.dumps({"user": "a", "question": "how long will it take me?"}), "", "how to cook pasta"]
    result = run("ask", "--json", "--db", str(tmp_path / "a.db"), stdin="\n".join(lines) + "\n")
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in replies] == ["I'm a data scientist", "what is mlops?", "how long will it take me?",
                                                 "how long will it take me?", "how to cook pasta"]
    assert replies[0]["background"] == "data-science"
    assert replies[2]["background"] is None  # user b said nothing
    assert replies[3]["background"] == "data-science" and "couple of months" in replies[3]["answer"]
    assert replies[4]["matches"] == []


def test_memory_survives_between_processes(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    run("ask", "--db", db, "--user", "1", "I'm a backend engineer")
    reply = json.loads(run("ask", "--json", "--db", db, "--user", "1", "how long will it take me?").stdout)
    assert reply["background"] == "software" and "6 months" in reply["answer"]


def test_chat_works_piped_and_ends_cleanly(tmp_path: Path) -> None:
    result = run("chat", "--db", str(tmp_path / "c.db"), stdin="I'm a software developer\nhow long will it take me?\n")
    assert result.returncode == 0, result.stderr
    assert "6 months" in result.stdout.split("How long it will take you")[1]


def test_chat_slash_commands(tmp_path: Path) -> None:
    script = "/background set physicist\n/done learn to code\n/next\n/roadmap\n/step deep learning\n/topics\n/resources nlp\n/about\n/help\n/forget-me\nyes\n/background show\n/nonsense\n"
    result = run("chat", "--db", str(tmp_path / "c.db"), stdin=script)
    out = result.stdout
    assert result.returncode == 0
    assert "Saved: you're coming from physics" in out
    assert "Marked done: **Learning to code" in out
    assert "Your next step: Maths foundations" in out
    assert "✅ **Learning to code" in out
    assert "Goodfellow" in out and "Attention Is All You Need" in out
    assert "Forgotten" in out and "I don't know where you start from yet" in out
    assert "Unknown command /nonsense" in out


def test_ask_refuses_a_corrupt_database_plainly(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(b"garbage" * 1000)
    result = run("ask", "--db", str(db), "hello")
    assert result.returncode == 2
    assert str(db) in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == b"garbage" * 1000


def test_broken_knowledge_stops_ask_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.yaml").write_text("entries:\n  - id: x\n    title: X\n")
    result = run("ask", "--db", str(tmp_path / "a.db"), "hello", env={"KNOWLEDGE_DIR": str(folder)})
    assert result.returncode == 2 and "a.yaml:2: x: missing required key 'answer'" in result.stderr


def test_run_without_token_names_the_setting_and_exits_2() -> None:
    result = run("run")
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and ".env.example" in result.stderr and "Traceback" not in result.stderr


def test_start_without_token_falls_back_to_the_console_and_says_so(tmp_path: Path) -> None:
    result = run("start", stdin="what is mlops?\n", env={"DATABASE_PATH": str(tmp_path / "s.db")})
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("No DISCORD_TOKEN set")
    assert "Full Stack Deep Learning" in result.stdout


def test_ask_and_chat_never_import_discord() -> None:
    code = ("import sys; from bot import cli; cli.main(['kb', 'check']); "
            "assert 'discord' not in sys.modules, 'discord imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for module in ("bot.core.advisor", "bot.core.knowledge", "bot.cli"):
        check = subprocess.run([sys.executable, "-c", f"import sys, {module}; assert 'discord' not in sys.modules"],
                               capture_output=True, cwd=ROOT)
        assert check.returncode == 0, module


def test_every_discord_module_imports_first_on_its_own() -> None:
    """No import cycle in the adapters: whichever module a reader or a test opens first, it loads."""
    modules = sorted(f"bot.discord.{p.stem}" for p in (ROOT / "bot" / "discord").glob("*.py") if p.stem != "__init__")
    modules += sorted(f"bot.discord.extensions.{p.stem}" for p in (ROOT / "bot" / "discord" / "extensions").glob("*.py")
                      if p.stem != "__init__")
    failed = [m for m in modules
              if subprocess.run([sys.executable, "-c", f"import {m}"], capture_output=True, cwd=ROOT).returncode != 0]
    assert len(modules) > 5 and failed == []


def test_output_cut_short_by_a_pipe_is_not_an_error() -> None:
    result = subprocess.run(f"{sys.executable} -m bot kb stats | head -1", shell=True, capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.startswith("Knowledge in") and "Traceback" not in result.stderr


# --- bad input is answered or refused, line by line (issue 8) -----------------------------------------

def test_undecodable_bytes_are_answered_and_the_batch_goes_on(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", "--db", str(tmp_path / "x.db")],
                            input=b"what is mlops\nwhat is \xff mlops\nhow long will it take\n", capture_output=True,
                            cwd=ROOT, env={**os.environ, "DISCORD_TOKEN": ""}, timeout=60)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(replies) == 3 and all(r["answered"] for r in replies)
    assert "\ufffd" in replies[1]["question"]


def test_bad_json_lines_are_refused_one_by_one(tmp_path: Path) -> None:
    lines = [
        json.dumps({"user": "a", "question": "what is mlops?"}),
        "{" * 100_000,  # nesting deeper than the JSON reader goes
        '{"user": ' + "9" * 5000 + ', "question": "hi"}',  # a 5,000-digit user id
        json.dumps({"user": None, "question": "who am I?"}),
        json.dumps({"user": "b", "question": 42}),
        '{"question": ["not", "text"]}',
        json.dumps({"user": "has spaces in it", "question": "hi"}),
        json.dumps({"user": 12345, "question": "which book for deep learning?"}),
    ]
    result = run("ask", "--json", "--db", str(tmp_path / "x.db"), stdin="\n".join(lines) + "\n")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("error" in o) for o in out] == [False, True, True, True, True, True, True, False]
    assert [o["line"] for o in out if "error" in o] == [2, 3, 4, 5, 6, 7]
    assert len(result.stderr.strip().splitlines()) == 6  # one line each
    db = sqlite3.connect(tmp_path / "x.db")
    assert {r[0] for r in db.execute("SELECT user_id FROM questions")} == {"a", "12345"}  # never a user "None"


def test_a_token_with_a_line_break_is_one_plain_line(tmp_path: Path) -> None:
    result = run("run", env={"DISCORD_TOKEN": "abc.def\nghi"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "DISCORD_TOKEN" in line and "line breaks" in line and "ghi" not in line


def test_a_database_that_is_not_ours_is_named_and_left_alone(tmp_path: Path) -> None:
    db_path = tmp_path / "theirs.db"
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    before = db_path.read_bytes()
    result = run("ask", "--db", str(db_path), "what is mlops?")
    assert result.returncode == 2 and "another program" in result.stderr and "Traceback" not in result.stderr
    assert db_path.read_bytes() == before


# --- the knowledge, changed from the command line (issue 9) ------------------------------------------------

def kb_env(tmp_path: Path) -> dict[str, str]:
    shipped = tmp_path / "knowledge"
    if not shipped.exists():
        shutil.copytree(ROOT / "knowledge", shipped)
    return {"KNOWLEDGE_DIR": str(shipped), "DATABASE_PATH": str(tmp_path / "data" / "advisor.db")}


def unmarked(path: Path) -> dict[str, bytes]:
    """An export's files, without the two comment lines saying at which change it was exported."""
    archive = zipfile.ZipFile(path)
    return {name: b"".join(archive.read(name).splitlines(keepends=True)[2:]) for name in archive.namelist()}


def test_teach_then_ask_history_undo_and_export_byte_for_byte(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    question = "where do I keep my notebooks safe from a dying laptop"
    assert run("kb", "export", str(tmp_path / "before.zip"), env=env).returncode == 0
    taught = run("kb", "teach", question, "git-basics", "--by", "alice", env=env)
    assert taught.returncode == 0 and "change #1" in taught.stdout
    reply = json.loads(run("ask", "--json", question, env=env).stdout)
    assert reply["matches"][0]["id"] == "git-basics"
    history = run("kb", "history", env=env).stdout.splitlines()
    number, when, by, summary = history[0].split("\t")
    assert number == "1" and by == "alice" and "git-basics" in summary and "T" in when
    undone = run("kb", "undo", "--by", "bob", env=env)
    assert undone.returncode == 0 and "undid #1" in undone.stdout
    assert run("kb", "export", str(tmp_path / "after.zip"), env=env).returncode == 0
    assert unmarked(tmp_path / "before.zip") == unmarked(tmp_path / "after.zip")
    assert [line.split("\t")[0] for line in run("kb", "history", env=env).stdout.splitlines()] == ["2", "1"]


def test_teach_refuses_an_unknown_topic_with_the_reason(tmp_path: Path) -> None:
    result = run("kb", "teach", "a perfectly good question", "no-such-topic", env=kb_env(tmp_path))
    assert result.returncode == 1 and "no topic 'no-such-topic'" in result.stderr


def test_import_a_broken_file_changes_nothing_and_names_file_and_line(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    broken = tmp_path / "jobs.yaml"
    broken.write_text("entries:\n  - id: broken-one\n    title: Broken\n    anwser: x\n    sources: [mynter]\n")
    result = run("kb", "import", str(broken), env=env)
    assert result.returncode == 1 and "jobs.yaml:4:" in result.stderr and "anwser" in result.stderr
    assert not (tmp_path / "data" / "knowledge-edits" / "entries" / "jobs.yaml").exists()
    good = tmp_path / "pay.yaml"
    good.write_text("entries:\n  - id: pay\n    title: Pay\n    ask: [how much do ml engineers earn]\n"
                    "    answer: The guides give no figures.\n    sources: [moderators]\n")
    imported = run("kb", "import", str(good), "--as", "entries/pay.yaml", "--by", "carol", env=env)
    assert imported.returncode == 0 and "added entries/pay.yaml" in imported.stdout
    assert json.loads(run("ask", "--json", "how much do ML engineers earn?", env=env).stdout)["matches"][0]["id"] == "pay"
    bad_path = run("kb", "import", str(good), "--as", "../outside.yaml", env=env)
    assert bad_path.returncode == 1 and "inside the folder" in bad_path.stderr


def test_undo_that_would_be_invalid_is_refused(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    assert run("kb", "undo", env=env).returncode == 1  # nothing to undo
    first = tmp_path / "a.yaml"
    first.write_text("entries:\n  - id: study-groups\n    title: Study groups\n    answer: Ask here.\n    sources: [moderators]\n")
    assert run("kb", "import", str(first), "--as", "entries/a.yaml", env=env).returncode == 0
    second = tmp_path / "b.yaml"  # relies on the first
    second.write_text("entries:\n  - id: more\n    title: More\n    answer: See also.\n    sources: [moderators]\n"
                      "    related: [study-groups]\n")
    assert run("kb", "import", str(second), "--as", "entries/b.yaml", env=env).returncode == 0
    refused = run("kb", "undo", "1", env=env)  # removing the first would leave a dangling 'related'
    assert refused.returncode == 1 and "study-groups" in refused.stderr


def test_gaps_lists_count_reason_question(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    lines = [json.dumps({"user": "u", "question": "how much do ML engineers earn?"})] * 3 + \
            [json.dumps({"user": "v", "question": "does the bot know qwzx?"})]
    run("ask", "--json", stdin="\n".join(lines) + "\n", env=env)
    out = run("kb", "gaps", "-n", "5", env=env).stdout.splitlines()
    assert out[0] == "3\tunanswered\thow much do ml engineers earn?"
    assert out[1].split("\t")[0] == "1"
    empty = run("kb", "gaps", "--guild", "999", env=env)
    assert empty.stdout == "" and "No gaps" in empty.stderr


def test_a_gap_the_knowledge_answers_now_leaves_the_list_until_the_change_is_undone(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    question = "which keyboard layout do ml engineers prefer?"  # nothing in the knowledge answers it
    run("ask", question, env=env)
    listed = lambda: [line.split("\t")[2] for line in run("kb", "gaps", env=env).stdout.splitlines()]  # noqa: E731
    assert listed() == [question]
    assert run("kb", "teach", question, "git-basics", env=env).returncode == 0
    assert listed() == []
    assert run("kb", "undo", env=env).returncode == 0
    assert listed() == [question]


def test_kb_commands_write_nothing_outside_the_scratch_folder(tmp_path: Path) -> None:
    env = kb_env(tmp_path)
    skipped = {".venv", "__pycache__", ".git"}  # .git: a commit made meanwhile elsewhere is not the CLI's doing

    def project_files() -> set[Path]:
        return {p for p in ROOT.rglob("*") if not skipped.intersection(p.parts)}

    before = project_files()
    run("kb", "teach", "some question about git repos", "git-basics", env=env)
    run("kb", "export", str(tmp_path / "x.zip"), env=env)
    run("kb", "history", env=env)
    run("kb", "undo", env=env)
    after = project_files()
    assert after == before


# --- doctor (issue 10) ---------------------------------------------------------------------------------------

def test_doctor_on_a_fresh_setup_names_only_the_token(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": str(tmp_path / "data" / "advisor.db")}
    result = subprocess.run([sys.executable, "-m", "bot", "doctor"], capture_output=True, text=True, cwd=tmp_path,
                            env={k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "KNOWLEDGE_DIR")} | env,
                            timeout=60)
    assert result.returncode != 0
    problems = [line for line in result.stdout.splitlines() if line.startswith("FIX")]
    assert len(problems) == 1 and "DISCORD_TOKEN" in problems[0]


def test_doctor_passes_a_valid_setup_and_flags_a_broken_one(tmp_path: Path) -> None:
    token = "MTEwMDAwMDAwMDAwMDAwMDAwMA.GAbcde.abcdefghijklmnopqrstuvwxyz0123456789AB"
    env = kb_env(tmp_path) | {"DISCORD_TOKEN": token}
    ok = run("doctor", env=env)
    assert ok.returncode == 0 and "All checks passed" in ok.stdout and token not in ok.stdout
    (tmp_path / "knowledge" / "roadmap.yaml").write_text("steps: [\n")
    broken = run("doctor", env=env | {"DISCORD_TOKEN": "not a token", "MODERATOR_ROLE": "Mods"})
    problems = [line for line in broken.stdout.splitlines() if line.startswith("FIX")]
    assert broken.returncode != 0 and len(problems) >= 3
    assert any("DISCORD_TOKEN" in p for p in problems) and any("roadmap.yaml" in p for p in problems)
    assert any("MODERATOR_ROLE_ID" in p for p in problems)
