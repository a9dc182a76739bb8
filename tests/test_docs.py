"""The README, docs/ and deploy/ name only commands and files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "deploy").iterdir())]
# `manage.py migrate`, `./kampus manage create_token`, `python manage.py seed_demo`
COMMAND = re.compile(r"(?:manage\.py|\./kampus manage)\s+([a-z][a-z0-9_]*)")
# A path in backticks: a word with a slash or a dot-extension, not a URL or an absolute path.
BACKTICKED_PATH = re.compile(
    r"`((?:\.?[\w-]+/)*\.?[\w.@-]+(?:/|\.(?:py|md|toml|csv|conf|service|example|sh|txt|json)))`"
)
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
EMAIL = re.compile(r"[\w.-]+@[\w-]+(?:\.[\w-]+)+")
# Made by `./kampus run` or `collectstatic`, not in the repository.
GENERATED = {".venv", ".secret_key", "db.sqlite3", "staticfiles/"}
REPOSITORY_FILES = {path.name for path in ROOT.rglob("*") if not {".git", ".venv", "node_modules"} & set(path.parts)}


def exists(path: str) -> bool:
    """Tell whether ``path`` is in the repository: from its root when it has a slash, else anywhere in it."""
    if "/" in path.rstrip("/"):
        return (ROOT / path).exists()
    return (ROOT / path).exists() or path in REPOSITORY_FILES


def document_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("document", DOCUMENTS, ids=document_id)
def test_every_named_management_command_exists(document: Path):
    commands = get_commands()
    named = set(COMMAND.findall(document.read_text(encoding="utf-8")))

    assert sorted(named - set(commands)) == []


@pytest.mark.parametrize("document", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))], ids=document_id)
def test_every_named_file_and_link_exists(document: Path):
    text = document.read_text(encoding="utf-8")
    backticked = {path for path in BACKTICKED_PATH.findall(text) if path not in GENERATED and not EMAIL.fullmatch(path)}
    linked = {link for link in MARKDOWN_LINK.findall(text) if "://" not in link and not link.startswith("mailto:")}

    missing_paths = sorted(path for path in backticked if not exists(path))
    missing_links = sorted(link for link in linked if not (document.parent / link).exists())

    assert missing_paths == []
    assert missing_links == []
