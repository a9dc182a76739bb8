"""The process definitions in deploy/ (systemd units, the Procfile) run commands that exist, with options they take.

Each ``manage.py`` command line is parsed by the command's own argument parser, each gunicorn line by
gunicorn's, and each file a unit names under /srv/kampus must be in the repository: a renamed
command or option, or a moved file, fails here instead of on a server at start-up.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Where docs/deployment.md installs the checkout; units name files there.
INSTALL_DIR = "/srv/kampus/"
UNITS = sorted(DEPLOY.glob("*.service"))
# systemd specifiers the units use, with values of the kind they take on a server.
SPECIFIERS = {"%i": "2", "%H": "campus-host-1", "%%": "%"}


def unit_commands(unit: Path) -> list[list[str]]:
    """Return the words of each ExecStart/ExecReload of ``unit``, continuation lines joined, specifiers filled."""
    text = re.sub(r"\\\n\s*", " ", unit.read_text(encoding="utf-8"))
    commands = []
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in {"ExecStart", "ExecReload", "ExecStartPre", "ExecStop"}:
            value = re.sub(r"%[iH%]", lambda match: SPECIFIERS[match.group()], value.strip().lstrip("-@+!"))
            commands.append(shlex.split(value))
    return commands


def procfile_commands() -> list[list[str]]:
    commands = []
    for line in (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            _kind, _, command = line.partition(":")
            for part in command.split("&&"):
                commands.append(
                    shlex.split(part.replace("${PORT:-8000}", "8000").replace("${WEB_CONCURRENCY:-3}", "3"))
                )
    return commands


def repository_path(word: str) -> Path | None:
    """Return the repository file an installed path names (/srv/kampus/deploy/x -> deploy/x), or None."""
    if word.startswith(INSTALL_DIR) and not word.startswith(f"{INSTALL_DIR}.venv/"):
        return ROOT / word.removeprefix(INSTALL_DIR)
    return None


def check_command(words: list[str]) -> None:
    """Fail unless ``words`` is a manage.py command, gunicorn or a repository script that exists and accepts them."""
    if "manage.py" in words:
        name, *arguments = words[words.index("manage.py") + 1 :]
        commands = get_commands()
        assert name in commands, f"no management command {name!r}"
        parser = load_command_class(commands[name], name).create_parser("manage.py", name)
        # Options spelled in full: an abbreviation would start meaning another option once one is added.
        parser.allow_abbrev = False
        # Django's parser raises CommandError on an unknown option or a bad value when not run from a shell.
        parser.parse_args(arguments)
    elif Path(words[0]).name == "gunicorn":
        options = Config(usage="", prog="gunicorn").parser().parse_args(words[1:])
        assert options.args == ["campus.wsgi:application"]
        assert (ROOT / "campus" / "wsgi.py").exists()
        if options.config:
            config = repository_path(options.config) or ROOT / options.config
            assert config.exists(), f"gunicorn -c {options.config}: no such file in the repository"
    elif words[0] == "/bin/kill":
        return
    else:
        script = repository_path(words[0])
        assert script is not None, f"unknown program {words[0]!r}"
        assert script.exists(), f"{words[0]}: no {script.relative_to(ROOT)} in the repository"
        assert script.stat().st_mode & 0o111, f"{script.relative_to(ROOT)} is not executable"


def test_every_unit_is_checked() -> None:
    names = {unit.name for unit in UNITS}
    assert {"kampus-web.service", "kampus-worker@.service", "kampus-ingester@.service"} <= names
    assert "kampus-backup.service" in names


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_a_unit_runs_commands_that_exist_with_options_they_take(unit: Path) -> None:
    commands = unit_commands(unit)
    assert commands, f"{unit.name} starts nothing"
    for words in commands:
        check_command(words)


def test_the_procfile_runs_commands_that_exist_with_options_they_take() -> None:
    commands = procfile_commands()
    assert any("qcluster" in words for words in commands)
    for words in commands:
        check_command(words)


def test_the_check_refuses_an_option_a_command_does_not_take() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        check_command(["/srv/kampus/.venv/bin/python", "manage.py", "ingest_mqtt", "--group", "kampus"])
    with pytest.raises(CommandError):
        check_command(["/srv/kampus/.venv/bin/python", "manage.py", "ingest_mqtt", "--share", "kampus"])
    with pytest.raises(AssertionError):
        check_command(["/srv/kampus/.venv/bin/python", "manage.py", "ingest_mqtt_shared"])
    with pytest.raises(AssertionError):
        check_command(["/srv/kampus/deploy/no-such-script.sh"])


def test_the_ingester_template_gives_each_instance_its_own_client_id_in_one_shared_group() -> None:
    [words] = unit_commands(DEPLOY / "kampus-ingester@.service")
    arguments = words[words.index("ingest_mqtt") + 1 :]
    assert arguments[arguments.index("--shared") + 1] == "kampus"
    assert arguments[arguments.index("--client-id") + 1] == "kampus-ingester-campus-host-1-2"
    # The raw line carries the instance, so two instances never share a persistent session.
    assert "%i" in (DEPLOY / "kampus-ingester@.service").read_text(encoding="utf-8")


def test_the_backup_timer_starts_the_backup_service() -> None:
    timer = (DEPLOY / "kampus-backup.timer").read_text(encoding="utf-8")
    assert re.search(r"^OnCalendar=", timer, re.MULTILINE)
    assert re.search(r"^Persistent=true", timer, re.MULTILINE)
    # A timer starts the service of its own name unless it says Unit=.
    assert "Unit=" not in timer
    assert (DEPLOY / "kampus-backup.service").exists()
