"""The years Kampus accepts for any date or time it is given (pages, API, admin, imports)."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from campus.exceptions import InvalidInput

# The years a date or time may fall in, on the pages and in the API: far beyond any booking, and
# far enough from the ends of Python's calendar that moving a time between zones never overflows.
FIRST_YEAR = 1900
LAST_YEAR = 2200


def within_years(value: dt.date) -> bool:
    """Return whether ``value`` (a date or a datetime) falls in FIRST_YEAR–LAST_YEAR."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def date_out_of_range_message() -> str:
    return _("Give a date between %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}


def require_within_years(value: dt.date, field: str) -> None:
    """Refuse ``value`` (a date or datetime) outside FIRST_YEAR–LAST_YEAR with a message naming ``field``."""
    if not within_years(value):
        message = date_out_of_range_message()
        raise InvalidInput(message, errors=[{"field": field, "message": message}])
