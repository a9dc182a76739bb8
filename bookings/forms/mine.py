"""The forms of the pages for one's own bookings: change, cancel and hand over a booking."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings import recurrence, services
from bookings.forms.booking import room_label
from bookings.forms.errors import DomainForm
from bookings.forms.widgets import DATE_INPUT, TIME_INPUTS, CampusDateField, DateInput, TimeInput
from bookings.models import Booking, Purpose, Visibility
from campus.models import Room, User


def _scope_field(*, initial: str = services.Scope.OCCURRENCE, with_following: bool = True) -> forms.ChoiceField:
    choices = [(scope.value, scope.label) for scope in services.Scope if with_following or scope != scope.FOLLOWING]
    return forms.ChoiceField(label=gettext_lazy("Apply to"), choices=choices, initial=initial, widget=forms.RadioSelect)


class BookingEditForm(DomainForm):
    """Change what a booking is, where and when; ``scope`` for series, ``override_reason`` for managers."""

    lists_conflicts: ClassVar[bool] = True  # the page lists a taken slot's clashes

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    attendees = forms.IntegerField(label=gettext_lazy("Expected attendees"), min_value=1, required=False)
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=Purpose.choices)
    visibility = forms.ChoiceField(
        label=gettext_lazy("Who sees the title"),
        choices=Visibility.choices,
        help_text=gettext_lazy("Others see only that the room is reserved."),
    )
    room = forms.ModelChoiceField(label=gettext_lazy("Room"), queryset=Room.objects.none())
    date = CampusDateField(
        label=gettext_lazy("Date"),
        input_formats=[DATE_INPUT],
        widget=DateInput(),
    )
    start_time = forms.TimeField(
        label=gettext_lazy("Start time"),
        input_formats=TIME_INPUTS,
        widget=TimeInput(),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("End time"),
        input_formats=TIME_INPUTS,
        widget=TimeInput(),
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Reason to override a booking rule"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "Only for facility managers, when a rule must give way. It is kept in the booking's history."
        ),
    )

    def __init__(self, *args: Any, booking: Booking, may_override: bool, **kwargs: Any) -> None:
        zone = booking.room.building.campus.zone
        start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
        kwargs.setdefault(
            "initial",
            {
                "title": booking.title,
                "description": booking.description,
                "attendees": booking.attendees,
                "purpose": booking.purpose,
                "visibility": booking.visibility,
                "room": booking.room_id,
                "date": start.date(),
                "start_time": start.time().replace(second=0, microsecond=0),
                "end_time": end.time().replace(second=0, microsecond=0),
                "scope": services.Scope.OCCURRENCE,
            },
        )
        super().__init__(*args, **kwargs)
        self.booking = booking
        self.zone = zone
        rooms = Room.objects.filter(building__campus_id=booking.room.building.campus_id).select_related("building")
        self.fields["room"].queryset = rooms.filter(is_bookable=True) | rooms.filter(pk=booking.room_id)
        self.fields["room"].label_from_instance = room_label
        if booking.series_id:
            self.fields["scope"] = _scope_field()
        if not may_override:
            del self.fields["override_reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start_time, end_time = data.get("start_time"), data.get("end_time")
        if start_time and end_time and end_time <= start_time and self._moving(data):
            self.add_error("end_time", _("The end must be after the start."))
        return data

    def _moving(self, data: dict[str, Any]) -> bool:
        return any(name in self.changed_data for name in ("date", "start_time", "end_time"))

    def update_arguments(self) -> dict[str, Any]:
        """Return the keyword arguments for ``services.booking_update``: only what changed."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            name: data[name] for name in services.EDITABLE_FIELDS if name in self.fields and name in self.changed_data
        }
        if "description" in arguments:
            arguments["description"] = arguments["description"] or ""
        if "room" in self.changed_data:
            arguments["room"] = data["room"]
        if self._moving(data):
            arguments["start"] = recurrence.local_moment(
                data["date"], data["start_time"], self.zone, field="start_time"
            )
            arguments["end"] = recurrence.local_moment(data["date"], data["end_time"], self.zone, field="end_time")
        arguments["scope"] = data.get("scope") or services.Scope.OCCURRENCE
        arguments["override_reason"] = data.get("override_reason", "")
        return arguments


class BookingCancelForm(DomainForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("If you cancel someone else's booking, they receive it by e-mail."),
    )

    def __init__(self, *args: Any, booking: Booking, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if booking.series_id:
            self.fields["scope"] = _scope_field()
            self.order_fields(["scope", "reason"])


class HandoverForm(DomainForm):
    to_user = forms.CharField(
        label=gettext_lazy("New person responsible (username)"),
        max_length=150,
        help_text=gettext_lazy(
            "Start typing a name or username; the list offers members of the booking's institution."
        ),
        widget=forms.TextInput(attrs={"list": "handover-members", "autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("For example: a substitute teaches the course from now on. The new person reads it."),
    )

    def clean_to_user(self) -> User:
        username = self.cleaned_data["to_user"].strip()
        user = User.objects.filter(username__iexact=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("There is no active user %(username)s.") % {"username": username})
        return user
