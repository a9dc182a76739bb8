"""Without node or ical.js the calendar tests say what to install, and fail under CI=true."""

from __future__ import annotations

import pytest

from tests import calendar_clients


def test_a_missing_node_asks_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "")

    reason = calendar_clients.icaljs_missing_reason()

    assert reason is not None
    assert "apt-get install nodejs npm" in reason


def test_ical_js_not_yet_installed_asks_for_npm_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(calendar_clients, "ICAL_JS_DIR", tmp_path)

    reason = calendar_clients.icaljs_missing_reason()

    assert reason is not None
    assert "npm ci --prefix tests/ical_js" in reason


def test_without_ical_js_a_test_skips_outside_ci_and_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(calendar_clients, "ICAL_JS_DIR", tmp_path)

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="npm ci"):
        calendar_clients.icaljs_occurrences(b"", None, None)

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="npm ci"):
        calendar_clients.icaljs_occurrences(b"", None, None)
