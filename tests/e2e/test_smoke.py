"""The harness itself: it reaches the live server, signs in through the form, and axe-core does find problems."""

import pytest

from tests.e2e.conftest import check_a11y, signed_in

pytestmark = pytest.mark.browser

BROKEN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body><main>
<h1>Broken on purpose</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text" name="nameless">
<p style="color:#bbb;background:#fff">Pale grey text on white.</p>
</main></body></html>"""


def test_home_page_is_served(page, world):
    response = page.goto("/")
    assert response is not None
    assert response.status == 200
    assert page.get_by_role("link", name="Kampus").first.is_visible()


def test_a_teacher_signs_in_through_the_form(page, world):
    signed_in(page, world.lukio_staff)
    assert page.get_by_text("Liisa Lehtonen").is_visible()


def test_wrong_password_is_refused_with_a_message(page, world):
    with pytest.raises(AssertionError, match="was not signed in"):
        signed_in(page, world.lukio_staff, password="not-the-password")
    assert page.get_by_role("alert").is_visible()


def test_axe_reports_serious_problems_with_help_and_targets(page):
    page.set_content(BROKEN_PAGE)
    with pytest.raises(pytest.fail.Exception) as failure:
        check_a11y(page, "harness-self-test", record=False)
    message = str(failure.value)
    for rule in ("image-alt", "label", "color-contrast"):
        assert rule in message
    assert "at img" in message
    assert "dequeuniversity.com" in message
