"""The one adapter from a domain error to form errors, for the booking pages and the admin.

A service refuses with a ``KampusError``: invalid input lists the fields at fault, a broken rule
(``BookingRuleBroken``) names the rule and what it would allow, a taken slot (``SlotTaken``) lists
the clashes. ``add_domain_error`` puts each at the field it is about, or on the form as a whole,
and returns a ``Problem`` with what a page shows beside the form (the clashes, the dates skipped,
whether the rule may be overridden). Where the errors go is declared by the form itself (see
``add_domain_error``); ``DomainForm`` declares it for the page forms. The part every Kampus form
shares (the fields an error lists) is ``campus.forms``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.errors import BookingRuleBroken, SlotTaken
from bookings.forms.words import duration_words, long_date
from campus.exceptions import KampusError
from campus.forms import add_field_errors, form_field


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
# Where a service's field name belongs in the booking form (``BookingForm``).
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


# Where the page forms' time fields are, by the services' names of them.
PAGE_FIELDS = {"start": "start_time", "end": "end_time"}


def conflicts_text(conflicts: list[dict[str, Any]]) -> str:
    """Return the clashes of a taken slot in one line, for a form whose page does not list them."""
    return ", ".join(
        f"{c['start']:%Y-%m-%d %H:%M}–{c['end']:%H:%M} {c.get('title') or _('Reserved')}" for c in conflicts
    )


def add_domain_error(form: forms.Form, error: KampusError) -> Problem:
    """Show a service's refusal on ``form``: at the fields it is about, else for the whole form.

    Return what the page shows beside the form. The form declares where errors go (a form that
    declares nothing, like the admin's, gets them under the services' own field names):

    - ``service_fields``: the form's name of a field the services name differently;
    - ``error_fields``: the field a broken rule (by its rule) or another refusal (by its code) is about;
    - ``lists_conflicts``: the page lists a taken slot's clashes (``Problem.conflicts``); otherwise
      the message names them;
    - ``message_for_form``: state the message for the whole form even when the fields the error
      lists got theirs (the admin, whose field errors sit far apart).
    """
    problem = Problem(message=error.message, code=error.code)
    targets = add_field_errors(form, error, names=getattr(form, "service_fields", None))
    if targets:
        problem.on_field = targets[0]
        if not getattr(form, "message_for_form", False):
            return problem
    message = error.message
    about = error.code
    if isinstance(error, SlotTaken):
        problem.conflicts = [{**c, "start": _local(c["start"]), "end": _local(c["end"])} for c in error.conflicts]
        if not getattr(form, "lists_conflicts", False) and problem.conflicts:
            message = f"{message} {conflicts_text(problem.conflicts)}"
    elif isinstance(error, BookingRuleBroken):
        about = error.rule
        problem.allowed = allowed_text(error)
        problem.can_override = bool(error.extra.get("can_override"))
        problem.skipped = [
            {**s, "start": _local(s["start"]), "end": _local(s["end"])} for s in error.extra.get("skipped", [])
        ]
        message = " ".join(part for part in (message, problem.allowed) if part)
        if problem.can_override:
            message += " " + _("You may override this rule: give a reason below.")
            if "override_reason" in form.fields:
                form.add_error("override_reason", _("Give a reason to override the rule."))
    target = form_field(form, getattr(form, "error_fields", {}).get(about))
    if not targets:
        problem.on_field = target
    form.add_error(target, message)
    return problem


class DomainForm(forms.Form):
    """A page form: its fields get the error styling (``has-error``) of Kampus's stylesheet, and a
    refusal's errors go to its time fields and to the fields the broken rules are about."""

    error_css_class = "has-error"
    required_css_class = "required"
    service_fields: ClassVar[Mapping[str, str]] = PAGE_FIELDS
    error_fields: ClassVar[Mapping[str, str]] = {**RULE_FIELDS, "slot_taken": "start_time"}
    lists_conflicts: ClassVar[bool] = False
