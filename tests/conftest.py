"""Shared fixtures: the shipped knowledge (loaded once), a fresh advisor on a temporary database, and
a PostgreSQL server (started once, from the binaries in the image) for the tests that run on both
storage backends."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.core.knowledge import Knowledge, load_knowledge
from bot.core.storage import Storage
from tests.pgserver import PgServer, why_no_postgres

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with Storage(tmp_path / "advisor.db") as s:
        yield s


@pytest.fixture
async def advisor(kb: Knowledge, storage: Storage) -> Advisor:
    return Advisor(kb, storage)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session (fsync off: these tests do not crash it); each test that
    needs one gets a database of its own from `database`."""
    reason = why_no_postgres()
    if reason:
        pytest.skip(reason)
    server = PgServer(fsync=False).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh, empty store lives, once per backend: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "advisor.db")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()
