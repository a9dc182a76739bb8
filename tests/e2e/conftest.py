"""End-to-end harness: Debian's Chromium, driven by Playwright's sync API, against pytest-django's live server.

``playwright install`` cannot download browsers here, so the tests launch the system Chromium
(``KAMPUS_CHROMIUM``, else ``chromium`` on PATH). Without Chromium or the playwright package the
tests are skipped with what to install, and fail under ``CI=true`` (``tests.conftest.require_service``).

Every context is made with ``bypass_csp=True``: Kampus sends ``Content-Security-Policy: script-src 'self'``,
which would block the ``<script>`` element ``page.add_script_tag`` inserts to load axe-core. Bypassing
the policy in the test browser changes nothing the page itself does (it has no inline scripts); that the
pages keep to the policy is checked separately by ``test_pages_keep_to_the_content_security_policy``,
in a context that does *not* bypass it.

``check_a11y`` runs axe-core (vendored in ``vendor/axe.min.js``, see ``vendor/README.md``) with the
WCAG 2.0/2.1 A and AA rules, saves a full-page screenshot to ``test-artifacts/screenshots/<name>.png``,
appends a summary line to ``test-artifacts/axe-results.jsonl`` and fails on serious or critical violations.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Playwright's sync API runs an event loop in the test thread; Django refuses database access from a
# thread with a running loop unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest

from campus.models import OpeningHours, User
from tests.bookings.conftest import at, today
from tests.conftest import JointCampus, require_service

PASSWORD = "pass-for-tests-1"
HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "vendor" / "axe.min.js"
ARTIFACTS = HERE.parents[1] / "test-artifacts"  # the repository's git-ignored /test-artifacts/
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_RESULTS = ARTIFACTS / "axe-results.jsonl"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DEFAULT_TIMEOUT_MS = 10_000


def chromium_path() -> str | None:
    """Return the Chromium to launch: ``KAMPUS_CHROMIUM``, else ``chromium`` (or ``chromium-browser``) on PATH."""
    configured = os.environ.get("KAMPUS_CHROMIUM", "").strip()
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return _chromium_on_path()


def _chromium_on_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_missing_reason(*, configured: str, found_on_path: str | None) -> str:
    """Return why no Chromium can be launched, given ``KAMPUS_CHROMIUM`` and what is on PATH."""
    if configured:
        return f"KAMPUS_CHROMIUM={configured} is not an executable file; point it at a Chromium binary or unset it"
    return "no chromium on PATH; apt-get install chromium (or set KAMPUS_CHROMIUM to a Chromium binary)"


# --- the browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Launch one headless Chromium for the whole run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service(
            "Playwright", "the playwright package is not installed; pip install playwright (or pip install -e '.[dev]')"
        )
    executable = chromium_path()
    if executable is None:
        reason = chromium_missing_reason(
            configured=os.environ.get("KAMPUS_CHROMIUM", "").strip(), found_on_path=_chromium_on_path()
        )
        require_service("Chromium", reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the test item, so that fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_page(request: pytest.FixtureRequest, browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """Return a factory of pages, each in a fresh context (no cookies) against the live server.

    ``new_page(locale="fi-FI", viewport=PHONE, phone=True, bypass_csp=False)``; contexts close after the test,
    and when the test failed, each page is first saved to ``test-artifacts/screenshots/FAILED-<test>-<n>.png``.
    """
    contexts: list[Any] = []

    def make(
        *, locale: str = "en-GB", viewport: dict[str, int] = DESKTOP, phone: bool = False, bypass_csp: bool = True
    ) -> Any:
        options: dict[str, Any] = {
            "base_url": live_server.url,
            "locale": locale,
            "viewport": viewport,
            "timezone_id": "Europe/Helsinki",
            "bypass_csp": bypass_csp,
        }
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for number, context in enumerate(contexts, start=1):
        if failed:
            _save_failure(context, f"FAILED-{_safe_name(request.node.name)}-{number}")
        context.close()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


def _save_failure(context: Any, name: str) -> None:
    """Save a screenshot of each page of ``context``; never let that hide the test's own failure."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for index, open_page in enumerate(context.pages):
        suffix = f"-{index}" if index else ""
        try:
            open_page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True, timeout=5_000)
        except Exception:  # the page may be gone or stuck; the failure report matters more
            continue


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """Return a desktop page (1280×900, en-GB) in a fresh context."""
    return new_page()


@pytest.fixture
def phone(new_page: Callable[..., Any]) -> Any:
    """Return a phone page (390×844, touch, en-GB) in a fresh context."""
    return new_page(viewport=PHONE, phone=True)


# --- signing in -------------------------------------------------------------------------------------

# The sign-in form's names in English, Finnish and Swedish, so that a test may sign in in any language.
USERNAME_LABEL = re.compile(r"user ?name|käyttäjätunnus|användarnamn", re.IGNORECASE)
PASSWORD_LABEL = re.compile(r"^(password|salasana|lösenord)", re.IGNORECASE)
SIGN_IN_BUTTON = re.compile(r"sign in|log in|kirjaudu|logga in", re.IGNORECASE)
SIGN_OUT_BUTTON = re.compile(r"sign out|log out|kirjaudu ulos|logga ut", re.IGNORECASE)


def open_login(page: Any, next_url: str = "/") -> Any:
    """Open the site's sign-in page and return the response."""
    response = page.goto(f"/accounts/login/?next={next_url}")
    assert response is not None, "no response from /accounts/login/"
    assert response.status == 200, f"/accounts/login/ answered HTTP {response.status}"
    return response


def signed_in(page: Any, user: User, *, password: str = PASSWORD, next_url: str = "/") -> Any:
    """Sign ``user`` in through the real sign-in form, as a person would; return ``page`` on ``next_url``."""
    open_login(page, next_url)
    page.get_by_label(USERNAME_LABEL).fill(user.username)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name=SIGN_IN_BUTTON).click()
    page.wait_for_load_state()
    sign_out = page.get_by_role("button", name=SIGN_OUT_BUTTON)
    assert sign_out.count() == 1, f"{user.username} was not signed in; the page says: {page.inner_text('main')[:400]}"
    return page


# --- accessibility ----------------------------------------------------------------------------------

_results_started = False


def _record(line: dict[str, Any]) -> None:
    """Append ``line`` to test-artifacts/axe-results.jsonl, starting the file afresh in each run."""
    global _results_started
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    mode = "a" if _results_started else "w"
    _results_started = True
    with AXE_RESULTS.open(mode, encoding="utf-8") as results:
        results.write(json.dumps(line, ensure_ascii=False) + "\n")


AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: tags, resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 300), summary: n.failureSummary})),
  }));
}"""


def check_a11y(page: Any, name: str, *, record: bool = True) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.1 A/AA rules on ``page``; screenshot it; fail on serious or critical violations.

    Returns all violations (minor and moderate ones are recorded in axe-results.jsonl, not failed).
    ``record=False`` leaves out the screenshot and the results line (for the harness's own tests).
    """
    page.wait_for_load_state()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(AXE_RUN, AXE_TAGS)
    if record:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        by_impact = Counter(violation["impact"] or "unknown" for violation in violations)
        _record(
            {
                "page": name,
                "url": page.url,
                "lang": page.evaluate("() => document.documentElement.lang"),
                "violations": dict(by_impact),
                "rules": {violation["id"]: violation["impact"] for violation in violations},
            }
        )
    blocking = [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"{name} ({page.url}): {len(blocking)} serious/critical accessibility violation(s):"]
        for violation in blocking:
            lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
            for node in violation["nodes"][:8]:
                lines.append(f"    at {node['target']}: {node['html']}")
                if node["summary"]:
                    lines.append("      " + node["summary"].replace("\n", "\n      "))
        pytest.fail("\n".join(lines), pytrace=False)
    return violations


# --- a small world --------------------------------------------------------------------------------


def next_weekday(weekday: int, *, at_least_days: int = 2) -> dt.date:
    """Return the first date ``at_least_days`` or more after today (Helsinki) that falls on ``weekday``."""
    earliest = today() + dt.timedelta(days=at_least_days)
    return earliest + dt.timedelta(days=(weekday - earliest.weekday()) % 7)


@dataclass
class World:
    """The joint campus with its people, and a Wednesday ahead on which every test books."""

    campus: JointCampus
    day: dt.date
    lukio_staff: User
    vocational_staff: User
    fm_of_lukio: User
    campus_fm: User
    front_desk: User

    def at(self, hour: int, minute: int = 0, *, days: int = 0) -> dt.datetime:
        """Return the campus wall-clock time hour:minute on ``day`` (plus ``days``)."""
        return at(self.day + dt.timedelta(days=days), hour, minute)


@pytest.fixture
def world(
    transactional_db: None,
    joint_campus: JointCampus,
    lukio_staff: User,
    vocational_staff: User,
    fm_of_lukio: User,
    campus_fm: User,
    front_desk: User,
) -> World:
    """Return the joint campus, open 7–21 on weekdays as in the fixtures, with a Wednesday 2–8 days ahead."""
    assert OpeningHours.objects.filter(building=joint_campus.main_building, weekday=2).exists()
    return World(
        campus=joint_campus,
        day=next_weekday(2),
        lukio_staff=lukio_staff,
        vocational_staff=vocational_staff,
        fm_of_lukio=fm_of_lukio,
        campus_fm=campus_fm,
        front_desk=front_desk,
    )
