"""Widgets and fields the page forms share: date and time inputs, a list of dates, dates within the accepted years."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from campus.dates import date_out_of_range_message, within_years

DATE_INPUT = "%Y-%m-%d"
TIME_INPUTS = ["%H:%M", "%H:%M:%S"]


def validate_within_years(value: dt.date) -> None:
    if not within_years(value):
        raise ValidationError(date_out_of_range_message(), code="out_of_range")


class CampusDateField(forms.DateField):
    """A date field that refuses dates outside FIRST_YEAR–LAST_YEAR with a form error."""

    default_validators = [validate_within_years]


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
