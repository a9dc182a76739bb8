"""Finnish, Swedish and English: complete catalogues and how a request's language is chosen."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from campus.models import Role, User
from tests.conftest import require_service

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED_LANGUAGES = ["fi", "sv"]
WELCOME = {"fi": "Tervetuloa Kampukseen", "sv": "Välkommen till Kampus", "en": "Welcome to Kampus"}


# --- The catalogues ------------------------------------------------------------------------------


@dataclass
class PoEntry:
    """One message of a .po file."""

    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """Return the message's key in a compiled catalogue (context, EOT, msgid)."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+"(.*)"$')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(1)), text)


def read_po(path: Path) -> list[PoEntry]:
    """Return the live entries of a .po file, header and obsolete (#~) entries left out."""
    entries: list[PoEntry] = []
    entry, target = PoEntry(line=1), None

    def finish() -> None:
        nonlocal entry, target
        if target is not None and entry.msgid:
            entries.append(entry)
        entry, target = PoEntry(line=number + 1), None

    for number, raw in enumerate([*path.read_text(encoding="utf-8").splitlines(), ""], start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            if target is not None:
                finish()
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            if target is not None:
                finish()
        elif match := _KEYWORD.match(line):
            keyword, index, text = match.groups()
            if keyword == "msgstr":
                target = ("msgstr", int(index or 0))
                entry.msgstr[target[1]] = _unescape(text)
            else:
                target = (keyword, None)
                setattr(entry, keyword, _unescape(text))
        elif line.startswith('"') and target is not None:
            text = _unescape(line[1:-1])
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += text
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + text)
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
    return entries


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def describe(entries: list[PoEntry], language: str) -> str:
    return "\n".join(f"  {po_path(language).relative_to(LOCALE.parent)}:{e.line}: {e.msgid!r}" for e in entries)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_message_is_translated(language):
    entries = read_po(po_path(language))
    untranslated = [
        entry for entry in entries if "fuzzy" not in entry.flags and not all(text for text in entry.msgstr.values())
    ]

    assert entries, f"{po_path(language)} has no messages"
    assert not untranslated, (
        f"{len(untranslated)} message(s) lack a {language} translation (fill them in, then run .ci/messages.sh):\n"
        + describe(untranslated, language)
    )


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_no_translation_is_left_fuzzy(language):
    # Fuzzy entries are guesses by msgmerge; they are not compiled, so the page shows English.
    fuzzy = [entry for entry in read_po(po_path(language)) if "fuzzy" in entry.flags]

    assert not fuzzy, (
        f"{len(fuzzy)} {language} translation(s) are marked fuzzy: check each, remove the flag, "
        "run .ci/messages.sh:\n" + describe(fuzzy, language)
    )


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(language):
    po = po_path(language)
    with po.with_suffix(".mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in read_po(po):
        if "fuzzy" in entry.flags or not all(entry.msgstr.values()):
            continue
        if entry.msgid_plural is None:
            compiled = {0: catalogue.get(entry.key)}
        else:
            compiled = {index: catalogue.get((entry.key, index)) for index in entry.msgstr}
        if compiled != entry.msgstr:
            stale.append(entry)

    assert not stale, f"{po.with_suffix('.mo')} is out of date: run .ci/messages.sh\n" + describe(stale, language)


def test_the_catalogues_hold_every_message_of_the_source():
    if not all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msgcmp")):
        require_service("GNU gettext", "xgettext, msgmerge or msgcmp is not on PATH; apt-get install gettext")
    script = Path(settings.BASE_DIR) / ".ci" / "messages.sh"

    run = subprocess.run(
        ["bash", str(script), "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, "PY": sys.executable},
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"


def test_model_choices_are_translated():
    with translation.override("fi"):
        assert str(Role.FACILITY_MANAGER.label) == "Tilavastaava"
    with translation.override("sv"):
        assert str(Role.FACILITY_MANAGER.label) == "Lokalansvarig"


# --- Choosing the language of a request ---------------------------------------------------------


@pytest.fixture
def home(db):
    """Fetch the front page with the given client and headers."""

    def fetch(client: Client | None = None, **headers: str):
        return (client or Client()).get("/", headers=headers)

    return fetch


def assert_language(response, language: str) -> None:
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text
    assert WELCOME[language] in response.text
    assert response["Content-Language"] == language


def test_the_default_language_is_finnish(home):
    assert_language(home(), "fi")


@pytest.mark.parametrize("language", ["sv", "en", "fi"])
def test_accept_language_picks_the_page_language(home, language):
    assert_language(home(accept_language=f"{language},en;q=0.5"), language)


def test_accept_language_with_a_region_picks_the_language(home):
    assert_language(home(accept_language="sv-FI,sv;q=0.9"), "sv")


def test_an_unknown_language_falls_back_to_finnish(home):
    assert_language(home(accept_language="de-DE,de;q=0.9"), "fi")


def test_an_unknown_language_cookie_falls_back_to_finnish(home):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"

    assert_language(home(client), "fi")


def test_the_language_cookie_beats_accept_language(home):
    client = Client()
    client.cookies["kampus_language"] = "en"

    assert_language(home(client, accept_language="sv"), "en")


def test_the_users_preferred_language_beats_the_cookie(home, lukio_staff):
    User.objects.filter(pk=lukio_staff.pk).update(preferred_language="sv")
    client = Client()
    client.force_login(lukio_staff)
    client.cookies["kampus_language"] = "en"

    assert_language(home(client, accept_language="en"), "sv")


def test_a_user_without_a_preferred_language_gets_the_cookies(home, lukio_staff):
    client = Client()
    client.force_login(lukio_staff)
    client.cookies["kampus_language"] = "sv"

    assert_language(home(client, accept_language="en"), "sv")


def test_setlang_sets_the_language_cookie(home):
    client = Client()

    response = client.post("/i18n/setlang/", {"language": "sv", "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies["kampus_language"].value == "sv"
    assert_language(home(client, accept_language="en"), "sv")


def test_setlang_to_a_language_kampus_does_not_offer_leaves_pages_in_finnish(home):
    client = Client()

    client.post("/i18n/setlang/", {"language": "de", "next": "/"})

    assert_language(home(client, accept_language="de"), "fi")


@pytest.mark.parametrize(
    ("language", "header"),
    [("fi", "Kampuksen ylläpito"), ("sv", "Administration av Kampus"), ("en", "Kampus administration")],
)
def test_the_admin_header_is_translated(campus_fm, language, header):
    client = Client()
    client.force_login(campus_fm)

    response = client.get("/admin/", headers={"accept-language": language})

    assert response.status_code == 200
    assert header in response.text
