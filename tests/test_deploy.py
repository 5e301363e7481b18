"""What an admin installs: the systemd unit and the lock files the Makefile installs from."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "mle-advisor.service"


def _sections(text: str) -> dict[str, dict[str, list[str]]]:
    """systemd's format allows repeated keys, so configparser won't do."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_unit_restarts_after_a_crash_and_runs_as_its_own_user_from_its_folder():
    unit = _sections(UNIT.read_text())
    service = unit["Service"]
    assert service["Restart"] == ["on-failure"]
    assert "network-online.target" in unit["Unit"]["After"][0]
    assert "network-online.target" in unit["Unit"]["Wants"][0]
    assert service["User"][0] not in ("root", "0")
    folder = service["WorkingDirectory"][0]
    assert service["EnvironmentFile"] == [f"{folder}/.env"]
    assert service["ExecStart"] == [f"{folder}/.venv/bin/mle-advisor run"]
    # A wrong setup exits 2 (see bot/discord/app.py run_bot): restarting cannot fix it.
    assert service["RestartPreventExitStatus"] == ["2"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_systemd_accepts_the_unit(tmp_path):
    # Lay the unit out as installed, in a temporary folder, with the real console script in it.
    folder = tmp_path / "mle-advisor"
    (folder / ".venv" / "bin").mkdir(parents=True)
    script = Path(sys.executable).parent / "mle-advisor"
    if not script.exists():
        pytest.skip("the mle-advisor console script is not installed beside this Python")
    shutil.copy(script, folder / ".venv" / "bin" / "mle-advisor")
    (folder / ".env").write_text("DISCORD_TOKEN=\n")
    (folder / "README.md").write_text("")
    unit = tmp_path / "mle-advisor.service"
    unit.write_text(UNIT.read_text().replace("/opt/mle-advisor", str(folder)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "mle-advisor" in line]
    assert done.returncode == 0, done.stderr
    assert complaints == []


def test_the_unit_makes_files_private_and_drops_what_it_does_not_need():
    service = _sections(UNIT.read_text())["Service"]
    assert service["UMask"] == ["0077"]  # the database, its WAL and the edits: this user's alone
    assert service["ProtectSystem"] == ["strict"] and service["ReadWritePaths"] == ["/opt/mle-advisor"]
    assert service["CapabilityBoundingSet"] == [""]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not on this machine")
def test_systemd_rates_the_unit_under_4_exposure():
    done = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0 and "offline" in done.stderr:
        pytest.skip(f"this systemd-analyze cannot rate a unit file offline: {done.stderr.strip()[:100]}")
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout)
    assert found, done.stdout[-500:] + done.stderr
    assert float(found.group(1)) < 4.0, done.stdout


def _pins(lock: Path) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", lock.read_text(), flags=re.M))


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_is_pinned_with_a_hash(lock):
    text = (ROOT / lock).read_text()
    blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n", 1)[1] if text.startswith("#") else text)
    entries = [b for b in blocks if re.match(r"[a-z0-9]", b)]
    assert entries
    for entry in entries:
        assert "==" in entry.split()[0], entry.split()[0]
        assert "--hash=sha256:" in entry, f"{entry.split()[0]} has no hash"


def test_the_locks_pin_what_pyproject_asks_for():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    run, dev = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-dev.lock")

    def key(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    for wanted, lock in ((project["dependencies"], run), (project["dependencies"] + project["optional-dependencies"]["dev"], dev)):
        for requirement in wanted:
            name, version = re.match(r"([A-Za-z0-9._-]+)==([^\s;]+)", requirement).groups()
            assert lock.get(key(name)) == version, f"{name}: pyproject says {version}, the lock {lock.get(key(name))}; run make lock"
    # What runs is what is tested.
    assert all(dev.get(name) == version for name, version in run.items())


def test_every_setting_is_explained_in_env_example_and_the_readme():
    from bot.settings import Settings

    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        variable = name.upper()
        assert re.search(rf"^#? ?{variable}=", example, flags=re.M), f"{variable} is not in .env.example"
        assert f"`{variable}`" in readme, f"{variable} is not in README's settings table"


def test_the_example_settings_are_valid_settings(tmp_path, monkeypatch):
    """An admin who uncomments every line of .env.example gets a setup that loads."""
    from bot.settings import Settings

    lines = [line.removeprefix("# ") for line in (ROOT / ".env.example").read_text().splitlines()]
    (tmp_path / ".env").write_text("\n".join(line for line in lines if re.match(r"^[A-Z_]+=", line)) + "\n")
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = Settings()
    assert settings.moderator_role_id == 345678901234567890
    assert settings.answer_channel_ids == [123456789012345678, 234567890123456789]


def test_the_template_unit_runs_one_process_per_shard_set():
    template = _sections((ROOT / "deploy" / "mle-advisor@.service").read_text())
    service = template["Service"]
    assert service["Environment"] == ["SHARD_IDS=%i"]  # systemctl start mle-advisor@0: this process serves shard 0
    assert service["Restart"] == ["on-failure"] and service["RestartPreventExitStatus"] == ["2"]
    assert service["ExecStart"] == _sections(UNIT.read_text())["Service"]["ExecStart"]
