"""Repeat rules (RFC 5545 RRULE): parsed once into a ``RepeatRule``, expanded with python-dateutil.

Every part of Kampus that reads a rule (booking, series changes, the repeat editor, the admin, the
human summary, the stored series' exceptions) goes through ``RepeatRule.parse``, so a rule means
the same everywhere.

dateutil keeps the wall-clock time of a zone-aware DTSTART for every occurrence, so a 10:00 lesson
stays at 10:00 local time across daylight-saving changes; zoneinfo supplies each day's offset. A
wall-clock time that does not exist on a date (the spring change) or exists twice (the autumn
change) is refused, never silently shifted.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from dateutil.rrule import rrulestr
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.errors import InvalidRecurrence

MAX_OCCURRENCES = 500
MAX_DAYS_AHEAD = 400
MAX_INTERVAL = 1000

ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY")
# The order in which a rule is written out (FREQ first, the end last), so equal rules read alike.
PART_ORDER = ("FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "WKST", "COUNT", "UNTIL")
ALLOWED_PARTS = set(PART_ORDER)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"([+-]?)([0-9]{0,2})(MO|TU|WE|TH|FR|SA|SU)")


@dataclass(frozen=True)
class Occurrence:
    start: dt.datetime
    end: dt.datetime


def _refuse(message: str, field: str = "rrule") -> InvalidRecurrence:
    return InvalidRecurrence(message, errors=[{"field": field, "message": message}])


def _numbers(key: str, value: str, low: int, high: int, *, signed: bool = False) -> tuple[int, ...]:
    """Return the comma-separated whole numbers of ``value`` (leading zeros allowed, as RFC 5545 does)."""
    pattern = "[+-]?[0-9]{1,3}" if signed else "[0-9]{1,3}"
    numbers = []
    for item in value.split(","):
        number = int(item) if re.fullmatch(pattern, item) else None
        if number is None or not low <= abs(number) <= high or number == 0:
            raise _refuse(
                _("%(part)s takes numbers from %(low)d to %(high)d, separated by commas (got “%(value)s”).")
                % {"part": key, "low": low, "high": high, "value": value}
            )
        numbers.append(number)
    return tuple(numbers)


@dataclass(frozen=True)
class RepeatRule:
    """A validated repeat rule of the subset Kampus supports (daily, weekly and monthly series).

    ``until`` is an aware UTC moment; ``byday`` holds tokens like ``MO``, ``1MO`` or ``-1FR``.
    """

    freq: str
    interval: int = 1
    count: int | None = None
    until: dt.datetime | None = None
    bymonth: tuple[int, ...] = ()
    bymonthday: tuple[int, ...] = ()
    byday: tuple[str, ...] = ()
    wkst: str | None = None

    @classmethod
    def parse(cls, text: str, *, zone: zoneinfo.ZoneInfo) -> RepeatRule:
        """Return the rule ``text`` stands for; raise InvalidRecurrence saying what to fix.

        A local UNTIL (a date, or a date-time without Z) is read in the campus zone; a bare date
        includes that whole day, as people mean by "until 20 May".
        """
        body = text.strip()
        if body.upper().startswith("RRULE:"):
            body = body[6:]
        if not body:
            raise _refuse(_("The repeat rule is empty."))
        parts: dict[str, str] = {}
        for chunk in body.split(";"):
            if not chunk:
                continue
            key, sep, value = chunk.partition("=")
            key = key.strip().upper()
            if not sep or not value.strip():
                raise _refuse(_("“%(part)s” is not of the form NAME=VALUE.") % {"part": chunk})
            if key not in ALLOWED_PARTS:
                raise _refuse(
                    _("%(part)s is not supported; use %(allowed)s.")
                    % {"part": key, "allowed": ", ".join(sorted(ALLOWED_PARTS))}
                )
            if key in parts:
                raise _refuse(_("%(part)s is given twice.") % {"part": key})
            parts[key] = value.strip().upper()
        freq = parts.get("FREQ")
        if freq not in ALLOWED_FREQUENCIES:
            raise _refuse(_("FREQ must be DAILY, WEEKLY or MONTHLY."))
        if "COUNT" in parts and "UNTIL" in parts:
            raise _refuse(_("Give COUNT or UNTIL, not both."))
        if "COUNT" not in parts and "UNTIL" not in parts:
            raise _refuse(_("Give COUNT or UNTIL so that the series ends."))
        fields: dict = {"freq": freq}
        if "INTERVAL" in parts:
            (fields["interval"],) = _whole_number("INTERVAL", parts["INTERVAL"], MAX_INTERVAL)
        if "COUNT" in parts:
            (fields["count"],) = _whole_number("COUNT", parts["COUNT"], MAX_OCCURRENCES)
        if "UNTIL" in parts:
            fields["until"] = _until_in_utc(parts["UNTIL"], zone)
        if "BYMONTH" in parts:
            fields["bymonth"] = _numbers("BYMONTH", parts["BYMONTH"], 1, 12)
        if "BYMONTHDAY" in parts:
            fields["bymonthday"] = _numbers("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, signed=True)
        if "BYDAY" in parts:
            fields["byday"] = tuple(_byday_token(item, freq) for item in parts["BYDAY"].split(","))
        if "WKST" in parts:
            if parts["WKST"] not in WEEKDAYS:
                raise _refuse(_("WKST must be a weekday: %(days)s.") % {"days": ", ".join(WEEKDAYS)})
            fields["wkst"] = parts["WKST"]
        return cls(**fields)

    def __str__(self) -> str:
        values = {
            "FREQ": self.freq,
            "INTERVAL": str(self.interval) if self.interval != 1 else None,
            "BYMONTH": ",".join(map(str, self.bymonth)) or None,
            "BYMONTHDAY": ",".join(map(str, self.bymonthday)) or None,
            "BYDAY": ",".join(self.byday) or None,
            "WKST": self.wkst,
            "COUNT": str(self.count) if self.count is not None else None,
            "UNTIL": self.until.strftime("%Y%m%dT%H%M%SZ") if self.until is not None else None,
        }
        return ";".join(f"{key}={values[key]}" for key in PART_ORDER if values[key] is not None)

    @property
    def weekdays(self) -> tuple[int, ...]:
        """Return the weekdays (0 = Monday) of BYDAY, ordinals left out."""
        return tuple(WEEKDAYS.index(token[-2:]) for token in self.byday)

    def shifted(self, days: int) -> RepeatRule:
        """Return this rule with its BYDAY weekdays moved by ``days`` (an occurrence moved to another day)."""
        if not self.byday or days % 7 == 0:
            return self
        moved = tuple(token[:-2] + WEEKDAYS[(WEEKDAYS.index(token[-2:]) + days) % 7] for token in self.byday)
        return replace(self, byday=moved)

    def ending(self, until: dt.datetime) -> RepeatRule:
        """Return this rule ending at ``until`` (inclusive) instead of its COUNT or UNTIL."""
        return replace(self, count=None, until=until.astimezone(dt.UTC).replace(microsecond=0))

    def start_problems(self, start: dt.datetime) -> list[str]:
        """Return the parts (BYMONTH, BYMONTHDAY, BYDAY) that leave out the local ``start``."""
        problems = []
        if self.bymonth and start.month not in self.bymonth:
            problems.append("BYMONTH")
        if self.bymonthday:
            days_in_month = ((start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)).day
            allowed = {day if day > 0 else days_in_month + day + 1 for day in self.bymonthday}
            if start.day not in allowed:
                problems.append("BYMONTHDAY")
        if self.byday and start.weekday() not in self.weekdays:
            problems.append("BYDAY")
        return problems

    def starts(
        self, dtstart: dt.datetime, *, limit: int = MAX_OCCURRENCES + 1, past: dt.datetime | None = None
    ) -> list[dt.datetime]:
        """Return up to ``limit`` local starts of the rule from the zone-aware ``dtstart``, the first one after
        ``past`` being the last."""
        try:
            rule = rrulestr(str(self), dtstart=dtstart)
            found = []
            for start in rule:
                found.append(start)
                if len(found) >= limit or (past is not None and start > past):
                    break
        except (ValueError, TypeError, IndexError, OverflowError) as error:
            raise _refuse(_("The repeat rule is not valid: %(error)s") % {"error": error}) from None
        return found


def _whole_number(key: str, value: str, high: int) -> tuple[int]:
    if not re.fullmatch("[0-9]+", value) or int(value) < 1:
        raise _refuse(_("%(part)s must be a whole number of at least 1.") % {"part": key})
    if int(value) > high:
        if key == "COUNT":
            raise _refuse(
                _("A series may have at most %(max)d occurrences; COUNT=%(count)s asks for more.")
                % {"max": MAX_OCCURRENCES, "count": value}
            )
        raise _refuse(_("%(part)s may be at most %(max)d.") % {"part": key, "max": high})
    return (int(value),)


def _byday_token(item: str, freq: str) -> str:
    match = _BYDAY.fullmatch(item)
    if match is None:
        raise _refuse(
            _("BYDAY takes weekdays like MO,WE or, monthly, 1MO or -1FR (got “%(value)s”).") % {"value": item}
        )
    sign, digits, weekday = match.groups()
    if not digits:
        return weekday
    ordinal = int(digits)
    if freq != "MONTHLY" or not 1 <= ordinal <= 5:
        raise _refuse(
            _("A numbered weekday (like 1MO or -1FR) needs FREQ=MONTHLY and a number from 1 to 5 (got “%(value)s”).")
            % {"value": item}
        )
    return f"{'-' if sign == '-' else ''}{ordinal}{weekday}"


def _until_in_utc(value: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    try:
        if value.endswith("Z"):
            until = dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        elif "T" in value:
            until = dt.datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        else:
            day = dt.date.fromisoformat(f"{value[:4]}-{value[4:6]}-{value[6:8]}") if len(value) == 8 else None
            if day is None:
                raise ValueError(value)
            until = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)
    except (ValueError, OverflowError):
        raise _refuse(_("UNTIL must look like 20260520 or 20260520T235959Z.")) from None
    return until.astimezone(dt.UTC)


def repeat_label(rule: str | RepeatRule) -> str:
    """Return how often a stored rule repeats, in words ("weekly series", "series every 2 weeks")."""
    try:
        repeat = rule if isinstance(rule, RepeatRule) else RepeatRule.parse(rule, zone=zoneinfo.ZoneInfo("UTC"))
    except InvalidRecurrence:
        return _("series")
    n = repeat.interval
    if repeat.freq == "DAILY":
        if n == 1:
            return _("daily series")
        return ngettext("series every %(count)d day", "series every %(count)d days", n) % {"count": n}
    if repeat.freq == "WEEKLY":
        if n == 1:
            return _("weekly series")
        return ngettext("series every %(count)d week", "series every %(count)d weeks", n) % {"count": n}
    if n == 1:
        return _("monthly series")
    return ngettext("series every %(count)d month", "series every %(count)d months", n) % {"count": n}


def normalise_rrule(rule: str, *, zone: zoneinfo.ZoneInfo) -> str:
    """Return ``rule`` written out canonically (UNTIL in UTC); raise InvalidRecurrence if it is not valid."""
    return str(RepeatRule.parse(rule, zone=zone))


# --- wall-clock times at daylight-saving changes ----------------------------------------------------


def wall_time_problem(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> str | None:
    """Return why the wall-clock time of ``local`` is not one moment in ``zone`` (skipped or doubled), or None."""
    naive = local.replace(tzinfo=None, fold=0)
    first = naive.replace(tzinfo=zone)
    second = naive.replace(tzinfo=zone, fold=1)
    words = {"time": naive.strftime("%H:%M"), "date": formats.date_format(naive.date()), "zone": zone.key}
    if first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return _("%(time)s on %(date)s does not exist in %(zone)s: the clocks go forward then.") % words
    if first.utcoffset() != second.utcoffset():
        return _("%(time)s on %(date)s happens twice in %(zone)s: the clocks go back then.") % words
    return None


def local_moment(day: dt.date, time: dt.time, zone: zoneinfo.ZoneInfo, *, field: str = "start") -> dt.datetime:
    """Return ``day`` at ``time`` in ``zone``; refuse a time the clocks skip or repeat that day."""
    moment = dt.datetime.combine(day, time, tzinfo=zone)
    problem = wall_time_problem(moment, zone)
    if problem is not None:
        message = problem + " " + _("Choose another time.")
        raise InvalidRecurrence(message, errors=[{"field": field, "message": message}], code="no_such_local_time")
    return moment


# --- expanding ------------------------------------------------------------------------------------


def expand(
    *,
    rule: str,
    start: dt.datetime,
    end: dt.datetime,
    exdates: Sequence[dt.date | dt.datetime],
    zone: zoneinfo.ZoneInfo,
    now: dt.datetime,
) -> list[Occurrence]:
    """Return the occurrences of ``rule`` from ``start`` (each as long in local time as [start, end)).

    ``start`` must itself be an occurrence; COUNT counts before EXDATE (RFC 5545); a date in
    ``exdates`` excludes the occurrence that starts on that local date. Refuses a series that
    would reach an occurrence at a wall-clock time the clocks skip or repeat.
    """
    repeat = RepeatRule.parse(rule, zone=zone)
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    if repeat.until is not None and repeat.until < start:
        message = _("UNTIL (%(until)s) is before the start (%(start)s): the series would have no occurrence.") % {
            "until": formats.date_format(repeat.until.astimezone(zone).date()),
            "start": formats.date_format(local_start.date()),
        }
        raise _refuse(message)
    _require_start_fits(repeat, local_start)
    horizon = now + dt.timedelta(days=MAX_DAYS_AHEAD)
    starts = repeat.starts(local_start, past=horizon)
    if len(starts) > MAX_OCCURRENCES:
        raise _refuse(_("A series may have at most %(max)d occurrences.") % {"max": MAX_OCCURRENCES})
    if starts and starts[-1] > horizon:
        raise _refuse(
            _("A series may reach at most %(days)d days ahead (until %(date)s).")
            % {"days": MAX_DAYS_AHEAD, "date": horizon.astimezone(zone).date().isoformat()}
        )
    if not starts or starts[0] != local_start:
        following = starts[0].isoformat() if starts else None
        message = _("The start %(start)s is not an occurrence of the repeat rule.") % {"start": local_start.isoformat()}
        if following:
            message += " " + _("The first occurrence would be %(next)s.") % {"next": following}
        raise InvalidRecurrence(message, errors=[{"field": "start", "message": message}])
    excluded = set(_exclusions(exdates, starts, zone))
    # Wall-clock duration: a 90-minute lesson stays 90 minutes even over a DST night.
    wall_duration = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
    occurrences = []
    for occurrence_start in starts:
        if occurrence_start in excluded:
            continue
        occurrence = Occurrence(occurrence_start, add_wall_time(occurrence_start, wall_duration, zone))
        _require_real_wall_times(occurrence, zone, given=(local_start, local_end))
        occurrences.append(occurrence)
    return occurrences


def _require_real_wall_times(
    occurrence: Occurrence, zone: zoneinfo.ZoneInfo, *, given: tuple[dt.datetime, dt.datetime]
) -> None:
    """Refuse an occurrence whose start or end falls into a DST gap or overlap (the given first one is exact)."""
    for moment, field in ((occurrence.start, "start"), (occurrence.end, "end")):
        if moment in given:
            continue
        problem = wall_time_problem(moment, zone)
        if problem is not None:
            message = problem + " " + _("Choose another time, or leave that date out of the series.")
            raise InvalidRecurrence(message, errors=[{"field": field, "message": message}], code="no_such_local_time")


def _require_start_fits(repeat: RepeatRule, start: dt.datetime) -> None:
    """Refuse a start that the rule's BYMONTH, BYMONTHDAY or BYDAY exclude, before expanding anything.

    The start must be an occurrence anyway; checking it first also keeps a rule that never occurs
    (e.g. 30 February) from making dateutil search through the centuries.
    """
    reasons = repeat.start_problems(start)
    if not reasons:
        return
    message = _("The start %(start)s is not an occurrence of the repeat rule.") % {"start": start.isoformat()}
    # Only a weekday rule is sure to occur soon; a day-of-month rule may never occur (30 February).
    if reasons == ["BYDAY"] and not repeat.bymonth and not repeat.bymonthday:
        bounded = repeat.ending(start + dt.timedelta(days=MAX_DAYS_AHEAD))
        following = next(iter(bounded.starts(start, limit=1)), None)
        if following is not None:
            message += " " + _("The first occurrence would be %(next)s.") % {"next": following.isoformat()}
    raise InvalidRecurrence(message, errors=[{"field": "start", "message": message}])


def _exclusions(
    exdates: Sequence[dt.date | dt.datetime], starts: list[dt.datetime], zone: zoneinfo.ZoneInfo
) -> list[dt.datetime]:
    by_date = {occurrence.date(): occurrence for occurrence in starts}
    by_start = set(starts)
    excluded: list[dt.datetime] = []
    for index, value in enumerate(exdates):
        if isinstance(value, dt.datetime):
            local = (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(zone)
            match = local if local in by_start else None
        else:
            match = by_date.get(value)
        if match is None:
            message = _("%(value)s is not an occurrence of the series.") % {"value": value.isoformat()}
            raise InvalidRecurrence(message, errors=[{"field": f"exdates.{index}", "message": message}])
        excluded.append(match)
    return excluded


def add_wall_time(start: dt.datetime, duration: dt.timedelta, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """Return ``start`` plus ``duration`` of wall-clock time in ``zone``."""
    return (start.astimezone(zone).replace(tzinfo=None) + duration).replace(tzinfo=zone)


def wall_duration(start: dt.datetime, end: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.timedelta:
    """Return the wall-clock length of [start, end) in ``zone``."""
    return end.astimezone(zone).replace(tzinfo=None) - start.astimezone(zone).replace(tzinfo=None)


# --- stored series ------------------------------------------------------------------------------


def series_instances(*, rule: str, dtstart: dt.datetime, zone: zoneinfo.ZoneInfo) -> list[dt.datetime]:
    """Return every start (UTC) the stored rule gives from ``dtstart``, exceptions not applied."""
    repeat = RepeatRule.parse(rule, zone=zone)
    return [start.astimezone(dt.UTC) for start in repeat.starts(dtstart.astimezone(zone))]


def parse_stored_moments(values: Iterable[str]) -> list[dt.datetime]:
    """Return the stored ISO 8601 moments of a series' exceptions as aware datetimes."""
    return [dt.datetime.fromisoformat(value) for value in values]
