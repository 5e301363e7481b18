"""Shared fixtures: the shipped knowledge (loaded once) and a fresh advisor on a temporary database."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.advisor import Advisor
from bot.core.knowledge import Knowledge, load_knowledge
from bot.core.storage import Storage

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
