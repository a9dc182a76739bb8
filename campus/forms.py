"""What every Kampus form shares: showing a domain error (``KampusError``) as form errors.

The services refuse with a message and, for invalid input, the fields at fault
(``errors=[{field, message}]``); a form shows each at its field, or for the whole form when it has
no such field. ``bookings.forms.errors`` builds the booking pages' errors on this (broken rules,
taken slots).
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from campus.exceptions import KampusError


def form_field(form: forms.Form, name: str | None, *, names: Mapping[str, str] | None = None) -> str | None:
    """Return the field of ``form`` that a service's field ``name`` is about, or None when it has none.

    A name may be an API path (``body.start``) or name an item (``exdates.2``); ``names`` maps a
    service's name to the form's where they differ (``start`` → ``start_time``).
    """
    if not name:
        return None
    name = str(name).removeprefix("body.").split(".")[0]
    name = (names or {}).get(name, name)
    return name if name in form.fields else None


def add_field_errors(
    form: forms.Form, error: KampusError, *, names: Mapping[str, str] | None = None
) -> list[str | None]:
    """Add each field error that ``error`` lists to its field of ``form`` (or to the whole form).

    Return the fields the errors went to, in order (None for the whole form); empty when ``error``
    lists none.
    """
    targets: list[str | None] = []
    for entry in error.extra.get("errors") or []:
        target = form_field(form, entry.get("field"), names=names)
        form.add_error(target, str(entry.get("message") or error.message))
        targets.append(target)
    return targets


def add_domain_error(form: forms.Form, error: KampusError, *, field: str | None = None) -> None:
    """Show ``error`` on ``form``: the field errors it lists, else its message at ``field`` (or for the form)."""
    if add_field_errors(form, error):
        return
    form.add_error(field if field in form.fields else None, error.message)
