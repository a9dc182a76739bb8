"""Forms of the booking pages: finding a free room, and booking one once or repeatedly.

The forms only read and shape input. Every rule is the services' (``bookings.services``); their
errors come back through ``BookingForm.add_domain_error`` as form errors linked to the fields.
The repeat fields become an RFC 5545 rule in ``repeat_rule`` and a sentence in ``repeat_summary``,
two pure functions built from the same ``RepeatChoice``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.dates import WEEKDAYS
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from bookings import recurrence, rules
from bookings.errors import BookingRuleBroken, InvalidRecurrence, SlotTaken
from bookings.models import Purpose, Visibility
from campus.dates import date_out_of_range_message, within_years
from campus.exceptions import InvalidInput, KampusError, PermissionDenied
from campus.models import Building, Equipment, Institution, Role, Room, User
from campus.permissions import bookable_institutions, managed_scope, valid_memberships
from campus.selectors import building_list, equipment_list, institution_list, room_list, term_holding

ICAL_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DURATION_MINUTES = (30, 45, 60, 75, 90, 120, 180, 240)
CAMPUS_ITSELF = "campus"


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


def validate_within_years(value: dt.date) -> None:
    if not within_years(value):
        raise ValidationError(date_out_of_range_message(), code="out_of_range")


class CampusDateField(forms.DateField):
    """A date field that refuses dates outside FIRST_YEAR–LAST_YEAR with a form error."""

    default_validators = [validate_within_years]


# --- dates and durations in words ---------------------------------------------------------------


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


# --- repeat: one choice, two renderings -----------------------------------------------------------


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


# --- widgets and fields ----------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


def _attribute_pairs(attrs: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in attrs.items():
        if value is True:
            pairs.append((key, key))
        elif value not in (False, None):
            pairs.append((key, str(value)))
    return pairs


class MultipleDateInput(forms.Widget):
    """Several date inputs of one name: the dates given so far and one empty input for another."""

    use_fieldset = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name, [])
        return list(value) if isinstance(value, list | tuple) else [value]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def format_value(self, value: Any) -> list[str]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        return [item.isoformat() if isinstance(item, dt.date) else str(item) for item in values if item]

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        attrs = {**self.attrs, **(attrs or {})}
        base_id = attrs.pop("id", f"id_{name}")
        attrs.pop("required", None)
        values = [*self.format_value(value), ""]
        items = []
        for index, item in enumerate(values):
            input_id = base_id if index == 0 else f"{base_id}_{index}"
            items.append(
                format_html(
                    '<li><label for="{}" class="visually-hidden">{}</label>'
                    '<input type="date" name="{}" id="{}" value="{}"{}></li>',
                    input_id,
                    _("Date %(number)d") % {"number": index + 1},
                    name,
                    input_id,
                    item,
                    format_html_join("", ' {}="{}"', _attribute_pairs(attrs)),
                )
            )
        return format_html(
            '<ul class="date-list" id="{}_list" data-date-list>{}</ul>',
            base_id,
            format_html_join("", "{}", ((i,) for i in items)),
        )


class MultipleDateField(forms.Field):
    """One or more dates (blank inputs are ignored); cleans to a sorted list without repeats."""

    widget = MultipleDateInput

    def to_python(self, value: Any) -> list[dt.date]:
        values = value if isinstance(value, list | tuple) else [value]
        single = forms.DateField()
        days: set[dt.date] = set()
        for item in values:
            if item in (None, ""):
                continue
            try:
                day = single.to_python(item)
            except ValidationError:
                raise ValidationError(
                    _("“%(value)s” is not a date; give dates like 2027-03-03."), code="invalid", params={"value": item}
                ) from None
            validate_within_years(day)
            days.add(day)
        return sorted(days)

    def validate(self, value: list[dt.date]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")


# --- find a room -----------------------------------------------------------------------------------


def next_quarter_hour(now: dt.datetime) -> dt.datetime:
    """Return the next full quarter hour after ``now`` (10:07 → 10:15)."""
    base = now.replace(second=0, microsecond=0)
    return base + dt.timedelta(minutes=15 - base.minute % 15)


class FindRoomForm(forms.Form):
    """When, for how many and with what: the search for a free room."""

    date = CampusDateField(label=gettext_lazy("Date"), widget=DateInput())
    start = forms.TimeField(label=gettext_lazy("Start time"), widget=TimeInput())
    duration = forms.TypedChoiceField(
        label=gettext_lazy("How long"),
        coerce=int,
        choices=[],
        initial=60,
    )
    end = forms.TimeField(
        label=gettext_lazy("Or end time"),
        required=False,
        widget=TimeInput(),
        help_text=gettext_lazy("If you give an end time, it is used instead of the length."),
    )
    people = forms.IntegerField(
        label=gettext_lazy("Number of people"), required=False, min_value=1, max_value=10000, widget=forms.NumberInput()
    )
    equipment = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Equipment needed"),
        queryset=Equipment.objects.none(),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
    )
    step_free = forms.BooleanField(label=gettext_lazy("Step-free access needed"), required=False)
    building = forms.ModelChoiceField(
        label=gettext_lazy("Building"),
        queryset=Building.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any building"),
    )

    def __init__(self, *args: Any, now: dt.datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.zone = timezone.get_current_timezone()
        self.fields["duration"].choices = [(minutes, duration_words(minutes)) for minutes in DURATION_MINUTES]
        self.fields["equipment"].queryset = equipment_list()
        self.fields["building"].queryset = building_list()
        if not self.is_bound:
            start = next_quarter_hour(self.now.astimezone(self.zone))
            self.initial.setdefault("date", start.date())
            self.initial.setdefault("start", start.time())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        day, start, end = cleaned.get("date"), cleaned.get("start"), cleaned.get("end")
        if day is None or start is None:
            return cleaned
        begins = dt.datetime.combine(day, start, tzinfo=self.zone)
        if end is not None:
            if end <= start:
                self.add_error("end", _("The end time must be after the start time."))
                return cleaned
            ends = dt.datetime.combine(day, end, tzinfo=self.zone)
        else:
            ends = begins + dt.timedelta(minutes=cleaned.get("duration") or 60)
        today = self.now.astimezone(self.zone).date()
        if day < today:
            self.add_error("date", _("The date is in the past. Choose today or a later day."))
        elif begins < self.now:
            self.add_error("start", _("That time has already passed. Choose a later time."))
        cleaned["starts_at"] = begins
        cleaned["ends_at"] = ends
        return cleaned

    def rooms(self) -> QuerySet[Room]:
        """Return the rooms that match the needs, whether free or not."""
        data = self.cleaned_data
        building = data.get("building")
        return room_list(
            building_id=building.pk if building else None,
            capacity_min=data.get("people"),
            equipment=[item.code for item in data.get("equipment") or []],
            step_free=True if data.get("step_free") else None,
            bookable_only=True,
        )


# --- booking -------------------------------------------------------------------------------------


@dataclass
class Problem:
    """Why the services refused a booking, with what a page shows beyond the message."""

    message: str
    on_field: str | None = None
    code: str = ""
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    allowed: str = ""
    can_override: bool = False


# The form field a broken rule is about (every page form uses these names), so its message sits
# next to the input to fix.
RULE_FIELDS = {
    "capacity": "attendees",
    "min_duration": "end_time",
    "max_duration": "end_time",
    "min_notice": "start_time",
    "earliest_start": "start_time",
    "opening_hours": "start_time",
    "closure": "date",
    "owner_window": "date",
    "other_window": "date",
    "who_may_book": "room",
    "bookable": "room",
}
# Where a service's field name belongs in the form.
SERVICE_FIELDS = {
    "title": "title",
    "start": "date",
    "end": "end_time",
    "institution": "institution",
    "exdates": "except_dates",
    "rrule": "repeat",
    "attendees": "attendees",
    "room": "room",
}


def _local(value: Any) -> Any:
    return timezone.localtime(value) if isinstance(value, dt.datetime) and timezone.is_aware(value) else value


def allowed_text(error: BookingRuleBroken) -> str:
    """Return what a broken rule would accept, in words ("" when the rule has no such value)."""
    allowed = error.allowed
    if allowed is None:
        return ""
    rule = error.rule
    if rule == "capacity":
        return ngettext("Allowed: at most %(count)d person.", "Allowed: at most %(count)d people.", allowed) % {
            "count": allowed
        }
    if rule == "min_duration":
        return _("Allowed: at least %(duration)s.") % {"duration": duration_words(allowed)}
    if rule == "max_duration":
        return _("Allowed: at most %(duration)s.") % {"duration": duration_words(allowed)}
    if rule == "max_active_bookings":
        return _("Allowed: %(count)d active bookings at a time.") % {"count": allowed}
    if rule in ("owner_window", "other_window"):
        return _("Allowed: until %(date)s.") % {"date": long_date(allowed)}
    if rule in ("min_notice", "earliest_start"):
        moment = _local(allowed)
        return _("Allowed: from %(time)s on.") % {"time": formats.date_format(moment, "DATETIME_FORMAT")}
    if rule == "opening_hours" and isinstance(allowed, dict):
        return _("Allowed: between %(opens)s and %(closes)s.") % {
            "opens": formats.time_format(_local(allowed["opens"])),
            "closes": formats.time_format(_local(allowed["closes"])),
        }
    return ""


def room_label(room: Room) -> str:
    """Return a room choice: the room's label with its capacity ("A101 Classroom 101 (30 people)")."""
    return ngettext("%(room)s (%(capacity)d person)", "%(room)s (%(capacity)d people)", room.capacity) % {
        "room": room.label,
        "capacity": room.capacity,
    }


def grouped_room_choices(rooms: Iterable[Room]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Return room choices grouped by building, for a select with optgroups."""
    groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for room in rooms:
        label = f"{room.building.code} {room.building.name}"
        groups.setdefault(room.building_id, (label, []))[1].append((room.pk, room_label(room)))
    return list(groups.values())


def may_book_for_whom(user: User) -> tuple[list[Institution], bool]:
    """Return the institutions ``user`` may book for, and whether the campus itself is a choice.

    Campus-level members (facility services, front desk) book for any institution of their campus
    or for the campus itself; everyone else for the institutions they belong to.
    """
    if user.is_superuser:
        return list(institution_list()), True
    campus_ids = {m.campus_id for m in valid_memberships(user) if m.campus_id}
    if campus_ids:
        own = {institution.pk: institution for institution in bookable_institutions(user)}
        for institution in institution_list().filter(campus_id__in=campus_ids):
            own.setdefault(institution.pk, institution)
        return sorted(own.values(), key=lambda i: i.name), True
    return sorted(bookable_institutions(user), key=lambda i: i.name), False


def books_for_others(user: User) -> bool:
    """Return whether ``user`` books for other people (front desk, facility managers)."""
    if user.is_superuser:
        return True
    return valid_memberships(user).filter(role__in=[Role.FRONT_DESK, Role.FACILITY_MANAGER]).exists()


def rooms_user_may_override(user: User, rooms: Iterable[Room]) -> set[int]:
    """Return the ids of ``rooms`` where ``user`` may override soft rules (as rules.may_override decides)."""
    if user.is_superuser:
        return {room.pk for room in rooms}
    institution_ids, campus_ids = managed_scope(user)
    return {
        room.pk
        for room in rooms
        if room.building.campus_id in campus_ids or (room.owner_id is not None and room.owner_id in institution_ids)
    }


class BookingForm(forms.Form):
    """A booking: where, when, how it repeats, for whom and who sees its title."""

    title = forms.CharField(
        label=gettext_lazy("What is it for?"),
        max_length=200,
        help_text=gettext_lazy("The title, e.g. “Maths 2B” or “Parents' evening”."),
    )
    room = forms.TypedChoiceField(label=gettext_lazy("Room"), coerce=int, choices=[])
    date = CampusDateField(label=gettext_lazy("Date"), widget=DateInput())
    start_time = forms.TimeField(label=gettext_lazy("Start time"), widget=TimeInput())
    end_time = forms.TimeField(label=gettext_lazy("End time"), widget=TimeInput())

    repeat = forms.ChoiceField(label=gettext_lazy("Repeat"), choices=FREQUENCY_CHOICES, initial=Frequency.NONE)
    interval = forms.IntegerField(
        label=gettext_lazy("Repeat every"),
        min_value=1,
        max_value=52,
        initial=1,
        required=False,
        help_text=gettext_lazy("1 = every day, week or month; 2 = every other one; and so on."),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("On these weekdays"),
        coerce=int,
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choice-list"}),
        help_text=gettext_lazy("For weekly bookings. None ticked: the weekday of the date."),
    )
    monthly_by = forms.ChoiceField(
        label=gettext_lazy("Each month"),
        choices=[
            (MonthlyBy.DATE, gettext_lazy("On the same date (e.g. the 10th)")),
            (MonthlyBy.WEEKDAY, gettext_lazy("On a weekday (e.g. the first Monday)")),
        ],
        initial=MonthlyBy.DATE,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    monthly_ordinal = forms.TypedChoiceField(
        label=gettext_lazy("Which one"), coerce=int, choices=ORDINAL_CHOICES, required=False, empty_value=None
    )
    monthly_weekday = forms.TypedChoiceField(
        label=gettext_lazy("Weekday"), coerce=int, choices=WEEKDAY_CHOICES, required=False, empty_value=None
    )
    ends = forms.ChoiceField(
        label=gettext_lazy("Ends"),
        choices=[
            (Ends.UNTIL, gettext_lazy("On a date")),
            (Ends.TERM, gettext_lazy("At the end of the term")),
            (Ends.COUNT, gettext_lazy("After a number of times")),
        ],
        initial=Ends.UNTIL,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
    )
    until = CampusDateField(label=gettext_lazy("Last date"), required=False, widget=DateInput())
    count = forms.IntegerField(label=gettext_lazy("Number of times"), min_value=1, max_value=500, required=False)
    except_dates = MultipleDateField(
        label=gettext_lazy("Except these dates"),
        required=False,
        help_text=gettext_lazy("Dates of the series that are not booked, e.g. a school holiday."),
    )
    skip_conflicts = forms.BooleanField(
        label=gettext_lazy("If some dates are already taken, book the free ones and skip the rest"), required=False
    )

    institution = forms.ChoiceField(label=gettext_lazy("For institution"), choices=[], required=False)
    attendees = forms.IntegerField(label=gettext_lazy("Number of people"), min_value=1, max_value=10000, required=False)
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=Purpose.choices, initial=Purpose.TEACHING)
    visibility = forms.ChoiceField(
        label=gettext_lazy("Who sees the title"),
        choices=Visibility.choices,
        initial=Visibility.INSTITUTION,
        widget=forms.RadioSelect(attrs={"class": "choice-list"}),
        help_text=gettext_lazy("Everyone else sees only that the room is “Reserved”."),
    )
    on_behalf_of_name = forms.CharField(label=gettext_lazy("Person"), max_length=200, required=False)
    on_behalf_of_contact = forms.CharField(
        label=gettext_lazy("Contact (e-mail or phone)"), max_length=200, required=False
    )
    on_behalf_of_organisation = forms.CharField(
        label=gettext_lazy("Outside organisation"), max_length=200, required=False
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Reason to override the rules"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "As a facility manager you may book past the duration, notice, advance and quota rules. "
            "The reason is kept in the booking's history."
        ),
    )

    ON_BEHALF_FIELDS = ("on_behalf_of_name", "on_behalf_of_contact", "on_behalf_of_organisation")
    REPEAT_FIELDS = (
        "interval",
        "weekdays",
        "monthly_by",
        "monthly_ordinal",
        "monthly_weekday",
        "ends",
        "until",
        "count",
        "except_dates",
        "skip_conflicts",
    )

    def __init__(self, *args: Any, user: User, for_preview: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.rooms = {room.pk: room for room in room_list(bookable_only=True)}
        self.fields["room"].choices = [("", _("Choose a room")), *grouped_room_choices(self.rooms.values())]

        institutions, campus_itself = may_book_for_whom(user)
        choices = [(str(institution.pk), institution.name) for institution in institutions]
        if campus_itself:
            choices.append((CAMPUS_ITSELF, _("The campus itself (facility services)")))
        self.institutions = {str(institution.pk): institution for institution in institutions}
        self.has_institution_choice = bool(choices)
        if len(choices) == 1:
            self.fields["institution"].choices = choices
            self.initial.setdefault("institution", choices[0][0])
        else:
            self.fields["institution"].choices = [("", _("Choose…")), *choices]

        if not books_for_others(user):
            for name in self.ON_BEHALF_FIELDS:
                del self.fields[name]
        # The override reason is for facility managers, in the rooms they manage: rendered when they
        # manage any room, visible when they manage the chosen one (the page's script follows the choice).
        self.override_room_ids = rooms_user_may_override(user, self.rooms.values())
        chosen = self.chosen_room()
        if not self.override_room_ids:
            del self.fields["override_reason"]
        self.override_visible = bool(self.override_room_ids) and (chosen is None or rules.may_override(user, chosen))
        if for_preview:
            self.fields["title"].required = False

        if not self.is_bound:
            day = self.initial.get("date")
            if isinstance(day, dt.date):
                self.initial.setdefault("monthly_ordinal", default_ordinal(day))
                self.initial.setdefault("monthly_weekday", day.weekday())

    @property
    def shows_on_behalf(self) -> bool:
        return "on_behalf_of_name" in self.fields

    @property
    def shows_override(self) -> bool:
        return "override_reason" in self.fields

    def chosen_room(self) -> Room | None:
        """Return the room in the submitted data or the initial values, if there is one."""
        value = self.data.get("room") if self.is_bound else self.initial.get("room")
        try:
            return self.rooms.get(int(value))
        except (TypeError, ValueError):
            return None

    @classmethod
    def defaults(cls) -> dict[str, str]:
        """Return the data of the fields a quick booking does not send (does not repeat, default visibility).

        The purpose is not among them: the person chooses it on the search page.
        """
        return {
            "repeat": Frequency.NONE,
            "interval": "1",
            "monthly_by": MonthlyBy.DATE,
            "ends": Ends.UNTIL,
            "visibility": Visibility.INSTITUTION,
        }

    # --- cleaning

    def clean_room(self) -> Room:
        return self.rooms[self.cleaned_data["room"]]

    def clean_institution(self) -> Institution | None:
        value = self.cleaned_data.get("institution") or ""
        return self.institutions.get(value)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start is not None and end is not None and end <= start:
            self.add_error("end_time", _("The end time must be after the start time."))
        self._refuse_times_the_clocks_skip(cleaned)
        frequency = cleaned.get("repeat") or Frequency.NONE
        day = cleaned.get("date")
        if frequency == Frequency.NONE or day is None:
            return cleaned
        if not cleaned.get("interval"):
            cleaned["interval"] = 1
        if (cleaned.get("ends") or Ends.UNTIL) == Ends.COUNT:
            if not cleaned.get("count"):
                self.add_error("count", _("Say how many times the booking repeats."))
        elif cleaned.get("ends") == Ends.TERM:
            self._until_end_of_term(cleaned, day)
        elif cleaned.get("until") is None:
            if "until" not in self.errors:
                self.add_error("until", _("Give the last date of the series."))
        elif cleaned["until"] < day:
            self.add_error("until", _("The last date must be on or after the first date."))
        if not self.errors:
            problem = first_date_problem(self.repeat_choice())
            if problem:
                self.add_error("date", problem)
        return cleaned

    def _refuse_times_the_clocks_skip(self, cleaned: dict[str, Any]) -> None:
        """Refuse a start or end time that does not exist, or exists twice, on the chosen date."""
        day, room = cleaned.get("date"), cleaned.get("room")
        if day is None or room is None:
            return
        for name in ("start_time", "end_time"):
            if cleaned.get(name) is None:
                continue
            try:
                recurrence.local_moment(day, cleaned[name], room.building.campus.zone, field=name)
            except InvalidRecurrence as error:
                self.add_error(name, error.message)

    def _until_end_of_term(self, cleaned: dict[str, Any], day: dt.date) -> None:
        """Set ``until`` to the last day of the term that holds ``day`` in the calendar the booking follows."""
        institution = cleaned.get("institution")
        if institution is None and len(self.institutions) == 1:
            institution = next(iter(self.institutions.values()))
        room = cleaned.get("room")
        term = term_holding(
            day,
            institution_id=institution.pk if institution else None,
            campus_id=room.building.campus_id if room else None,
        )
        if term is None:
            self.add_error(
                "ends",
                _("No term of the calendar holds %(date)s: choose the last date instead.") % {"date": long_date(day)},
            )
        else:
            cleaned["until"] = term.end

    def repeat_choice(self) -> RepeatChoice:
        """Return the repeat the cleaned fields describe."""
        data = self.cleaned_data
        frequency = data.get("repeat") or Frequency.NONE
        counted = (data.get("ends") or Ends.UNTIL) == Ends.COUNT
        return RepeatChoice(
            frequency=frequency,
            first_date=data["date"],
            interval=data.get("interval") or 1,
            weekdays=tuple(data.get("weekdays") or ()) if frequency == Frequency.WEEKLY else (),
            monthly_by=data.get("monthly_by") or MonthlyBy.DATE,
            ordinal=data.get("monthly_ordinal"),
            weekday=data.get("monthly_weekday"),
            until=None if counted else data.get("until"),
            count=data.get("count") if counted else None,
            except_dates=tuple(data.get("except_dates") or ()) if frequency != Frequency.NONE else (),
        )

    def summary(self) -> str | None:
        """Return the repeat as a sentence, when the fields it needs are valid."""
        if not hasattr(self, "cleaned_data") or "date" not in self.cleaned_data:
            return None
        return repeat_summary(self.repeat_choice())

    def booking_kwargs(self, *, title_if_empty: str = "") -> dict[str, Any]:
        """Return the arguments of services.booking_create that this form's cleaned data gives."""
        data = self.cleaned_data
        room: Room = data["room"]
        zone = room.building.campus.zone
        choice = self.repeat_choice()
        kwargs: dict[str, Any] = {
            "room": room,
            "title": data.get("title") or title_if_empty,
            "start": recurrence.local_moment(data["date"], data["start_time"], zone, field="start_time"),
            "end": recurrence.local_moment(data["date"], data["end_time"], zone, field="end_time"),
            "institution": data.get("institution"),
            "rrule": repeat_rule(choice),
            "exdates": list(choice.except_dates),
            "attendees": data.get("attendees"),
            "purpose": data.get("purpose") or Purpose.TEACHING,
            "visibility": data.get("visibility") or Visibility.INSTITUTION,
            "skip_conflicts": bool(data.get("skip_conflicts")) and choice.repeats,
        }
        if self.shows_on_behalf:
            kwargs.update({name: data.get(name, "") for name in self.ON_BEHALF_FIELDS})
        if self.shows_override and rules.may_override(self.user, room):
            kwargs["override_reason"] = data.get("override_reason", "")
        return kwargs

    # --- domain errors

    def _field_for(self, name: str | None) -> str | None:
        if not name:
            return None
        name = SERVICE_FIELDS.get(name.split(".")[0], name)
        return name if name in self.fields else None

    def add_domain_error(self, error: KampusError) -> Problem:
        """Show a service's refusal as form errors (on the field it names, else for the whole form)."""
        problem = Problem(message=error.message, code=error.code)
        if isinstance(error, SlotTaken):
            problem.conflicts = [{**c, "start": _local(c["start"]), "end": _local(c["end"])} for c in error.conflicts]
            self.add_error(None, error.message)
        elif isinstance(error, BookingRuleBroken):
            problem.on_field = self._field_for(RULE_FIELDS.get(error.rule))
            problem.allowed = allowed_text(error)
            problem.can_override = bool(error.extra.get("can_override"))
            problem.skipped = [
                {**s, "start": _local(s["start"]), "end": _local(s["end"])} for s in error.extra.get("skipped", [])
            ]
            message = " ".join(part for part in (error.message, problem.allowed) if part)
            if problem.can_override:
                message += " " + _("You may override this rule: give a reason below.")
                if self.shows_override:
                    self.add_error("override_reason", _("Give a reason to override the rule."))
            self.add_error(problem.on_field, message)
        elif isinstance(error, InvalidInput) and error.extra.get("errors"):
            for entry in error.extra["errors"]:
                target = self._field_for(entry.get("field"))
                self.add_error(target, entry.get("message") or error.message)
            problem.on_field = self._field_for(error.extra["errors"][0].get("field"))
        elif isinstance(error, PermissionDenied) and error.code == "not_a_member":
            problem.on_field = self._field_for("institution")
            self.add_error(problem.on_field, error.message)
        else:
            self.add_error(None, error.message)
        return problem
