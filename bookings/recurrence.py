"""Expand RFC 5545 repeat rules with python-dateutil, in the campus's zone.

dateutil keeps the wall-clock time of a zone-aware DTSTART for every occurrence, so a 10:00 lesson
stays at 10:00 local time across daylight-saving changes; zoneinfo supplies each day's offset.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from dateutil.rrule import rruleset, rrulestr
from django.utils.translation import gettext as _

from bookings.errors import InvalidRecurrence

MAX_OCCURRENCES = 500
MAX_DAYS_AHEAD = 400

ALLOWED_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY"}
ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL", "WKST"}


@dataclass(frozen=True)
class Occurrence:
    start: dt.datetime
    end: dt.datetime


def _refuse(message: str, field: str = "rrule") -> InvalidRecurrence:
    return InvalidRecurrence(message, errors=[{"field": field, "message": message}])


def normalise_rrule(rule: str, *, zone: zoneinfo.ZoneInfo) -> str:
    """Return ``rule`` with only supported parts and UNTIL in UTC; raise InvalidRecurrence otherwise.

    A local UNTIL (a date, or a date-time without Z) is read in the campus zone; a bare date
    includes that whole day, as people mean by "until 20 May".
    """
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        raise _refuse(_("The repeat rule is empty."))
    parts: dict[str, str] = {}
    for chunk in text.split(";"):
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
    if parts.get("FREQ") not in ALLOWED_FREQUENCIES:
        raise _refuse(_("FREQ must be DAILY, WEEKLY or MONTHLY."))
    for key in ("COUNT", "INTERVAL"):
        if key in parts and not (re.fullmatch("[0-9]{1,4}", parts[key]) and int(parts[key]) >= 1):
            raise _refuse(_("%(part)s must be a whole number of at least 1.") % {"part": key})
    if "COUNT" in parts and "UNTIL" in parts:
        raise _refuse(_("Give COUNT or UNTIL, not both."))
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise _refuse(_("Give COUNT or UNTIL so that the series ends."))
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_in_utc(parts["UNTIL"], zone)
    return ";".join(f"{key}={value}" for key, value in parts.items())


def reshape_rule(rule: str, *, shift_days: int = 0, until: dt.datetime | None = None) -> str:
    """Return ``rule`` with its weekdays moved by ``shift_days`` and, given ``until``, ending then.

    Used when occurrences of a series move to another day or the series is split in two, so
    that the stored rule keeps describing the stored occurrences (for display and calendars).
    """
    parts = dict(chunk.split("=", 1) for chunk in rule.split(";") if chunk)
    if "BYDAY" in parts and shift_days % 7:
        shifted = []
        for value in parts["BYDAY"].split(","):
            match = re.fullmatch("([+-]?[0-9]*)([A-Z]{2})", value)
            if match is None:
                shifted.append(value)
                continue
            weekday = _WEEKDAYS[(_WEEKDAYS.index(match.group(2)) + shift_days) % 7]
            shifted.append(match.group(1) + weekday)
        parts["BYDAY"] = ",".join(shifted)
    if until is not None:
        parts.pop("COUNT", None)
        parts["UNTIL"] = until.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return ";".join(f"{key}={value}" for key, value in parts.items())


def _until_in_utc(value: str, zone: zoneinfo.ZoneInfo) -> str:
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
    return until.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def expand(
    *,
    rule: str,
    start: dt.datetime,
    end: dt.datetime,
    exdates: list[dt.date | dt.datetime],
    zone: zoneinfo.ZoneInfo,
    now: dt.datetime,
) -> list[Occurrence]:
    """Return the occurrences of ``rule`` from ``start`` (each as long in local time as [start, end)).

    ``start`` must itself be an occurrence; COUNT counts before EXDATE (RFC 5545); a date in
    ``exdates`` excludes the occurrence that starts on that local date.
    """
    normalised = normalise_rrule(rule, zone=zone)
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    # Wall-clock duration: a 90-minute lesson stays 90 minutes even over a DST night.
    wall_duration = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
    try:
        recurrence = rrulestr(normalised, dtstart=local_start)
    except (ValueError, TypeError) as error:
        raise _refuse(_("The repeat rule is not valid: %(error)s") % {"error": error}) from None

    _require_start_fits(normalised, local_start)
    horizon = now + dt.timedelta(days=MAX_DAYS_AHEAD)
    starts: list[dt.datetime] = []
    try:
        for occurrence_start in recurrence:
            if len(starts) >= MAX_OCCURRENCES or occurrence_start > horizon:
                starts.append(occurrence_start)
                break
            starts.append(occurrence_start)
    except (ValueError, IndexError, OverflowError) as error:
        raise _refuse(_("The repeat rule is not valid: %(error)s") % {"error": error}) from None
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

    excluded = _exclusions(exdates, starts, zone)
    occurrence_set = rruleset()
    occurrence_set.rrule(recurrence)
    for excluded_start in excluded:
        occurrence_set.exdate(excluded_start)
    return [
        Occurrence(start=occurrence, end=_add_wall_time(occurrence, wall_duration, zone))
        for occurrence in occurrence_set
    ]


_WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _require_start_fits(rule: str, start: dt.datetime) -> None:
    """Refuse a start that the rule's BYMONTH, BYMONTHDAY or BYDAY exclude, before expanding anything.

    The start must be an occurrence anyway; checking it first also keeps a rule that never occurs
    (e.g. 30 February) from making dateutil search through the centuries.
    """
    parts = dict(chunk.split("=", 1) for chunk in rule.split(";"))
    reasons = []
    if "BYMONTH" in parts and str(start.month) not in parts["BYMONTH"].split(","):
        reasons.append("BYMONTH")
    if "BYMONTHDAY" in parts:
        days_in_month = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        allowed = set()
        for value in parts["BYMONTHDAY"].split(","):
            if re.fullmatch("[+-]?[0-9]{1,2}", value):
                day = int(value)
                allowed.add(day if day > 0 else days_in_month.day + day + 1)
        if start.day not in allowed:
            reasons.append("BYMONTHDAY")
    if "BYDAY" in parts:
        weekdays = {re.sub("^[+-]?[0-9]*", "", value) for value in parts["BYDAY"].split(",")}
        if _WEEKDAYS[start.weekday()] not in weekdays:
            reasons.append("BYDAY")
    if reasons:
        message = _("The start %(start)s is not an occurrence of the repeat rule.") % {"start": start.isoformat()}
        # Only a weekday rule is sure to occur soon; a day-of-month rule may never occur (30 February).
        weekday_rule = reasons == ["BYDAY"] and not {"BYMONTH", "BYMONTHDAY"} & set(parts)
        following = _first_occurrence_within(parts, start) if weekday_rule else None
        if following is not None:
            message += " " + _("The first occurrence would be %(next)s.") % {"next": following.isoformat()}
        raise InvalidRecurrence(message, errors=[{"field": "start", "message": message}])


def _first_occurrence_within(parts: dict[str, str], start: dt.datetime) -> dt.datetime | None:
    """Return the rule's first occurrence within MAX_DAYS_AHEAD of ``start`` (a bounded search), if any."""
    bounded = {key: value for key, value in parts.items() if key not in ("COUNT", "UNTIL")}
    bounded["UNTIL"] = (start + dt.timedelta(days=MAX_DAYS_AHEAD)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        return next(iter(rrulestr(";".join(f"{k}={v}" for k, v in bounded.items()), dtstart=start)), None)
    except (ValueError, IndexError, OverflowError):
        return None


def _exclusions(
    exdates: list[dt.date | dt.datetime], starts: list[dt.datetime], zone: zoneinfo.ZoneInfo
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


def _add_wall_time(start: dt.datetime, duration: dt.timedelta, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return (start.replace(tzinfo=None) + duration).replace(tzinfo=zone)
