"""The forms of the booking pages: finding a free room, and booking one once or repeatedly.

The forms only read and shape input. Every rule is the services' (``bookings.services``); their
refusals come back through ``bookings.forms.errors.add_domain_error`` as errors at the fields they
are about. Who may book for whom, book for other people and override rules is
``bookings.permissions``'s answer (``BookingReach``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, ClassVar

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bookings import recurrence
from bookings.errors import InvalidRecurrence
from bookings.forms.errors import RULE_FIELDS, SERVICE_FIELDS
from bookings.forms.repeat import (
    FREQUENCY_CHOICES,
    ORDINAL_CHOICES,
    WEEKDAY_CHOICES,
    Ends,
    Frequency,
    MonthlyBy,
    RepeatChoice,
    default_ordinal,
    first_date_problem,
    repeat_rule,
    repeat_summary,
)
from bookings.forms.widgets import CampusDateField, DateInput, MultipleDateField, TimeInput
from bookings.forms.words import duration_words, long_date
from bookings.models import Purpose, Visibility
from bookings.permissions import booking_reach, may_override
from campus.models import Building, Equipment, Institution, Room, User
from campus.selectors import building_list, equipment_list, room_list, term_holding

DURATION_MINUTES = (30, 45, 60, 75, 90, 120, 180, 240)
CAMPUS_ITSELF = "campus"


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


class BookingForm(forms.Form):
    """A booking: where, when, how it repeats, for whom and who sees its title."""

    # Where a refusal's errors go (see ``bookings.forms.errors.add_domain_error``); the page lists the clashes.
    service_fields: ClassVar[dict[str, str]] = SERVICE_FIELDS
    error_fields: ClassVar[dict[str, str]] = {**RULE_FIELDS, "not_a_member": "institution"}
    lists_conflicts: ClassVar[bool] = True

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

        reach = booking_reach(user)
        institutions, campus_itself = reach.institutions_to_book_for()
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

        if not reach.books_for_others:
            for name in self.ON_BEHALF_FIELDS:
                del self.fields[name]
        # The override reason is for facility managers, in the rooms they manage: rendered when they
        # manage any room, visible when they manage the chosen one (the page's script follows the choice).
        self.override_room_ids = reach.rooms_to_override(self.rooms.values())
        chosen = self.chosen_room()
        if not self.override_room_ids:
            del self.fields["override_reason"]
        self.override_visible = bool(self.override_room_ids) and (chosen is None or may_override(user, chosen))
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
        if self.shows_override and may_override(self.user, room):
            kwargs["override_reason"] = data.get("override_reason", "")
        return kwargs
