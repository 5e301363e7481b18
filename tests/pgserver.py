"""A throwaway PostgreSQL server for tests and `make bench`, started from the binaries in the image.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as `nobody` (through
runuser). It listens on a unix socket in a temporary folder only (listen_addresses=''), so nothing on
the network can reach it. `fsync=False` is for speed-insensitive fixtures only: with fsync off, a
crash of the server may lose acknowledged writes, so crash tests and the shipped setup keep it on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    for folder in PG_BIN_DIRS:
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def why_no_postgres() -> str | None:
    """A reason to skip PostgreSQL tests, or None when a server can be started here."""
    if pg_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed: looked in " + ", ".join(PG_BIN_DIRS)
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser, and PostgreSQL refuses to run as root"
    return None


class PgServer:
    """initdb + pg_ctl start in a fresh temporary folder; `url(db)` for asyncpg; `stop()` removes it all."""

    def __init__(self, *, fsync: bool = False) -> None:
        self.fsync = fsync
        self.root = Path(tempfile.mkdtemp(prefix="mle-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.bin = pg_bin()
        self._as_user: list[str] = []
        self._created = 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.bin is not None
        return subprocess.run([*self._as_user, str(self.bin / args[0]), *args[1:]], check=check,
                              capture_output=True, text=True, timeout=120)

    def start(self) -> PgServer:
        if self.bin is None:
            raise RuntimeError(why_no_postgres() or "no PostgreSQL")
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", "nobody", "--"]
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "nobody")
            shutil.chown(self.socket_dir, "nobody")
        self._run("initdb", "-D", str(self.data), "--auth=trust", "--no-sync", "-U", "postgres", "-E", "UTF8",
                  "--locale=C")
        options = (f"-c listen_addresses='' -c unix_socket_directories={self.socket_dir} -c fsync={'on' if self.fsync else 'off'} "
                   "-c max_connections=200 -c shared_buffers=16MB")
        if not self.fsync:
            options += " -c synchronous_commit=off -c full_page_writes=off"
        result = self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-o", options,
                           "-l", str(self.root / "log.txt"), "start", check=False)
        if result.returncode != 0:
            log = (self.root / "log.txt").read_text(errors="replace") if (self.root / "log.txt").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr.strip()} {log[-500:]}")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def psql_args(self) -> list[str]:
        return ["-h", str(self.socket_dir), "-U", "postgres"]

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        self._created += 1
        name = name or f"test{self._created}"
        self._run("createdb", *self.psql_args(), name)
        return self.url(name)

    def kill(self) -> None:
        """Stop the server at once, as a crash would (immediate mode: no shutdown checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)

    def restart(self) -> None:
        options = (f"-c listen_addresses='' -c unix_socket_directories={self.socket_dir} -c fsync={'on' if self.fsync else 'off'} "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-o", options, "-l", str(self.root / "log.txt"), "start")

    def stop(self) -> None:
        if self.bin is not None and self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
