"""Filters of the sensor pages, read from the query string."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from sensors.models import DeadLetterReason, SensorStatus


def _filter(field: forms.Field) -> forms.Field:
    field.hide_optional = True  # a filter is optional by nature: no "(optional)" after its label
    return field


class SensorFilterForm(forms.Form):
    status = _filter(
        forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *SensorStatus.choices])
    )


class DeadLetterFilterForm(forms.Form):
    reason = _filter(
        forms.ChoiceField(label=_("Reason"), required=False, choices=[("", _("Any reason")), *DeadLetterReason.choices])
    )
