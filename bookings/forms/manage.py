"""The forms of the facility managers' pages: deciding requests and closing rooms or buildings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings import services
from bookings.forms.errors import DomainForm
from bookings.forms.widgets import DATE_INPUT, TIME_INPUTS, CampusDateField, DateInput, TimeInput
from bookings.models import Booking
from bookings.permissions import closable_targets
from campus.models import Building, Room, User


class DecisionForm(DomainForm):
    """Approve or reject one request; for a series, one occurrence or the whole series."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required when you reject, optional when you approve. The requester reads it."),
    )

    def __init__(self, *args: Any, booking: Booking, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"decide-{booking.pk}")
        super().__init__(*args, **kwargs)
        if booking.series_id:
            self.fields["scope"] = forms.ChoiceField(
                label=gettext_lazy("Decide for"),
                choices=[
                    (services.Scope.OCCURRENCE, gettext_lazy("This occurrence only")),
                    (services.Scope.SERIES, gettext_lazy("The whole series")),
                ],
                initial=services.Scope.SERIES,
                widget=forms.RadioSelect,
            )
            self.order_fields(["scope", "reason"])
        # Optional to approve, required to reject: the help text says so, not an "(optional)" mark.
        self.fields["reason"].hide_optional = True

    @property
    def scope(self) -> str:
        return self.cleaned_data.get("scope") or services.Scope.OCCURRENCE


class ClosureForm(DomainForm):
    """Close a room or a whole building for a period; empty times mean whole days."""

    target = forms.ChoiceField(label=gettext_lazy("What to close"))
    start_date = CampusDateField(
        label=gettext_lazy("First day"),
        input_formats=[DATE_INPUT],
        widget=DateInput(),
    )
    start_time = forms.TimeField(
        label=gettext_lazy("From (time)"),
        required=False,
        input_formats=TIME_INPUTS,
        widget=TimeInput(),
    )
    end_date = CampusDateField(
        label=gettext_lazy("Last day"),
        input_formats=[DATE_INPUT],
        widget=DateInput(),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("Until (time)"),
        required=False,
        input_formats=TIME_INPUTS,
        widget=TimeInput(),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        help_text=gettext_lazy(
            "For example: renovation, matriculation exams. The people whose bookings fall into it read it."
        ),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rooms, buildings = closable_targets(user)
        rooms = rooms.select_related("building__campus").order_by("building__code", "code")
        buildings = buildings.select_related("campus").order_by("code")
        self.rooms = {room.pk: room for room in rooms}
        self.buildings = {building.pk: building for building in buildings}
        choices: list[Any] = [("", _("Choose a room or a building"))]
        if self.buildings:
            choices.append(
                (
                    _("Whole buildings"),
                    [(f"building:{b.pk}", f"{b.code} {b.name}") for b in self.buildings.values()],
                )
            )
        choices.append((_("Rooms"), [(f"room:{r.pk}", r.label) for r in self.rooms.values()]))
        self.fields["target"].choices = choices
        self.order_fields(["target", "start_date", "start_time", "end_date", "end_time", "reason"])

    def clean_target(self) -> Room | Building:
        kind, _sep, pk = self.cleaned_data["target"].partition(":")
        found = (self.rooms if kind == "room" else self.buildings if kind == "building" else {}).get(
            int(pk) if pk.isdigit() else 0
        )
        if found is None:
            raise forms.ValidationError(_("Choose a room or a building from the list."))
        return found

    def closure_arguments(self) -> dict[str, Any]:
        """Return the keyword arguments for ``services.closure_create`` (times in the campus zone)."""
        data = self.cleaned_data
        target = data["target"]
        room = target if isinstance(target, Room) else None
        building = target if isinstance(target, Building) else None
        zone = (room.building.campus if room is not None else building.campus).zone
        start = dt.datetime.combine(data["start_date"], data.get("start_time") or dt.time(0, 0), tzinfo=zone)
        if data.get("end_time"):
            end = dt.datetime.combine(data["end_date"], data["end_time"], tzinfo=zone)
        else:
            end = dt.datetime.combine(data["end_date"] + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
        return {"room": room, "building": building, "start": start, "end": end, "reason": data["reason"]}


class ConfirmCancelForm(DomainForm):
    confirm = forms.BooleanField(
        label=gettext_lazy("Yes, cancel these bookings and tell their bookers"),
        error_messages={"required": gettext_lazy("Tick the box to confirm that the bookings are to be cancelled.")},
    )
