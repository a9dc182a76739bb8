"""The dashboard's choices, read from the query string: what to report on, over which days, in which season."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from campus import selectors as campus_selectors
from campus.models import Building, Campus, Institution, Room
from utilisation.results import Period, Season

# Longest period the page asks for; the report service runs long ones as a background job.
MAX_PERIOD_DAYS = 2 * 366


class QuickPeriod(models.TextChoices):
    TERM = "term", _("This term")
    LAST_30_DAYS = "30d", _("Last 30 days")
    LAST_MONTH = "last-month", _("Last month")
    LAST_12_MONTHS = "12m", _("Last 12 months")
    DATES = "dates", _("The dates below")


SEASON_CHOICES = [
    (Season.TERM.value, _("Term time")),
    (Season.BREAKS.value, _("Term breaks")),
    (Season.ALL.value, _("All days")),
]


def _optional(field: forms.Field) -> forms.Field:
    field.hide_optional = True  # a filter is optional by nature: no "(optional)" after its label
    return field


@dataclass(frozen=True)
class Selection:
    """What the page reports on: a campus and, within it, at most a building, an institution and a room."""

    campus: Campus
    building: Building | None
    institution: Institution | None
    room: Room | None
    period: Period


def term_around(day: dt.date, *, campus: Campus, institution: Institution | None) -> tuple[dt.date, dt.date] | None:
    """Return the first and last day of the term holding ``day``: the institution's calendar, else the campus's."""
    term = None
    if institution is not None:
        term = campus_selectors.term_holding(day, institution_id=institution.pk, campus_id=None)
    if term is None:
        term = campus_selectors.term_holding(day, institution_id=None, campus_id=campus.pk)
    return (term.start, term.end) if term is not None else None


def quick_period_days(choice: str, *, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """Return the days (first, last) of a quick choice that needs no calendar; None for the others."""
    if choice == QuickPeriod.LAST_30_DAYS:
        return today - dt.timedelta(days=29), today
    if choice == QuickPeriod.LAST_MONTH:
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    if choice == QuickPeriod.LAST_12_MONTHS:
        return today - dt.timedelta(days=364), today
    return None


class DashboardForm(forms.Form):
    """The dashboard's filters. Choices are limited to what the person may see (the view passes them)."""

    campus = forms.ModelChoiceField(label=_("Campus"), queryset=Campus.objects.none(), empty_label=None)
    building = _optional(
        forms.ModelChoiceField(
            label=_("Building"), queryset=Building.objects.none(), required=False, empty_label=_("All buildings")
        )
    )
    institution = _optional(
        forms.ModelChoiceField(
            label=_("Institution (who booked)"),
            queryset=Institution.objects.none(),
            required=False,
            empty_label=_("All institutions"),
        )
    )
    room = _optional(
        forms.ModelChoiceField(
            label=_("Room"), queryset=Room.objects.none(), required=False, empty_label=_("All rooms")
        )
    )
    quick = forms.ChoiceField(
        label=_("Period"),
        choices=QuickPeriod.choices,
        initial=QuickPeriod.LAST_30_DAYS,
        widget=forms.RadioSelect,
        required=False,
    )
    first_day = _optional(
        forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    )
    last_day = _optional(
        forms.DateField(
            label=_("To"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text=_("Both days included."),
        )
    )
    season = forms.ChoiceField(
        label=_("Days counted"),
        choices=SEASON_CHOICES,
        initial=Season.TERM.value,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(
        self,
        *args: object,
        campuses: QuerySet[Campus],
        buildings: QuerySet[Building],
        institutions: QuerySet[Institution],
        rooms: QuerySet[Room],
        institution_required: bool = False,
        today: dt.date,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["campus"].queryset = campuses
        self.fields["building"].queryset = buildings
        self.fields["institution"].queryset = institutions
        self.fields["room"].queryset = rooms.select_related("building")
        self.fields["room"].label_from_instance = lambda room: room.label
        self.fields["building"].label_from_instance = lambda building: f"{building.code} {building.name}"
        if institution_required:
            # An institution admin sees their own institution's figures, never the whole campus's.
            self.fields["institution"].required = True
            self.fields["institution"].empty_label = None
        self.fields["quick"].help_text = _("This term follows the term calendar; the default is the last 30 days.")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        cleaned["quick"] = cleaned.get("quick") or QuickPeriod.LAST_30_DAYS
        cleaned["season"] = cleaned.get("season") or Season.TERM.value
        campus: Campus | None = cleaned.get("campus")
        if campus is None:
            return cleaned
        for name in ("building", "room"):
            chosen = cleaned.get(name)
            place_campus_id = getattr(chosen, "campus_id", None) if name == "building" else None
            if name == "room" and chosen is not None:
                place_campus_id = chosen.building.campus_id
            if chosen is not None and place_campus_id != campus.pk:
                self.add_error(name, _("Choose one of the campus's."))
        institution = cleaned.get("institution")
        if institution is not None and institution.campus_id != campus.pk:
            self.add_error("institution", _("Choose one of the campus's."))
        days = self._days(cleaned, campus=campus, institution=institution)
        if days is not None:
            first, last = days
            season = Season(cleaned.get("season") or Season.TERM)
            self.period = Period(first_day=first, last_day=last, season=season)
        return cleaned

    def _days(
        self, cleaned: dict[str, object], *, campus: Campus, institution: Institution | None
    ) -> tuple[dt.date, dt.date] | None:
        # Left out of a hand-made link, the period is the last 30 days.
        choice = cleaned.get("quick") or QuickPeriod.LAST_30_DAYS
        if choice == QuickPeriod.TERM:
            days = term_around(self.today, campus=campus, institution=institution)
            if days is None:
                self.add_error("quick", _("No term of the calendar holds today: choose another period or dates."))
            return days
        if choice == QuickPeriod.DATES:
            first, last = cleaned.get("first_day"), cleaned.get("last_day")
            if first is None:
                self.add_error("first_day", _("Give the first day."))
            if last is None:
                self.add_error("last_day", _("Give the last day."))
            if first is None or last is None:
                return None
            if last < first:
                self.add_error("last_day", _("The last day is before the first."))
                return None
            if (last - first).days + 1 > MAX_PERIOD_DAYS:
                self.add_error("last_day", _("Choose at most two years."))
                return None
            return first, last
        if choice:
            return quick_period_days(str(choice), today=self.today)
        return None

    def selection(self) -> Selection:
        """Return what was chosen; call after ``is_valid()`` returned True."""
        return Selection(
            campus=self.cleaned_data["campus"],
            building=self.cleaned_data.get("building"),
            institution=self.cleaned_data.get("institution"),
            room=self.cleaned_data.get("room"),
            period=self.period,
        )
