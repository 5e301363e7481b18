"""Changing the knowledge safely (issue 9): edits go to their own folder, are validated whole, touch only
the edited entry, refuse a change made meanwhile, are put back if they can't be recorded, and survive an
upgrade of the shipped files. And hostile knowledge files can't hurt the loader (issue 8)."""

from __future__ import annotations

import asyncio
import difflib
import io
import zipfile
from pathlib import Path

import pytest

from bot.core import yamlfile
from bot.core.editing import ChangedMeanwhile, EditError, KnowledgeEditor
from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.storage import Storage, StorageError


@pytest.fixture
async def editor(kb_copy: Path, tmp_path: Path) -> KnowledgeEditor:
    storage = Storage(tmp_path / "e.db")
    await storage.open()
    yield KnowledgeEditor(kb_copy, tmp_path / "edits", storage)
    await storage.close()


WHO = {"by_id": "42", "by_name": "alice", "place": "111"}


def shipped_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.yaml")}


async def test_re_rendering_any_topic_unchanged_keeps_the_knowledge_identical(editor: KnowledgeEditor) -> None:
    before = load_knowledge(editor.shipped)
    for topic_id in before.topics:
        found = editor.locate(topic_id)
        assert found is not None, topic_id
        editor._write(found.rel, editor._replace_item(editor.text(found.rel) or "", found, dict(found.data)))
    after = load_knowledge(editor.shipped, overlay=editor.edits)
    assert dict(after.topics) == dict(before.topics)


async def test_teaching_adds_one_line_and_nothing_else(editor: KnowledgeEditor) -> None:
    original = editor.text("entries/learning.yaml")
    done = await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    edited = editor.text("entries/learning.yaml")
    diff = [line for line in difflib.unified_diff(original.splitlines(), edited.splitlines(), lineterm="", n=0)
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert diff == ["+      - how do I keep old versions of my notebooks?"]
    assert (editor.shipped / "entries" / "learning.yaml").read_text() == original  # the shipped file is untouched
    assert "how do I keep old versions of my notebooks?" in done.knowledge.entries["git-basics"].ask
    assert done.change.by_name == "alice" and done.change.files["entries/learning.yaml"] == (None, edited)
    with pytest.raises(EditError, match="already has that phrasing"):
        await editor.teach("How do I keep old versions of my notebooks?", "git-basics", **WHO)


async def test_an_invalid_change_writes_nothing(editor: KnowledgeEditor) -> None:
    with pytest.raises(EditError) as info:
        await editor.save_entry({"resources": ["git", "no-such-resource"]}, original_id="git-basics", **WHO)
    assert any("no-such-resource" in str(p) and ".yaml:" in str(p) for p in info.value.problems)
    assert not editor.edits.exists() or not list(editor.edits.rglob("*.yaml"))
    assert await editor.storage.changes() == []


async def test_a_change_made_meanwhile_is_refused_with_the_current_version(editor: KnowledgeEditor) -> None:
    opened = editor.entry_fields("git-basics")
    version = editor.version(opened["file"])
    await editor.save_entry({"answer": "The first moderator's answer."}, original_id="git-basics", version=version, **WHO)
    with pytest.raises(ChangedMeanwhile) as info:
        await editor.save_entry({"answer": "The second moderator's answer."}, original_id="git-basics", version=version,
                                **WHO)
    assert info.value.current["answer"] == "The first moderator's answer."


async def test_concurrent_changes_are_serialised_and_all_kept(editor: KnowledgeEditor) -> None:
    questions = [f"how do I version control experiment number {n}?" for n in range(6)]
    await asyncio.gather(*(editor.teach(q, "git-basics", **WHO) for q in questions))
    knowledge = load_knowledge(editor.shipped, overlay=editor.edits)
    assert set(questions) <= set(knowledge.entries["git-basics"].ask)
    assert len(await editor.storage.changes()) == 6


async def test_a_change_that_cannot_be_recorded_is_put_back(editor: KnowledgeEditor) -> None:
    await editor.storage.close()  # the database is gone
    with pytest.raises(StorageError):
        await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    assert not (editor.edits / "entries" / "learning.yaml").exists()


async def test_new_entries_get_a_free_id_and_the_moderators_credit(editor: KnowledgeEditor) -> None:
    first = await editor.save_entry({"title": "Git and version control", "answer": "A second take on git.",
                                     "ask": ["is there another answer about git"]}, **WHO)
    entry = first.knowledge.entries["git-and-version-control"]
    assert entry.sources == ("moderators",) and (editor.edits / "entries" / "added.yaml").is_file()


async def test_undo_restores_the_files_exactly(editor: KnowledgeEditor) -> None:
    before = editor.export_zip()
    await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    await editor.save_entry({"answer": "Changed."}, original_id="data-prep", **WHO)
    await editor.undo(None, **WHO)
    await editor.undo(1, **WHO)
    assert editor.export_zip() == before
    assert [c.summary.split()[0] for c in await editor.storage.changes()] == ["undid", "undid", "edited", "taught"]


async def test_export_holds_every_file_as_read(editor: KnowledgeEditor) -> None:
    await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    archive = zipfile.ZipFile(io.BytesIO(editor.export_zip()))
    assert set(archive.namelist()) == {f"knowledge/{rel}" for rel in editor.files()}
    assert b"old versions of my notebooks" in archive.read("knowledge/entries/learning.yaml")


async def test_an_upgrade_of_the_shipped_files_keeps_the_edits(editor: KnowledgeEditor) -> None:
    await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    shipped = editor.shipped / "entries" / "learning.yaml"  # `git pull` brings a new version of the file
    shipped.write_text(shipped.read_text().replace("title: Git and version control", "title: Version control with git"))
    knowledge = load_knowledge(editor.shipped, overlay=editor.edits)
    assert "how do I keep old versions of my notebooks?" in knowledge.entries["git-basics"].ask  # never discarded
    assert editor.upgrades() == ["entries/learning.yaml"]  # and `kb diff` can show what the upgrade changed


async def test_import_refuses_paths_outside_the_folder_and_oversized_files(editor: KnowledgeEditor) -> None:
    with pytest.raises(EditError, match="inside the folder"):
        await editor.import_file(b"entries: []\n", name="x.yaml", rel="../../etc/x.yaml", **WHO)
    with pytest.raises(EditError, match="at most 1024 KiB .the setting KNOWLEDGE_MAX_FILE_KIB"):
        await editor.import_file(b"#" * (1100 * 1024), name="big.yaml", rel=None, **WHO)
    with pytest.raises(EditError, match="not UTF-8"):
        await editor.import_file(b"entries: [\xff]\n", name="bad.yaml", rel=None, **WHO)


# --- hostile knowledge files (issue 8) ------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "entries: " + "[" * 30_000 + "]" * 30_000 + "\n",  # 60 KB of flow nesting
        "entries:\n" + "".join("  " * i + "- \n" for i in range(1, 250)),  # block nesting as deep as 64 KB allows
        "x: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
    ],
)
def test_deeply_nested_files_are_refused_with_file_and_line(kb_copy: Path, text: str) -> None:
    (kb_copy / "entries" / "deep.yaml").write_text(text)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    deep = [p for p in info.value.problems if p.file.endswith("deep.yaml")]
    assert deep and deep[0].line is not None and "deep" in deep[0].message


def test_the_knowledge_as_a_whole_is_capped(kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfile, "LIMITS", yamlfile.Limits(total_bytes=2 * 2**20))
    filler = "# " + "x" * 200 + "\n"
    for n in range(12):
        (kb_copy / "entries" / f"filler-{n}.yaml").write_text("entries: []\n" + filler * 1200)
    with pytest.raises(KnowledgeError, match="add up to 2.9 MiB; at most 2 MiB .*KNOWLEDGE_MAX_MIB") as info:
        load_knowledge(kb_copy)
    assert len(info.value.problems) == 1
