"""The command line exactly as other tools (and people) drive it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def test_output_cut_short_by_a_pipe_is_not_an_error() -> None:
    result = subprocess.run(f"{sys.executable} -m bot kb stats | head -1", shell=True, capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.startswith("Knowledge in") and "Traceback" not in result.stderr
