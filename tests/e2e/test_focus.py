"""Focus after an action: the result of "Check" and of a search gets focus, and date pickers show their focus ring."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import signed_in
from tests.e2e.test_flows import fill_booking_form, search_free_rooms

pytestmark = pytest.mark.browser

ACTIVE = "() => [document.activeElement.id, document.activeElement.tagName]"
FOCUS_RING = """() => {
  const css = getComputedStyle(document.activeElement);
  return [css.outlineStyle, parseFloat(css.outlineWidth), css.boxShadow];
}"""


def assert_focus_ring(page, what: str) -> None:
    style, width, shadow = page.evaluate(FOCUS_RING)
    assert (style != "none" and width >= 2) or shadow != "none", f"{what} shows no focus ring: {style} {width} {shadow}"


def test_after_a_search_focus_is_on_the_results(page, world):
    signed_in(page, world.lukio_staff, next_url="/rooms/find/")
    search_free_rooms(page, world)

    assert page.evaluate(ACTIVE) == ["results", "SECTION"]
    assert page.locator("#results").get_attribute("aria-labelledby") == "results-title"
    top = page.evaluate("() => document.getElementById('results').getBoundingClientRect().top")
    assert 0 <= top < 900, "the results are scrolled into view"


def test_after_check_focus_is_on_the_result_of_the_check(page, world):
    signed_in(page, world.lukio_staff, next_url="/bookings/new/")
    fill_booking_form(page, title="Maths", room=world.campus.classroom, day=world.day, start="10:00", end="11:00")
    page.get_by_role("button", name="Check").click()
    page.wait_for_load_state()

    assert page.evaluate(ACTIVE) == ["booking-preview", "SECTION"]
    assert "this can be booked" in page.locator("#booking-preview").inner_text()


def test_after_a_refused_check_focus_is_on_the_reason(page, world):
    signed_in(page, world.lukio_staff, next_url="/bookings/new/")
    fill_booking_form(page, title="Maths", room=world.campus.classroom, day=world.day, start="22:00", end="23:00")
    page.get_by_role("button", name="Check").click()
    page.wait_for_load_state()

    assert page.evaluate(ACTIVE) == ["booking-preview", "SECTION"]
    assert "cannot be booked" in page.locator("#booking-preview").inner_text()


RING_UNCOVERED = """() => {
  const input = document.activeElement;
  const box = input.getBoundingClientRect();
  const gap = 4;  // inside the 2px offset + 3px outline and the 5px shadow around the border
  const sides = {
    top: [box.left + box.width / 2, box.top - gap],
    bottom: [box.left + box.width / 2, box.bottom + gap],
    left: [box.left - gap, box.top + box.height / 2],
    right: [box.right + gap, box.top + box.height / 2],
  };
  const covered = [];
  for (const [side, [x, y]] of Object.entries(sides)) {
    const found = document.elementFromPoint(x, y);
    if (found && !found.contains(input)) { covered.push(side + ": " + found.tagName + "." + found.className); }
  }
  return covered;
}"""


def focus_from_the_keyboard(page, element) -> None:
    """Focus ``element`` as Tab does: focus it, step back, and Tab onto it again."""
    element.scroll_into_view_if_needed()
    element.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")


def test_the_date_pickers_show_their_whole_focus_ring(page, world):
    signed_in(page, world.lukio_staff, next_url="/rooms/find/")
    inputs = [("find-room date", page.get_by_label("Date", exact=True))]
    for what, date in inputs:
        focus_from_the_keyboard(page, date)
        assert page.evaluate("() => document.activeElement.type") == "date"
        assert_focus_ring(page, what)
        assert page.evaluate(RING_UNCOVERED) == [], f"something covers the focus ring of the {what}"

    page.goto("/bookings/new/")
    page.get_by_label("Repeat", exact=True).select_option("weekly")
    for what, date in [
        ("booking date", page.get_by_label("Date", exact=True)),
        ("last date", page.get_by_label("Last date")),
        ("except date", page.locator("#id_except_dates")),
    ]:
        focus_from_the_keyboard(page, date)
        assert page.evaluate("() => document.activeElement.type") == "date"
        assert_focus_ring(page, what)
        assert page.evaluate(RING_UNCOVERED) == [], f"something covers the focus ring of the {what}"
