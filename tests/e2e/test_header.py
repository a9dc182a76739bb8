"""The signed-in header: one line at 1280 px for every role and language, and no API menu item."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DESKTOP, check_a11y, signed_in

pytestmark = pytest.mark.browser

ROWS = """() => {
  const header = document.querySelector('.site-header');
  const parts = [...header.querySelectorAll(':scope > *:not(.skip-link), .main-nav li')]
    .filter((element) => element.getClientRects().length);
  const tops = parts.map((element) => Math.round(element.getBoundingClientRect().top));
  const bottoms = parts.map((element) => Math.round(element.getBoundingClientRect().bottom));
  return {
    height: header.getBoundingClientRect().height,
    highestBottom: Math.min(...bottoms),
    lowestTop: Math.max(...tops),
    scrollWidth: document.scrollingElement.scrollWidth,
  };
}"""


@pytest.mark.parametrize("locale", ["en-GB", "fi-FI", "sv-SE"])
@pytest.mark.parametrize("person", ["campus_fm", "fm_of_lukio", "front_desk", "lukio_staff"])
def test_the_signed_in_header_is_one_line_at_1280_px(new_page, world, person, locale):
    page = new_page(locale=locale, viewport=DESKTOP)
    signed_in(page, getattr(world, person))
    assert page.locator("html").get_attribute("lang") == locale[:2]

    rows = page.evaluate(ROWS)

    # On one line every part of the header overlaps every other vertically.
    assert rows["lowestTop"] < rows["highestBottom"], f"the header of {person} ({locale}) wraps: {rows}"
    assert rows["height"] < 80, f"the header of {person} ({locale}) is {rows['height']} px high"
    assert rows["scrollWidth"] <= DESKTOP["width"]


def test_the_header_has_no_api_item_and_the_name_leads_to_the_profile(page, world):
    signed_in(page, world.lukio_staff)
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="API").count() == 0
    page.locator(".site-header").get_by_role("link", name="Liisa Lehtonen").click()
    page.wait_for_load_state()
    assert page.url.endswith("/profile/")
    assert page.get_by_role("heading", name="API tokens").is_visible()
    check_a11y(page, "profile")

    page.get_by_label("What is the token for?").fill("timetable sync")
    page.get_by_role("button", name="Create a token").click()
    page.wait_for_load_state()
    assert page.evaluate("() => document.activeElement.classList.contains('new-token')")
    assert page.get_by_label("Token", exact=True).input_value().startswith("kmp_")
    check_a11y(page, "profile-new-token")
