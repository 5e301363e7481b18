"""The knowledge files: what moderators edit, and what they are told when an edit is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import compose, yamlfile
from bot.core.format import MESSAGE_LIMIT
from bot.core.knowledge import KnowledgeError, Problem, knowledge_files, load_knowledge
from bot.core.yamlfile import YamlProblem, parse_yaml, read_yaml
from tests.conftest import KNOWLEDGE


def problems_for(folder: Path) -> list[Problem]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(folder)
    return list(info.value.problems)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


# --- the shipped knowledge ----------------------------------------------------------------------


def test_every_shipped_file_loads_and_contributes(kb) -> None:
    files = knowledge_files(KNOWLEDGE)
    assert len(files) >= 5 and len(kb.files) == len(files)
    for path in files:  # no empty or section-less file ships
        data = read_yaml(path).data
        assert isinstance(data, dict) and any(data.values()), path
    counts = kb.counts()
    assert counts["roadmap steps"] >= 9 and counts["backgrounds"] >= 7 and counts["entries"] >= 30
    assert sum(1 for s in kb.sources.values() if s.guide) == 5  # the five guides, plus the moderators as a source


def test_every_answer_fits_one_discord_message(kb) -> None:
    steps = {s.id: s for s in kb.steps}
    for topic in kb.topics.values():
        assert len(compose.topic_text(topic, kb.resources, kb.sources)) <= MESSAGE_LIMIT - compose.RESERVE, topic.id
    for bg in kb.backgrounds.values():
        assert len(compose.background_text(bg, steps, kb.sources)) <= MESSAGE_LIMIT - compose.RESERVE, bg.id


def test_roadmap_has_the_steps_the_guides_describe(kb) -> None:
    ids = [s.id for s in kb.steps]
    for wanted in ("maths-foundations", "learn-to-code", "classical-ml", "deep-learning", "nlp-transformers",
                   "domain-projects", "software-engineering", "mlops-production", "getting-the-job"):
        assert wanted in ids
    for bg in kb.backgrounds.values():
        assert bg.route and all(step in ids for step in bg.route)


def test_kb_check_command_passes_on_shipped_knowledge() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "kb", "check", str(KNOWLEDGE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_kb_stats_reports_counts_time_and_every_source() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "kb", "stats", str(KNOWLEDGE)], capture_output=True, text=True)
    assert result.returncode == 0
    assert "ms" in result.stdout and "entries" in result.stdout
    for source in ("mynter", "learn-with-passion", "ml-engineer-2022", "mynter-csdn", "any-starting-point"):
        assert f"[{source}]" in result.stdout


# --- errors a moderator can make -----------------------------------------------------------------

ENTRY = """\
entries:
  - id: extra-topic
    title: An extra topic
    ask: [what is an extra topic]
    answer: Some advice in our own words.
    sources: [mynter]
"""


def test_a_valid_new_file_is_picked_up(kb_copy: Path) -> None:
    write(kb_copy, "entries/extra.yaml", ENTRY)
    kb = load_knowledge(kb_copy)
    assert "extra-topic" in kb.entries


@pytest.mark.parametrize(
    ("text", "needle", "expected"),
    [
        (ENTRY.replace("    answer:", "    anwser:"), "anwser", "unknown key 'anwser' (did you mean 'answer'?)"),
        (ENTRY.replace("    answer: Some advice in our own words.\n", ""), "id: extra-topic", "missing required key 'answer'"),
        (ENTRY.replace("Some advice in our own words.", '""'), "answer:", "'answer' is empty"),
        (ENTRY.replace("Some advice in our own words.", "x" * 1500), "answer:", "'answer' is too long"),
        (ENTRY.replace("sources: [mynter]", "sources: [mynter]\n    related: [no-such-entry]"), "id: extra-topic",
         "'related' names the step or entry 'no-such-entry', which does not exist"),
        (ENTRY.replace("sources: [mynter]", "sources: [myntr]"), "id: extra-topic", "did you mean 'mynter'?"),
        (ENTRY.replace("id: extra-topic", "id: Extra Topic"), "id: Extra Topic", "lowercase words joined by hyphens"),
        (ENTRY.replace("id: extra-topic", "id: deep-learning"), "id: deep-learning", "already used at knowledge/roadmap.yaml"),
        (ENTRY.replace("    ask: [what is an extra topic]", "    ask: what is an extra topic"), "ask:", "'ask' must be a list"),
        (ENTRY.replace("sources: [mynter]", "sources: [mynter]\n    personal: always"), "personal:", "'personal' must be one of"),
    ],
)
def test_each_kind_of_error_names_file_line_and_entry(kb_copy: Path, text: str, needle: str, expected: str) -> None:
    path = write(kb_copy, "entries/extra.yaml", text)
    problems = problems_for(kb_copy)
    problem = next((p for p in problems if expected in p.message), None)
    assert problem is not None, problems
    assert problem.file.endswith("entries/extra.yaml") and problem.item in ("extra-topic", "Extra Topic", "deep-learning")
    assert problem.line == line_of(path, needle)
    assert str(problem).startswith(f"{problem.file}:{problem.line}: ")


def test_bad_url_and_dangling_route_are_reported(kb_copy: Path) -> None:
    path = write(
        kb_copy,
        "extra.yaml",
        """\
resources:
  - id: broken-link
    name: A broken link
    type: site
    url: htp://example com
    sources: [mynter]
backgrounds:
  - id: pilot
    name: flying
    aliases: [pilot]
    route: [learn-to-code, flying-lessons]
    route_name: the sky route
    summary: Some summary.
    leverage: Something.
    learn_first: Something else.
    sources: [mynter]
""",
    )
    problems = problems_for(kb_copy)
    messages = {p.message: p for p in problems}
    url = next(p for m, p in messages.items() if "not a web address" in m)
    assert url.line == line_of(path, "url:") and url.item == "broken-link"
    route = next(p for m, p in messages.items() if "flying-lessons" in m)
    assert route.item == "pilot" and "roadmap step" in route.message


def test_malformed_yaml_reports_the_line_and_other_files_still_report(kb_copy: Path) -> None:
    write(kb_copy, "entries/broken.yaml", "entries:\n  - id: a\n    title: [unclosed\n    answer: x\n")
    write(kb_copy, "entries/extra.yaml", ENTRY.replace("    answer:", "    anwser:"))
    problems = problems_for(kb_copy)
    files = {p.file.rsplit("/", 1)[-1] for p in problems if p.item != "folder"}
    assert files == {"broken.yaml", "extra.yaml"}  # every problem at once, not only the first
    # references are not checked while a file can't be read: its ids would all look missing
    assert any("once every file reads" in p.message for p in problems)
    broken = next(p for p in problems if p.file.endswith("broken.yaml"))
    assert "not valid YAML" in broken.message and broken.line in (3, 4, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entries:\n  - &x {id: a}\n  - *x\n", "anchor"),
        ("base: &b\n  id: a\nentries:\n  - <<: *b\n", "anchor"),
        ("entries:\n  - !!python/object:os.system {}\n", "tag"),
        ("entries: []\nentries: []\n", "twice"),
        ("- just\n- a list\n", "mapping of sections"),
        ("recipes: []\n", "unknown section 'recipes'"),
    ],
)
def test_unsafe_or_odd_yaml_is_refused_plainly(kb_copy: Path, text: str, expected: str) -> None:
    write(kb_copy, "odd.yaml", text)
    problems = problems_for(kb_copy)
    assert any(expected in p.message and p.file.endswith("odd.yaml") for p in problems), problems


def test_oversized_file_is_refused(kb_copy: Path) -> None:
    write(kb_copy, "huge.yaml", "entries:\n" + "#" * (yamlfile.LIMITS.file_bytes + 10) + "\n")
    problems = problems_for(kb_copy)
    assert any("at most" in p.message and "KNOWLEDGE_MAX_FILE_KIB" in p.message and p.file.endswith("huge.yaml")
               for p in problems)


def test_limits_are_settings_and_a_refusal_is_one_line_naming_the_setting(kb_copy: Path) -> None:
    """Over the files or size limit, `kb check` says so once, naming the setting; no file is listed as
    missing what the unread files define."""
    for n in range(3):
        write(kb_copy, f"more-{n}.yaml", "entries: []\n")
    for part in "ab":  # 1.2 MiB in two files, each under the limit for one file
        write(kb_copy, f"bulk-{part}.yaml", "entries: []\n" + ("# " + "x" * 100 + "\n") * 6000)
    files = len(list(kb_copy.rglob("*.yaml")))
    size = sum(p.stat().st_size for p in kb_copy.rglob("*.yaml"))
    for setting, value in (("KNOWLEDGE_MAX_FILES", files - 1), ("KNOWLEDGE_MAX_MIB", 1)):
        env = {**os.environ, setting: str(value)}
        result = subprocess.run([sys.executable, "-m", "bot", "kb", "check", str(kb_copy)], capture_output=True,
                                text=True, env=env)
        assert result.returncode == 1
        lines = [line for line in result.stderr.splitlines() if ": " in line and "problem" not in line]
        assert len(lines) == 1 and setting in lines[0], result.stderr
        assert "does not exist" not in result.stderr
    env = {**os.environ, "KNOWLEDGE_MAX_FILES": str(files + 1), "KNOWLEDGE_MAX_MIB": str(size // 2**20 + 2)}
    result = subprocess.run([sys.executable, "-m", "bot", "kb", "check", str(kb_copy)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def test_broken_edit_fails_kb_check_without_a_traceback(kb_copy: Path) -> None:
    roadmap = kb_copy / "roadmap.yaml"
    roadmap.write_text(roadmap.read_text().replace("    best_way: >-", "    best_wya: >-", 1))
    result = subprocess.run([sys.executable, "-m", "bot", "kb", "check", str(kb_copy)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = line_of(roadmap, "best_wya")
    assert f"roadmap.yaml:{line}: maths-foundations: unknown key 'best_wya'" in result.stderr


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    problems = problems_for(tmp_path)
    assert "no .yaml knowledge files" in problems[0].message


def test_loaded_knowledge_is_immutable(kb) -> None:
    with pytest.raises((TypeError, AttributeError)):
        kb.entries["new"] = None  # type: ignore[index]
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        kb.steps[0].title = "changed"  # type: ignore[misc]


# --- hostile input never crashes the loader ------------------------------------------------------

yaml_ish = st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#\n\t %@`,?0123456789")), max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_ish | st.text(max_size=200))
def test_random_yaml_gives_a_problem_or_data_never_a_crash(text: str) -> None:
    try:
        parse_yaml(text)
    except YamlProblem as problem:
        assert problem.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=20))
def test_random_structures_in_a_knowledge_file_are_reported_not_raised(tmp_path_factory, data) -> None:
    import yaml

    folder = tmp_path_factory.mktemp("kb")
    (folder / "sources.yaml").write_text((KNOWLEDGE / "sources.yaml").read_text())
    (folder / "hostile.yaml").write_text(yaml.safe_dump({"entries": data, "resources": [data]}))
    try:
        load_knowledge(folder)
    except KnowledgeError as exc:
        assert all(isinstance(p, Problem) and p.message for p in exc.problems)


# --- provenance and disagreements, as moderators write them ----------------------------------------

VIEWS = """\
entries:
  - id: order-question
    title: Which comes first
    ask: [which comes first]
    answer: The guides differ.
    sources: [mynter, any-starting-point]
    basis:
      - {source: mynter, at: "Learn to Code"}
      - {source: any-starting-point, at: "1. Learn calculus"}
    views:
      - source: mynter
        at: "Learn to Code"
        says: Code first.
      - source: any-starting-point
        at: "1. Learn calculus"
        says: Maths first.
"""


def test_views_and_basis_load_and_show_both_sides(kb_copy: Path) -> None:
    write(kb_copy, "entries/extra.yaml", VIEWS)
    kb = load_knowledge(kb_copy)
    entry = kb.entries["order-question"]
    assert [v.source for v in entry.views] == ["mynter", "any-starting-point"]
    text = compose.topic_text(entry, kb.resources, kb.sources)
    assert "**Max Mynter's guide:** Code first." in text and "**The 2018 guide:** Maths first." in text


@pytest.mark.parametrize(
    ("change", "needle", "expected"),
    [
        (("      - source: any-starting-point\n        at: \"1. Learn calculus\"\n        says: Maths first.\n", ""),
         "views:", "at least two different sources"),
        (("sources: [mynter, any-starting-point]", "sources: [mynter]"), "id: order-question",
         "which is not in this item's 'sources'"),
        (("{source: mynter, at: \"Learn to Code\"}", "{source: mynterr, at: \"Learn to Code\"}"), "id: order-question",
         "names the source 'mynterr', which does not exist"),
        (("{source: mynter, at: \"Learn to Code\"}", "{source: mynter, where: \"Learn to Code\"}"), "where:",
         "unknown key 'where'"),
    ],
)
def test_a_wrong_view_or_basis_is_reported_at_its_line(kb_copy: Path, change: tuple[str, str], needle: str,
                                                        expected: str) -> None:
    path = write(kb_copy, "entries/extra.yaml", VIEWS.replace(*change))
    problems = problems_for(kb_copy)
    problem = next((p for p in problems if expected in p.message), None)
    assert problem is not None, problems
    assert problem.item == "order-question" and problem.line == line_of(path, needle)


def test_free_or_paid_needs_a_source_that_says_so(kb_copy: Path) -> None:
    resource = """\
resources:
  - id: some-course
    name: Some course
    type: course
    free: true
    sources: [moderators]
"""
    write(kb_copy, "extra.yaml", resource)
    assert any("'free' needs a 'basis'" in p.message for p in problems_for(kb_copy))
    write(kb_copy, "extra.yaml", resource + "    basis: [{source: moderators, at: checked on the course page, for: free}]\n")
    assert load_knowledge(kb_copy).resources["some-course"].free is True


BACKGROUND = """\
backgrounds:
  - id: pilots
    name: flying
    aliases: [pilot]
    nearest: {nearest}
    route: [learn-to-code]
    route_name: the sky route
    summary: The guides don't name pilots; the nearest is {nearest}.
    leverage: Something.
    learn_first: Something else.
    sources: [mynter]
    basis: [{{source: mynter, at: Learning from Zero}}]
"""


@pytest.mark.parametrize(
    ("nearest", "extra", "expected"),
    [
        ("no-such", "", "'nearest' names 'no-such', which is not another background"),
        ("analyst", "", "which the guides do not name either"),
        ("software", "    time: six weeks\n", "gives no 'time' or 'difficulty' of its own"),
    ],
)
def test_nearest_must_be_a_background_the_guides_name(kb_copy: Path, nearest: str, extra: str, expected: str) -> None:
    write(kb_copy, "extra.yaml", BACKGROUND.format(nearest=nearest) + extra)
    problems = problems_for(kb_copy)
    assert any(expected in p.message and p.item == "pilots" for p in problems), problems


def test_a_nearest_backgrounds_figures_are_shown_labelled(kb_copy: Path) -> None:
    write(kb_copy, "extra.yaml", BACKGROUND.format(nearest="software"))
    kb = load_knowledge(kb_copy)
    pilots, software = kb.backgrounds["pilots"], kb.backgrounds["software"]
    text = compose.background_text(pilots, kb.steps_by_id, kb.sources, software)
    time_line = next(line for line in text.splitlines() if line.startswith("**Time:**"))
    assert "no figure for flying" in time_line and f"nearest is for {software.name}" in time_line
    assert software.time in time_line


# --- compiled knowledge (issue 17) ---------------------------------------------------------------------

def test_compiled_knowledge_is_used_only_while_nothing_it_was_made_from_changed(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = load_knowledge(kb_copy, cache=cache)
    assert list(cache.glob("*.pickle")), "the validated knowledge is kept compiled"
    again = load_knowledge(kb_copy, cache=cache)
    assert dict(again.topics) == dict(first.topics)
    assert again.index.search(again.normalizer.stems("which book for deep learning?")) == \
        first.index.search(first.normalizer.stems("which book for deep learning?"))
    entries = kb_copy / "entries" / "learning.yaml"
    entries.write_text(entries.read_text().replace("title: ", "title: Renamed ", 1))
    edited = load_knowledge(kb_copy, cache=cache)  # a file changed: read from the files, not the cache
    assert any(t.title.startswith("Renamed ") for t in edited.topics.values())
    texts = {"entries/learning.yaml": entries.read_text().replace("title: Renamed ", "title: Edited ", 1)}
    assert any(t.title.startswith("Edited ") for t in load_knowledge(kb_copy, cache=cache, replace=texts).topics.values())
    assert any(t.title.startswith("Renamed ") for t in load_knowledge(kb_copy, cache=cache).topics.values())


def test_a_compiled_knowledge_others_may_write_is_never_read(kb_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_knowledge(kb_copy, cache=cache)
    (kept,) = cache.glob("*.pickle")
    assert kept.stat().st_mode & 0o077 == 0  # written for this user alone
    kept.chmod(0o666)  # anyone could have rewritten it: it is code this process would run
    from bot.core import compiled

    assert compiled.load(cache, kb_copy, None, compiled_print(kb_copy), yamlfile.LIMITS, compiled.texts_digest(None)) is None
    assert load_knowledge(kb_copy, cache=cache).topics  # read from the files instead


def compiled_print(folder: Path) -> tuple:
    from bot.core.knowledge import fingerprint

    return fingerprint(folder)
