"""Dates and durations in words, in the active language: what the booking pages and their errors say."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def long_date(day: dt.date) -> str:
    """Return ``day`` in the active language's long date format (month names, e.g. 20 May 2027)."""
    return formats.date_format(day, "DATE_FORMAT")


def duration_words(minutes: int) -> str:
    """Return a duration as people say it: "45 minutes", "2 hours", "1 h 30 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return ngettext("%(count)d minute", "%(count)d minutes", rest) % {"count": rest}
    if not rest:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}


def join_words(words: Sequence[str]) -> str:
    """Return "a", "a and b" or "a, b and c" in the active language."""
    words = [str(word) for word in words]
    if len(words) <= 1:
        return "".join(words)
    return _("%(first)s and %(last)s") % {"first": ", ".join(words[:-1]), "last": words[-1]}
