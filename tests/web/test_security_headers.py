"""Content-Security-Policy and companion headers; templates that a strict policy would break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from campus.security import (
    CONTENT_SECURITY_POLICY,
    CSP_EXEMPT_PREFIXES,
    ContentSecurityPolicyMiddleware,
    is_csp_exempt,
)

CSP_MIDDLEWARE = "campus.security.ContentSecurityPolicyMiddleware"


def with_csp_middleware() -> list[str]:
    """Return the project's middleware with the CSP middleware right after Django's SecurityMiddleware."""
    middleware = [name for name in settings.MIDDLEWARE if name != CSP_MIDDLEWARE]
    middleware.insert(middleware.index("django.middleware.security.SecurityMiddleware") + 1, CSP_MIDDLEWARE)
    return middleware


def run_middleware(path: str, response: HttpResponse | None = None) -> HttpResponse:
    middleware = ContentSecurityPolicyMiddleware(lambda request: response or HttpResponse("page"))
    return middleware(RequestFactory().get(path))


# --- The middleware on its own -------------------------------------------------------------------


def test_the_policy_allows_only_this_origin_and_no_inline_code():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))

    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }


@pytest.mark.parametrize("path", ["/", "/accessibility/", "/accounts/login/", "/bookings/mine/", "/api/v1/rooms"])
def test_our_pages_get_the_policy(path):
    response = run_middleware(path)

    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/admin/", "/admin/bookings/booking/", "/api/v1/docs", "/api/v1/docs/"])
def test_the_admin_and_the_api_docs_go_without_the_policy(path):
    response = run_middleware(path)

    assert is_csp_exempt(path)
    assert "Content-Security-Policy" not in response


@pytest.mark.parametrize("path", ["/", "/admin/", "/api/v1/docs"])
def test_permissions_and_opener_policies_go_on_every_response(path):
    response = run_middleware(path)

    assert response["Permissions-Policy"] == "geolocation=(), camera=(), microphone=()"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_a_policy_set_by_the_view_is_kept():
    own = HttpResponse("page")
    own["Content-Security-Policy"] = "default-src 'none'"

    response = run_middleware("/", own)

    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_the_exempt_prefixes_are_only_the_admin_and_the_api_docs():
    assert CSP_EXEMPT_PREFIXES == ("/admin/", "/api/v1/docs")
    assert not is_csp_exempt("/administration/")
    assert not is_csp_exempt("/api/v1/openapi.json")


# --- In the middleware stack ---------------------------------------------------------------------


@override_settings(MIDDLEWARE=with_csp_middleware())
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accessibility/", "/privacy/", "/accounts/login/", "/accounts/password_reset/"])
def test_pages_are_served_with_the_policy(path):
    response = Client().get(path)

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["Permissions-Policy"] == "geolocation=(), camera=(), microphone=()"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@override_settings(MIDDLEWARE=with_csp_middleware())
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/api/v1/docs"])
def test_the_admin_and_the_api_docs_are_served_without_the_policy(path):
    response = Client().get(path)

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert response["Permissions-Policy"] == "geolocation=(), camera=(), microphone=()"


# --- Templates a strict policy would break -------------------------------------------------------

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# The admin's own pages go without the policy (see CSP_EXEMPT_PREFIXES).
UNSCANNED = {TEMPLATES_DIR / "admin"}

INLINE_CODE = {
    "inline <script> without src": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE),
    "<style> block": re.compile(r"<style\b", re.IGNORECASE),
    "style= attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL),
    "on…= event handler": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL),
    "javascript: URL": re.compile(r"javascript\s*:", re.IGNORECASE),
}


def scanned_templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES_DIR.rglob("*.html")
        if not any(path.is_relative_to(excluded) for excluded in UNSCANNED)
    )


def test_there_are_templates_to_scan():
    names = {path.relative_to(TEMPLATES_DIR).as_posix() for path in scanned_templates()}

    assert {"base.html", "campus/home.html", "registration/login.html", "pages/accessibility_fi.html"} <= names


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    found = []
    for path in scanned_templates():
        text = path.read_text(encoding="utf-8")
        for what, pattern in INLINE_CODE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES_DIR)}:{line}: {what}: {match.group(0)[:80]!r}")

    assert not found, "A strict Content-Security-Policy would block:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("<script>alert(1)</script>", "inline <script> without src"),
        ('<script type="module">go()</script>', "inline <script> without src"),
        ("<style>p { color: red }</style>", "<style> block"),
        ('<p class="x" style="color: red">', "style= attribute"),
        ('<button type="button"\n  onclick="go()">', "on…= event handler"),
        ('<a href="javascript:go()">', "javascript: URL"),
    ],
)
def test_the_scan_finds_inline_code(snippet, what):
    assert INLINE_CODE[what].search(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/kampus/booking-form.js" defer></script>',
        '<p class="help" data-show-for="weekly">',
        '<option value="fi">Suomi</option>',
        "<p>Payment is done once = never twice</p>",
    ],
)
def test_the_scan_lets_ordinary_markup_pass(snippet):
    assert not any(pattern.search(snippet) for pattern in INLINE_CODE.values())
