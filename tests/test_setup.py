"""Setup and host (issue 15): bad input and broken files at the command line get one clear line, never a
traceback; damaged or foreign databases are refused untouched by every command; setup problems are found
before logging in to Discord; what the bot writes is private to its user; .env is found where admins
put it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, stdin: str | None = None,
        prefix: tuple[str, ...] = (), umask: int | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DISCORD_TOKEN": "", **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run([*prefix, sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env=full_env | {"PYTHONPATH": str(ROOT)}, timeout=120,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr and "Event loop is closed" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _ask_db(path: Path, rows: int = 300) -> None:
    """A database of ours with enough rows for several pages."""
    lines = "\n".join(json.dumps({"user": f"u{n % 7}", "question": f"question number {n} " * 4}) for n in range(rows))
    assert run("ask", "--json", "--db", str(path), stdin=lines + "\n").returncode == 0


# --- issue 15 item 14: bad lines, damaged, foreign and unreadable databases -------------------------------

def test_a_lone_surrogate_line_gets_one_problem_and_the_batch_goes_on(tmp_path: Path) -> None:
    lines = ['{"question": "\\ud800 nlp"}', "what is mlops?", '{"user": "7", "question": "which book for deep learning?"}']
    result = run("ask", "--json", "--db", str(tmp_path / "s.db"), stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0]["line"] == 1 and "surrogate" in out[0]["error"]
    assert [o.get("question") for o in out[1:]] == ["what is mlops?", "which book for deep learning?"]
    assert all(o["answered"] for o in out[1:])
    assert "line 1 refused" in one_line(result) and "not open" not in result.stderr


def _scribble(path: Path) -> bytes:
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 2: page * 4] = b"\xde\xad\xbe\xef" * (page // 2)
    path.write_bytes(bytes(data))
    return bytes(data)


def test_a_database_with_scribbled_pages_is_refused_by_every_command_and_never_written(tmp_path: Path) -> None:
    db = tmp_path / "scribbled.db"
    _ask_db(db)
    damaged = _scribble(db)
    env = {"DATABASE_PATH": str(db)}
    for args, stdin in ((("ask", "what is mlops?"), None), (("ask", "--json"), "what is mlops?\n"),
                        (("chat",), "/done python\n"), (("kb", "history"), None), (("kb", "gaps"), None),
                        (("kb", "teach", "how do i bake bread", "deep-learning"), None)):
        result = run(*args, env=env, stdin=stdin)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        line = one_line(result)
        assert str(db) in line and "damaged" in line, (args, line)
        assert "Marked" not in result.stdout
        assert db.read_bytes() == damaged, args
    doctor = run("doctor", env=env)
    assert f"FIX  database {db}" in doctor.stdout


def test_a_foreign_database_with_a_profiles_table_is_left_exactly_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "theirs.db"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE profiles (id INTEGER PRIMARY KEY, display_name TEXT, avatar BLOB)")
        conn.execute("INSERT INTO profiles (display_name) VALUES ('someone')")
    before = db.read_bytes()
    for args in (("ask", "--db", str(db), "what is mlops?"), ("kb", "history", "--db", str(db))):
        result = run(*args)
        assert result.returncode == 2
        assert "another program" in one_line(result) and str(db) in result.stderr
    assert db.read_bytes() == before and before[18:20] == b"\x01\x01"  # not switched to WAL
    assert not Path(f"{db}-wal").exists()


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A folder another user can enter (pytest's tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="mle-advisor-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):
            with contextlib.suppress(OSError):
                path.chmod(0o700 if path.is_dir() else 0o600)
        shutil.rmtree(folder, ignore_errors=True)


def as_an_ordinary_user() -> tuple[str, ...]:
    """Run as a user that file permissions apply to: root reads a mode-000 file anyway."""
    if not IS_ROOT:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions can't be tried")
    return ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def test_a_mode_000_database_gives_one_line_and_no_event_loop_traceback() -> None:
    prefix = as_an_ordinary_user()
    with shared_folder() as folder:
        db = folder / "locked.db"
        with contextlib.closing(sqlite3.connect(db)):
            pass
        db.chmod(0)
        for args in (("ask", "--db", str(db), "what is mlops?"), ("chat", "--db", str(db)),
                     ("kb", "history", "--db", str(db))):
            result = run(*args, prefix=prefix, stdin="hello\n")
            assert result.returncode == 2, (args, result.stderr)
            line = one_line(result)
            assert str(db) in line and "permission" in line, line


# --- issue 15 item 15: setup found before Discord; private files; where .env is -----------------------------

def _unreachable_discord() -> tuple[str, str]:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway"


def _run_against(api: str, gateway: str, env: dict[str, str], prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "tests.e2e.run_bot_against", api, gateway], capture_output=True,
                          text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "KB_WATCH_SECONDS": "0", "CONNECT_RETRY_SECONDS": "0.2",
                               "PYTHONPATH": str(ROOT), **env})


def test_a_bad_database_folder_is_found_before_logging_in(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the database's folder should be")
    result = _run_against(*_unreachable_discord(), {"DISCORD_TOKEN": "emulated-token",
                                                    "DATABASE_PATH": str(blocker / "advisor.db")})
    assert result.returncode == 2  # not "Discord can't be reached; trying again" for ever
    line = one_line(result)
    assert str(blocker) in line and "trying again" not in result.stderr


def test_run_refuses_a_read_only_database_as_doctor_does() -> None:
    prefix = as_an_ordinary_user()
    with shared_folder() as folder:
        db = folder / "ro.db"
        with contextlib.closing(sqlite3.connect(db)):
            pass
        assert run("ask", "--db", str(db), "what is mlops?").returncode == 0  # ours, migrated
        db.chmod(0o444)
        folder.chmod(0o555)
        env = {"DISCORD_TOKEN": "emulated-token", "DATABASE_PATH": str(db)}
        result = _run_against(*_unreachable_discord(), env, prefix=prefix)
        assert result.returncode == 2
        line = one_line(result)
        assert str(db) in line and "cannot be written" in line
        doctor = run("doctor", env=env, prefix=prefix)
        assert "FIX  database" in doctor.stdout
        folder.chmod(0o755)


@pytest.mark.parametrize("token", ["abc.def\x1b[31mghi", "x" * 100_000])
@pytest.mark.parametrize("command", ["run", "sync"])
def test_a_token_with_an_escape_or_100_kb_is_one_line(command: str, token: str) -> None:
    result = run(command, env={"DISCORD_TOKEN": token})
    assert result.returncode == 2
    line = one_line(result)
    assert "DISCORD_TOKEN" in line and len(line) < 300 and "\x1b" not in line


def test_the_database_its_wal_and_the_edits_are_private_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "advisor.db"
    chat = subprocess.Popen([sys.executable, "-m", "bot", "chat", "--db", str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "DISCORD_TOKEN": ""}, preexec_fn=lambda: os.umask(0o022))
    try:
        chat.stdin.write("what is mlops?\n")
        chat.stdin.flush()
        assert "MLOps" in chat.stdout.readline()  # it has written: the WAL and its index exist now
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        chat.stdin.close()
        chat.wait(30)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    exported = run("kb", "export", str(data / "kb.zip"), "--db", str(db), umask=0o022)
    assert exported.returncode == 0, exported.stderr
    assert stat.S_IMODE((data / "kb.zip").stat().st_mode) == 0o600  # what a command writes is this user's


def _no_env(**extra: str) -> dict[str, str]:
    """The environment without any of the settings, so that only .env files give them."""
    from bot.settings import Settings

    return {name.upper(): None for name in Settings.model_fields} | extra  # type: ignore[dict-item]


def test_env_beside_the_database_is_read_even_with_a_byte_order_mark(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / ".env").write_bytes("DISCORD_TOKEN=not-shaped-like-a-token\n".encode("utf-8-sig"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run("doctor", env=_no_env(DATABASE_PATH=str(data / "advisor.db")), cwd=elsewhere)
    assert "does not look like a bot token" in result.stdout, result.stdout


def test_env_given_with_dash_dash_env_is_read(tmp_path: Path) -> None:
    settings = tmp_path / "conf" / "mle.env"
    settings.parent.mkdir()
    db = tmp_path / "chosen" / "advisor.db"
    settings.write_bytes(f"DATABASE_PATH={db}\nMODERATOR_ROLE=mods\n".encode("utf-8-sig"))
    result = run("--env", str(settings), "doctor", env=_no_env(), cwd=tmp_path)
    assert f"database {db} will be created" in result.stdout, result.stdout
    assert "MODERATOR_ROLE is no longer read" in result.stdout
    missing = run("--env", str(tmp_path / "nope.env"), "doctor", env=_no_env(), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in one_line(missing)


def test_doctor_checks_the_file_named_even_with_a_question_mark(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"not a database at all" * 100)  # what "file:a?b.db" would open
    good = tmp_path / "a?b.db"
    assert run("ask", "--db", str(good), "hello").returncode == 0
    result = run("doctor", env=_no_env(DATABASE_PATH="a?b.db"), cwd=tmp_path)
    assert "ok   database a?b.db is readable and writable" in result.stdout, result.stdout


def test_doctor_on_odd_places_says_what_is_wrong_without_a_traceback() -> None:
    proc = run("doctor", env={"KNOWLEDGE_DIR": "/proc"})
    # /proc changes while it is read: "cannot be read" or "has no .yaml knowledge files", one FIX line either way
    assert "Traceback" not in proc.stderr + proc.stdout
    assert [line for line in proc.stdout.splitlines() if line.startswith("FIX") and "/proc" in line]
    ask = run("ask", "what is mlops?", env={"KNOWLEDGE_DIR": "/proc", "DATABASE_PATH": "/nonexistent-folder/x.db"})
    assert ask.returncode == 2 and ("/proc" in one_line(ask) or "nonexistent" in one_line(ask))
    null = run("doctor", env={"DATABASE_PATH": "/dev/null"})
    assert "/dev/null is a folder" not in null.stdout and "/dev/null is not a regular file" in null.stdout


def _kb_env(tmp_path: Path, edits: Path | None = None) -> dict[str, str]:
    return {"DATABASE_PATH": str(tmp_path / "kb.db"), **({"KNOWLEDGE_EDITS_DIR": str(edits)} if edits else {})}


def test_kb_commands_on_odd_input_give_one_line(tmp_path: Path) -> None:
    env = _kb_env(tmp_path)
    new = tmp_path / "new.yaml"
    new.write_text("entries:\n  - id: bread-ml\n    title: Bread and ML\n    ask: [how do i bake bread for ml]\n"
                   "    answer: A test answer.\n    sources: [mynter]\n")
    for target in ("entries", "entries/"):  # a folder, not a file
        imported = run("kb", "import", str(new), "--as", target, env=env)
        assert imported.returncode != 0 and "entries" in one_line(imported)
    history = run("kb", "history", "-n", "99999999999999999999", env=env)
    assert history.returncode == 2 and "Traceback" not in history.stderr and "from 1 to" in history.stderr
    legacy = tmp_path / "knowledge-edits" / "entries"  # an old version's edits folder, moved in at first use
    legacy.mkdir(parents=True)
    (legacy / "jobs.yaml").write_bytes(b"entries: []\n# \xff\xfe not UTF-8\n")
    for args in (("kb", "diff"), ("kb", "teach", "how do i bake bread for ml", "deep-learning")):
        result = run(*args, env=env)
        line = one_line(result)
        assert result.returncode != 0 and ("jobs.yaml" in line or "knowledge-edits" in line), (args, line)


def test_kb_teach_with_a_read_only_database_is_one_line() -> None:
    prefix = as_an_ordinary_user()
    with shared_folder() as folder:
        db = folder / "kb.db"
        assert run("ask", "--db", str(db), "hello").returncode == 0
        db.chmod(0o444)
        folder.chmod(0o555)
        result = run("kb", "teach", "how do i bake bread for ml", "deep-learning", env={"DATABASE_PATH": str(db)},
                     prefix=prefix)
        assert result.returncode == 2
        assert str(db) in one_line(result) and "cannot be written" in result.stderr
        folder.chmod(0o755)


@contextlib.contextmanager
def tiny_disk(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A small tmpfs: a disk that fills up. Needs root (mount); skipped elsewhere."""
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("a full disk needs root to mount a small tmpfs")
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()[:100]}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_kb_teach_on_a_full_disk_is_one_line(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk", "8m") as disk:
        db = disk / "kb.db"
        assert run("ask", "--db", str(db), "hello").returncode == 0
        with contextlib.suppress(OSError), (disk / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        result = run("kb", "teach", "how do i bake bread for ml", "deep-learning", env={"DATABASE_PATH": str(db)})
        assert result.returncode != 0
        line = one_line(result)
        assert "full" in line.lower() or "space" in line.lower(), line
        assert "taught" not in result.stdout
