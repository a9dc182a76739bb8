"""The repeat editor of the booking form: one ``RepeatChoice``, rendered as an RFC 5545 rule and as a sentence.

``repeat_rule`` and ``repeat_summary`` are two pure functions of the same choice;
``repeat_choice_from_rrule`` reads a stored series rule back into the editor's fields.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from bookings import recurrence
from bookings.errors import InvalidRecurrence
from bookings.forms.words import join_words, long_date

ICAL_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Frequency:
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class MonthlyBy:
    DATE = "date"
    WEEKDAY = "weekday"


class Ends:
    UNTIL = "until"
    COUNT = "count"
    TERM = "term"  # the last day of the term that holds the first date


FREQUENCY_CHOICES = [
    (Frequency.NONE, gettext_lazy("Does not repeat")),
    (Frequency.DAILY, gettext_lazy("Every day")),
    (Frequency.WEEKLY, gettext_lazy("Every week")),
    (Frequency.MONTHLY, gettext_lazy("Every month")),
]
ORDINAL_CHOICES = [
    (1, pgettext_lazy("the … weekday of the month", "first")),
    (2, pgettext_lazy("the … weekday of the month", "second")),
    (3, pgettext_lazy("the … weekday of the month", "third")),
    (4, pgettext_lazy("the … weekday of the month", "fourth")),
    (-1, pgettext_lazy("the … weekday of the month", "last")),
]
WEEKDAY_CHOICES = [(number, WEEKDAYS[number]) for number in range(7)]


def ordinal_of(day: dt.date) -> int:
    """Return which occurrence of its weekday ``day`` is in its month (1 for the first Tuesday…)."""
    return (day.day - 1) // 7 + 1


def default_ordinal(day: dt.date) -> int:
    """Return the ordinal the form offers for ``day``: 1–4, or -1 (the last) for a fifth weekday."""
    ordinal = ordinal_of(day)
    return ordinal if ordinal <= 4 else -1


def is_last_of_month(day: dt.date) -> bool:
    """Return whether ``day`` is the last of its weekday in its month."""
    return day.day + 7 > calendar.monthrange(day.year, day.month)[1]


@dataclass(frozen=True)
class RepeatChoice:
    """What a person chose in the repeat fields of the booking form, starting on ``first_date``.

    ``weekdays`` and ``weekday`` count from 0 = Monday; ``ordinal`` is 1–4 or -1 for the last.
    """

    frequency: str
    first_date: dt.date
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    monthly_by: str = MonthlyBy.DATE
    ordinal: int | None = None
    weekday: int | None = None
    until: dt.date | None = None
    count: int | None = None
    except_dates: tuple[dt.date, ...] = ()

    @property
    def repeats(self) -> bool:
        return self.frequency != Frequency.NONE

    @property
    def chosen_weekdays(self) -> tuple[int, ...]:
        """Return the weekly weekdays, the first date's own weekday when none was ticked."""
        return tuple(sorted(set(self.weekdays))) or (self.first_date.weekday(),)

    @property
    def monthly_weekday(self) -> tuple[int, int]:
        """Return (ordinal, weekday) of a monthly-by-weekday rule, defaulting to the first date's."""
        weekday = self.first_date.weekday() if self.weekday is None else self.weekday
        ordinal = default_ordinal(self.first_date) if self.ordinal is None else self.ordinal
        return ordinal, weekday


def repeat_rule(choice: RepeatChoice) -> str | None:
    """Return the RFC 5545 RRULE of ``choice`` (UNTIL as a local date), or None when it does not repeat.

    >>> repeat_rule(RepeatChoice("weekly", dt.date(2027, 3, 2), weekdays=(1, 3), until=dt.date(2027, 5, 20)))
    'FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270520'
    """
    if not choice.repeats:
        return None
    parts = [f"FREQ={choice.frequency.upper()}"]
    if choice.interval > 1:
        parts.append(f"INTERVAL={choice.interval}")
    if choice.frequency == Frequency.WEEKLY and choice.weekdays:
        parts.append("BYDAY=" + ",".join(ICAL_WEEKDAYS[day] for day in choice.chosen_weekdays))
    elif choice.frequency == Frequency.MONTHLY:
        if choice.monthly_by == MonthlyBy.WEEKDAY:
            ordinal, weekday = choice.monthly_weekday
            parts.append(f"BYDAY={ordinal}{ICAL_WEEKDAYS[weekday]}")
        else:
            parts.append(f"BYMONTHDAY={choice.first_date.day}")
    if choice.count is not None:
        parts.append(f"COUNT={choice.count}")
    elif choice.until is not None:
        parts.append(f"UNTIL={choice.until:%Y%m%d}")
    return ";".join(parts)


def _how_often(choice: RepeatChoice) -> str:
    n = choice.interval
    if choice.frequency == Frequency.DAILY:
        return ngettext("Every day", "Every %(n)d days", n) % {"n": n}
    if choice.frequency == Frequency.WEEKLY:
        days = join_words([WEEKDAYS[day] for day in choice.chosen_weekdays])
        return ngettext("Every %(weekdays)s", "Every %(n)d weeks on %(weekdays)s", n) % {"n": n, "weekdays": days}
    if choice.monthly_by == MonthlyBy.WEEKDAY:
        ordinal, weekday = choice.monthly_weekday
        words = {
            "n": n,
            "ordinal": dict(ORDINAL_CHOICES)[ordinal],
            "weekday": WEEKDAYS[weekday],
        }
        return (
            ngettext(
                "Every month on the %(ordinal)s %(weekday)s", "Every %(n)d months on the %(ordinal)s %(weekday)s", n
            )
            % words
        )
    return ngettext("Every month on day %(day)d", "Every %(n)d months on day %(day)d", n) % {
        "n": n,
        "day": choice.first_date.day,
    }


def repeat_summary(choice: RepeatChoice) -> str | None:
    """Return ``choice`` as a sentence, e.g. "Every Tuesday until 20 May 2027, except 3 March 2027".

    Built from the same fields as ``repeat_rule``; dates in the active language's long format.
    """
    if not choice.repeats:
        return None
    text = _how_often(choice)
    if choice.count is not None:
        text = ngettext("%(rule)s, %(count)d time", "%(rule)s, %(count)d times", choice.count) % {
            "rule": text,
            "count": choice.count,
        }
    elif choice.until is not None:
        text = _("%(rule)s until %(date)s") % {"rule": text, "date": long_date(choice.until)}
    if choice.except_dates:
        text = _("%(rule)s, except %(dates)s") % {
            "rule": text,
            "dates": join_words([long_date(day) for day in sorted(choice.except_dates)]),
        }
    return text


def first_date_problem(choice: RepeatChoice) -> str | None:
    """Return why ``choice.first_date`` is not itself an occurrence of the repeat, or None when it is."""
    day = choice.first_date
    if choice.frequency == Frequency.WEEKLY and choice.weekdays and day.weekday() not in choice.weekdays:
        return _("%(date)s is a %(weekday)s: the first date must be one of the chosen weekdays (%(weekdays)s).") % {
            "date": long_date(day),
            "weekday": WEEKDAYS[day.weekday()],
            "weekdays": join_words([WEEKDAYS[d] for d in choice.chosen_weekdays]),
        }
    if choice.frequency == Frequency.MONTHLY and choice.monthly_by == MonthlyBy.WEEKDAY:
        ordinal, weekday = choice.monthly_weekday
        matches = day.weekday() == weekday and (is_last_of_month(day) if ordinal == -1 else ordinal_of(day) == ordinal)
        if not matches:
            return _("%(date)s is not the %(ordinal)s %(weekday)s of its month; choose a date that is.") % {
                "date": long_date(day),
                "ordinal": dict(ORDINAL_CHOICES)[ordinal],
                "weekday": WEEKDAYS[weekday],
            }
    return None


def repeat_choice_from_rrule(
    rule: str, *, first_date: dt.date, zone: zoneinfo.ZoneInfo, except_dates: Iterable[str] = ()
) -> RepeatChoice | None:
    """Return the RepeatChoice a stored series rule stands for, or None if the form cannot express it."""
    try:
        repeat = recurrence.RepeatRule.parse(rule, zone=zone)
    except InvalidRecurrence:
        return None
    frequency = repeat.freq.lower()
    if repeat.bymonth:  # beyond what the form offers
        return None
    choice: dict[str, Any] = {"frequency": frequency, "first_date": first_date, "interval": repeat.interval}
    if repeat.count is not None:
        choice["count"] = repeat.count
    if repeat.until is not None:
        choice["until"] = repeat.until.astimezone(zone).date()
    if frequency == Frequency.WEEKLY and repeat.byday:
        if any(len(token) > 2 for token in repeat.byday):
            return None
        choice["weekdays"] = repeat.weekdays
    elif frequency == Frequency.MONTHLY and repeat.byday:
        if len(repeat.byday) != 1 or len(repeat.byday[0]) == 2:
            return None
        choice["monthly_by"] = MonthlyBy.WEEKDAY
        choice["ordinal"] = int(repeat.byday[0][:-2])
        choice["weekday"] = repeat.weekdays[0]
        if choice["ordinal"] not in dict(ORDINAL_CHOICES):
            return None
    elif repeat.byday:
        return None
    if repeat.bymonthday and (frequency != Frequency.MONTHLY or repeat.bymonthday != (first_date.day,)):
        return None
    try:
        excepted = [_local_date(value, zone) for value in except_dates]
    except ValueError:
        return None
    return RepeatChoice(**choice, except_dates=tuple(excepted))


def _local_date(value: str, zone: zoneinfo.ZoneInfo) -> dt.date:
    """Return the local date of a stored excluded start (an ISO date, or an ISO date-time)."""
    if "T" not in value:
        return dt.date.fromisoformat(value)
    moment = dt.datetime.fromisoformat(value)
    return moment.astimezone(zone).date() if moment.tzinfo else moment.date()
