"""Changing the knowledge safely (issues 9, 15, 16): moderators' edits are per-item overrides stored in the
database with their history in one transaction; validated whole; per-item "changed meanwhile"; undo and
import never silently discard a later change; upgrades keep reaching every entry nobody edited. And
hostile knowledge files can't hurt the loader (issue 8)."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest

from bot.core import yamlfile
from bot.core.editing import ChangedMeanwhile, EditError, KnowledgeEditor, resolve_topic
from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.overrides import Shipped
from bot.core.storage import Storage, StorageError


@pytest.fixture
async def editor(kb_copy: Path, tmp_path: Path) -> KnowledgeEditor:
    storage = Storage(tmp_path / "e.db")
    await storage.open()
    yield KnowledgeEditor(kb_copy, storage)
    await storage.close()


WHO = {"by_id": "42", "by_name": "alice", "place": "111"}
BOB = {"by_id": "43", "by_name": "bob", "place": "111"}


def shipped_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.yaml")}


def neighbour(editor: KnowledgeEditor, topic_id: str = "git-basics") -> str:
    """Another entry shipped in the same file as `topic_id`."""
    where = Shipped(editor.shipped).where()
    home = where[("entries", topic_id)]
    return next(k[1] for k, rel in where.items() if rel == home and k[0] == "entries" and k[1] != topic_id)


def zipped(data: bytes) -> dict[str, str]:
    """An export's files without the line that marks when it was exported."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: "".join(line for line in archive.read(name).decode().splitlines(keepends=True)
                          if not line.startswith("# Exported from MLE Advisor") and "changes made since this export" not in line)
            for name in archive.namelist()}


async def test_with_no_edits_the_knowledge_is_the_shipped_one(editor: KnowledgeEditor) -> None:
    assert dict((await editor.load()).topics) == dict(load_knowledge(editor.shipped).topics)


async def test_teaching_adds_one_phrasing_in_the_database_and_touches_no_file(editor: KnowledgeEditor) -> None:
    before = shipped_bytes(editor.shipped)
    done = await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    assert shipped_bytes(editor.shipped) == before  # the shipped files are untouched
    shipped = load_knowledge(editor.shipped).entries["git-basics"]
    taught = done.knowledge.entries["git-basics"]
    assert taught.ask == (*shipped.ask, "how do I keep old versions of my notebooks?")
    assert taught.model_copy(update={"ask": shipped.ask}) == shipped  # nothing else of it changed
    assert done.change.by_name == "alice" and list(done.change.items) == [("entries", "git-basics")]
    assert (await editor.load()).entries["git-basics"] == taught  # read back from the database
    with pytest.raises(EditError, match="already has that phrasing"):
        await editor.teach("How do I keep old versions of my notebooks?", "git-basics", **WHO)


async def test_an_invalid_change_writes_nothing(editor: KnowledgeEditor) -> None:
    with pytest.raises(EditError) as info:
        await editor.save_entry({"resources": ["git", "no-such-resource"]}, original_id="git-basics", **WHO)
    assert any("no-such-resource" in str(p) and ".yaml:" in str(p) for p in info.value.problems)
    assert await editor.storage.changes() == [] and (await editor.storage.kb_state())[1] == {}


async def test_a_change_made_meanwhile_is_refused_with_the_current_version(editor: KnowledgeEditor) -> None:
    opened = await editor.entry_fields("git-basics")
    await editor.save_entry({"answer": "The first moderator's answer."}, original_id="git-basics",
                            version=opened["version"], **WHO)
    with pytest.raises(ChangedMeanwhile) as info:
        await editor.save_entry({"answer": "The second moderator's answer."}, original_id="git-basics",
                                version=opened["version"], **BOB)
    assert info.value.current["answer"] == "The first moderator's answer."


async def test_editing_another_entry_of_the_same_file_meanwhile_is_not_a_conflict(editor: KnowledgeEditor) -> None:
    git = await editor.entry_fields("git-basics")
    other = neighbour(editor)
    await editor.save_entry({"answer": "Changed by Bob."}, original_id=other, **BOB)
    done = await editor.save_entry({"answer": "Changed by Alice."}, original_id="git-basics", version=git["version"], **WHO)
    assert done.knowledge.entries["git-basics"].answer == "Changed by Alice."
    assert done.knowledge.entries[other].answer == "Changed by Bob."


async def test_concurrent_changes_are_serialised_and_all_kept(editor: KnowledgeEditor) -> None:
    questions = [f"how do I version control experiment number {n}?" for n in range(6)]
    await asyncio.gather(*(editor.teach(q, "git-basics", **WHO) for q in questions))
    assert set(questions) <= set((await editor.load()).entries["git-basics"].ask)
    assert len(await editor.storage.changes()) == 6


async def test_a_change_that_cannot_be_recorded_changes_nothing(editor: KnowledgeEditor) -> None:
    await editor.storage.close()  # the database is gone
    with pytest.raises(StorageError):
        await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    await editor.storage.open()
    assert await editor.storage.changes() == [] and (await editor.storage.kb_state())[1] == {}


async def test_new_entries_get_a_free_id_and_the_moderators_credit(editor: KnowledgeEditor) -> None:
    first = await editor.save_entry({"title": "Git and version control", "answer": "A second take on git.",
                                     "ask": ["is there another answer about git"]}, **WHO)
    entry = first.knowledge.entries["git-and-version-control"]
    assert entry.sources == ("moderators",)
    second = await editor.save_entry({"title": "Git and version control", "answer": "A third take.",
                                      "ask": ["and a third answer about git"]}, **WHO)
    assert "git-and-version-control-2" in second.knowledge.entries


async def test_ids_never_run_out_for_titles_without_latin_letters(editor: KnowledgeEditor) -> None:
    """Issue 15.1: a title with no Latin letters got the id `entry`, and after `entry-49` none was free."""
    many = "entries:\n" + "".join(f"  - id: entry-{n}\n    title: Entry {n}\n    answer: Answer {n}.\n"
                                   f"    sources: [moderators]\n" for n in range(1, 61))
    await editor.import_file(many.encode(), name="many.yaml", rel="entries/many.yaml", **WHO)
    done = await asyncio.wait_for(editor.save_entry(
        {"title": "Как стать инженером", "answer": "Ответ.", "ask": ["как стать инженером"]}, **WHO), 30)
    assert done.summary == "added entry-61" and done.knowledge.entries["entry-61"].title == "Как стать инженером"
    again = await editor.save_entry({"title": "Как стать инженером", "answer": "Ещё.", "ask": ["ещё вопрос"]}, **WHO)
    assert again.summary == "added entry-62"
    accented = await editor.save_entry({"title": "Apprendre le réseau", "answer": "Oui.", "ask": ["réseau neuronal"]}, **WHO)
    assert "apprendre-le-reseau" in accented.knowledge.entries


async def test_an_error_inside_the_worker_never_hangs_later_edits(editor: KnowledgeEditor,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15.1: a StopIteration raised while a change is prepared used to leave it (and every later
    change, waiting on the lock) pending for good."""
    import bot.core.editing as editing

    def boom(*args: object) -> str:
        raise StopIteration

    monkeypatch.setattr(editing, "free_id", boom)
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(editor.save_entry({"title": "X", "answer": "Y.", "ask": ["zz question"]}, **WHO), 10)
    monkeypatch.undo()
    done = await asyncio.wait_for(editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO), 10)
    assert done.change.id == 1


async def test_clearing_a_field_in_the_form_is_applied_or_refused_with_the_reason(editor: KnowledgeEditor) -> None:
    """Issue 15.2: an emptied Keywords, resources: or related: is applied, not silently kept."""
    shipped = load_knowledge(editor.shipped).entries["git-basics"]
    assert shipped.keywords and shipped.resources
    done = await editor.save_entry({"keywords": [], "resources": [], "related": []}, original_id="git-basics", **WHO)
    entry = done.knowledge.entries["git-basics"]
    assert entry.keywords == () and entry.resources == () and entry.related == ()
    with pytest.raises(EditError) as info:
        await editor.save_entry({"sources": []}, original_id="git-basics", **WHO)
    assert any("source" in p.message for p in info.value.problems)


async def test_undo_restores_the_knowledge_exactly(editor: KnowledgeEditor) -> None:
    before = zipped(await editor.export_zip())
    await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    await editor.save_entry({"answer": "Changed."}, original_id="data-prep", **WHO)
    await editor.undo(None, **WHO)
    await editor.undo(1, **WHO)
    assert zipped(await editor.export_zip()) == before
    assert (await editor.storage.kb_state())[1] == {}  # every entry follows the shipped files again
    assert [c.summary.split()[0] for c in await editor.storage.changes()] == ["undid", "undid", "edited", "taught"]


async def test_undo_refuses_to_discard_a_later_change_and_names_it(editor: KnowledgeEditor) -> None:
    """Issue 15.4: Alice teaches, Bob teaches the same entry, undoing Alice's change would lose Bob's."""
    alice = await editor.teach("alice asks about notebook versions", "git-basics", **WHO)
    await editor.teach("bob asks about repository history", "git-basics", **BOB)
    with pytest.raises(EditError, match=r"#2 \(bob") as info:
        await editor.undo(alice.change.id, **WHO)
    assert "git-basics" in str(info.value)
    assert "bob asks about repository history" in (await editor.load()).entries["git-basics"].ask


async def test_an_import_keeps_what_changed_since_its_export_or_names_it(editor: KnowledgeEditor) -> None:
    """Issue 15.4: an import must not silently overwrite a teach made after the export."""
    exported = zipfile.ZipFile(io.BytesIO(await editor.export_zip())).read("knowledge/entries/learning.yaml").decode()
    await editor.teach("bob asks about repository history", "git-basics", **BOB)  # after the export
    # The importer changed another entry of the file: Bob's phrasing is kept (merged).
    other = load_knowledge(editor.shipped).entries[neighbour(editor)]
    title = f"title: {other.title}"
    changed = exported.replace(title, "title: Moderators say", 1)
    assert changed != exported
    done = await editor.import_file(changed.encode(), name="learning.yaml", rel=None, **WHO)
    assert "bob asks about repository history" in done.knowledge.entries["git-basics"].ask
    assert done.knowledge.entries[other.id].title == "Moderators say"
    # The importer changed git-basics too (from the exported version): refused, naming Bob's change.
    clash = exported.replace("do i need to learn git", "do i really need to learn git", 1)
    with pytest.raises(EditError, match=r"#1 \(bob") as info:
        await editor.import_file(clash.encode(), name="learning.yaml", rel=None, **WHO)
    assert "git-basics" in str(info.value)
    assert "bob asks about repository history" in (await editor.load()).entries["git-basics"].ask


async def test_hidden_and_outside_paths_are_refused_up_front(editor: KnowledgeEditor) -> None:
    """Issue 15.3: the loader skips hidden files, so importing one would never be used."""
    good = b"entries:\n  - id: secret\n    title: Secret\n    answer: Shh.\n    sources: [moderators]\n"
    for path in ("entries/.secret.yaml", ".lock.yaml", ".hidden/x.yaml"):
        with pytest.raises(EditError, match="hidden"):
            await editor.import_file(good, name="x.yaml", rel=path, **WHO)
    with pytest.raises(EditError, match="inside the folder"):
        await editor.import_file(good, name="x.yaml", rel="../../etc/x.yaml", **WHO)
    with pytest.raises(EditError, match="inside the folder"):
        await editor.import_file(good, name="x.yaml", rel="entries/x.txt", **WHO)
    with pytest.raises(EditError, match="at most 1024 KiB .the setting KNOWLEDGE_MAX_FILE_KIB"):
        await editor.import_file(b"#" * (1100 * 1024), name="big.yaml", rel=None, **WHO)
    odd = await editor.import_file(good, name="x.yaml", rel="./entries//secret.yaml", **WHO)
    assert "entries/secret.yaml" in odd.summary and (await editor.entry_fields("secret"))["file"] == "entries/secret.yaml"
    await editor.undo(None, **WHO)
    with pytest.raises(EditError, match="not UTF-8"):
        await editor.import_file(b"entries: [\xff]\n", name="bad.yaml", rel=None, **WHO)
    assert [c.summary.split()[0] for c in await editor.storage.changes()] == ["undid", "added"]


async def test_one_teach_does_not_freeze_the_rest_of_its_shipped_file(editor: KnowledgeEditor) -> None:
    """Issue 16.1: after a teach on one entry, an upgrade that changes another entry of the same file is
    answered at once, and the taught phrasing stays."""
    await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    shipped = editor.shipped / "entries" / "learning.yaml"
    other = load_knowledge(editor.shipped).entries[neighbour(editor)]
    shipped.write_text(shipped.read_text().replace(other.title, other.title + " (upgraded)", 1))  # `git pull`
    after = await editor.load()
    assert after.entries[other.id].title == other.title + " (upgraded)"
    assert "how do I keep old versions of my notebooks?" in after.entries["git-basics"].ask
    assert await editor.upstream() == []  # the taught entry itself did not move upstream


async def test_upstream_changes_under_an_edit_are_reported_the_right_way_round(editor: KnowledgeEditor) -> None:
    await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    shipped = editor.shipped / "entries" / "learning.yaml"
    shipped.write_text(shipped.read_text().replace("title: Git and version control", "title: Version control with git"))
    (override, now), = await editor.upstream()
    assert override.item_id == "git-basics"
    assert "title: Git and version control" in (override.base or "") and "title: Version control with git" in (now or "")
    # the edit still wins for that entry, and the upgrade is not lost from view
    assert (await editor.load()).entries["git-basics"].title == "Git and version control"


async def test_the_change_and_its_history_land_together_or_not_at_all(editor: KnowledgeEditor,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15.5: a failure while recording (full disk, here injected after the overrides are written)
    leaves neither the change nor its history."""
    import bot.core.storage.sqlite as storage_module

    real = storage_module._json_or_none
    calls = {"n": 0}

    def failing(value: object) -> str | None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise sqlite3.OperationalError("database or disk is full")
        return real(value)

    monkeypatch.setattr(storage_module, "_json_or_none", failing)
    with pytest.raises(StorageError, match="full"):
        await editor.teach("how do I keep old versions of my notebooks?", "git-basics", **WHO)
    monkeypatch.undo()
    assert await editor.storage.changes() == [] and (await editor.storage.kb_state())[1] == {}
    assert "how do I keep old versions of my notebooks?" not in (await editor.load()).entries["git-basics"].ask


async def test_another_process_changing_meanwhile_is_caught_up_not_overwritten(editor: KnowledgeEditor,
                                                                               tmp_path: Path) -> None:
    """Issue 18.4 groundwork: two editors on one database (two processes) never overwrite each other."""
    other_storage = Storage(tmp_path / "e.db")
    await other_storage.open()
    other = KnowledgeEditor(editor.shipped, other_storage)
    try:
        await asyncio.gather(*(e.teach(f"question {n} about keeping code history", "git-basics", **WHO)
                               for n, e in enumerate([editor, other] * 3)))
        asked = (await editor.load()).entries["git-basics"].ask
        assert all(f"question {n} about keeping code history" in asked for n in range(6))
        assert [c.id for c in await editor.storage.changes_since(4)] == [5, 6]
    finally:
        await other_storage.close()


async def test_phrasings_from_another_servers_members_stay_in_that_server(editor: KnowledgeEditor) -> None:
    """Issue 15.9: a question taught in server 111 is not shown to server 222's moderators (export, form,
    history), yet their edits keep it."""
    await editor.teach("my private question about notebooks", "git-basics", **WHO)
    [change] = await editor.storage.changes()
    from bot.core.editing import visible_summary
    assert "my private question" in visible_summary(change, "111")
    assert "my private question" not in visible_summary(change, "222") and "git-basics" in visible_summary(change, "222")
    assert "my private question" not in zipped(await editor.export_zip("222"))["knowledge/entries/learning.yaml"]
    assert "my private question" in zipped(await editor.export_zip("111"))["knowledge/entries/learning.yaml"]
    assert "my private question" in zipped(await editor.export_zip())["knowledge/entries/learning.yaml"]  # the host
    fields = await editor.entry_fields("git-basics", "222")
    assert "my private question about notebooks" not in fields["ask"]
    done = await editor.save_entry({"ask": fields["ask"], "answer": "Edited in 222."}, original_id="git-basics",
                                   version=fields["version"], by_id="9", by_name="carol", place="222")
    assert "my private question about notebooks" in done.knowledge.entries["git-basics"].ask  # kept, not shown


async def test_undoing_another_servers_teach_does_not_show_its_words(editor: KnowledgeEditor) -> None:
    await editor.teach("my private question about notebooks", "git-basics", **WHO)
    done = await editor.undo(1, by_id="9", by_name="carol", place="222")
    assert "my private question" not in done.summary and "git-basics" in done.summary
    [undo, _teach] = await editor.storage.changes()
    from bot.core.editing import visible_summary
    assert "my private question" not in visible_summary(undo, "111") + visible_summary(undo, "333")


async def test_titles_and_unambiguous_prefixes_name_a_topic(editor: KnowledgeEditor) -> None:
    kb = await editor.load()
    assert resolve_topic(kb, "git-basics") == "git-basics"
    assert resolve_topic(kb, "Git and Version Control") == "git-basics"
    assert resolve_topic(kb, "git-ba") == "git-basics"
    with pytest.raises(EditError, match="could be any of"):
        resolve_topic(kb, "d")
    with pytest.raises(EditError, match="kb list"):
        resolve_topic(kb, "no-such-topic")


async def test_edits_in_an_old_edits_folder_move_into_the_database_once(editor: KnowledgeEditor, tmp_path: Path) -> None:
    folder = tmp_path / "knowledge-edits"
    (folder / "entries").mkdir(parents=True)
    learning = (editor.shipped / "entries" / "learning.yaml").read_text()
    (folder / "entries" / "learning.yaml").write_text(learning.replace("title: Git and version control", "title: Git!"))
    (folder / "entries" / "added.yaml").write_text("entries:\n  - id: study-groups\n    title: Study groups\n"
                                                   "    answer: Ask here.\n    sources: [moderators]\n")
    change_id = await editor.migrate_folder(folder)
    assert change_id == 1 and not folder.exists() and (tmp_path / "knowledge-edits.moved-to-database").is_dir()
    kb = await editor.load()
    assert kb.entries["git-basics"].title == "Git!" and "study-groups" in kb.entries
    assert set((await editor.storage.kb_state())[1]) == {("entries", "git-basics"), ("entries", "study-groups")}
    folder.mkdir()  # a stale copy put back later is not moved twice
    (folder / "x.yaml").write_text("entries: []\n")
    assert await editor.migrate_folder(folder) is None


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
    with pytest.raises(KnowledgeError, match=r"add up to \d+\.\d MiB; at most 2 MiB .*KNOWLEDGE_MAX_MIB") as info:
        load_knowledge(kb_copy)
    assert len(info.value.problems) == 1


def test_every_topic_re_rendered_as_an_override_reads_the_same(kb_copy: Path) -> None:
    """What the form and `kb teach` write (an item re-rendered in the house style) means exactly what the
    shipped item meant, for every step and entry."""
    from bot.core.editing import render_entry
    from bot.core.overrides import Override, load_with

    shipped = load_knowledge(kb_copy)
    where = Shipped(kb_copy)
    overrides = {}
    for key in where.where():
        if key[0] in ("steps", "entries"):
            item = where.item(key)
            overrides[key] = Override(key[0], key[1], where.where()[key], render_entry(dict(item.data), indent=0), item.text)
    edited = load_with(kb_copy, overrides)
    assert dict(edited.topics) == dict(shipped.topics) and list(edited.topics) == list(shipped.topics)
