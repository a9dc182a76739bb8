"""Writes of booking rules (``BookingPolicy``): the admin and any other entry point call these.

Who may set rules where lives in ``campus.permissions.may_set_booking_rules``: a room's rules
belong to those who keep the room, a building's or the campus's to the campus's facility managers.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from bookings import rules
from bookings.models import BookingPolicy
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Building, Campus, Room, User
from campus.permissions import may_set_booking_rules


def require_policy_permission(
    actor: User, *, room: Room | None = None, building: Building | None = None, campus: Campus | None = None
) -> None:
    """Refuse unless exactly one target is given and ``actor`` may set its rules; name the field at fault."""
    targets = [name for name, value in (("campus", campus), ("building", building), ("room", room)) if value]
    if len(targets) != 1:
        message = _("Choose exactly one of campus, building or room for the rules.")
        raise InvalidInput(message, errors=[{"field": targets[-1] if targets else "room", "message": message}])
    if may_set_booking_rules(actor, room=room, building=building, campus=campus):
        return
    if room is not None:
        message = _("You may set booking rules only for rooms you manage; %(room)s is not one of them.") % {
            "room": room
        }
    else:
        message = _("Only the campus's facility managers set booking rules for a whole building or the campus.")
    raise PermissionDenied(message, errors=[{"field": targets[0], "message": message}])


def _require_for(actor: User, policy: BookingPolicy) -> None:
    require_policy_permission(actor, room=policy.room, building=policy.building, campus=policy.campus)


# Rules where 0 would make every booking impossible: empty means "inherit", 0 is refused.
AT_LEAST_ONE = (
    "max_duration_minutes",
    "max_advance_days",
    "max_active_bookings",
    "owner_window_days",
    "other_window_days",
    "request_expiry_hours",
    "no_show_minutes",
)


def policy_values_check(policy: BookingPolicy) -> None:
    """Refuse rules that would make the target unbookable, with messages that say which field to fix."""
    errors = [
        {"field": name, "message": _("Give at least 1, or leave it empty to inherit the rule.")}
        for name in AT_LEAST_ONE
        if getattr(policy, name) == 0
    ]
    inherited = rules.effective_policy(policy.room) if policy.room is not None else rules.DEFAULT_POLICY
    shortest = (
        policy.min_duration_minutes if policy.min_duration_minutes is not None else inherited.min_duration_minutes
    )
    longest = policy.max_duration_minutes if policy.max_duration_minutes is not None else inherited.max_duration_minutes
    if longest and shortest > longest:
        errors.append(
            {
                "field": "min_duration_minutes" if policy.min_duration_minutes is not None else "max_duration_minutes",
                "message": _("The shortest booking (%(min)d min) would be longer than the longest (%(max)d min).")
                % {"min": shortest, "max": longest},
            }
        )
    if errors:
        raise InvalidInput(" ".join(e["message"] for e in errors), errors=errors)


@transaction.atomic
def policy_save(*, policy: BookingPolicy, actor: User) -> BookingPolicy:
    """Create or change ``policy`` as ``actor``, who must be allowed to set the rules of its old and new target."""
    _require_for(actor, policy)
    if policy.pk is not None:
        stored = BookingPolicy.objects.select_related("room__building", "building", "campus").get(pk=policy.pk)
        _require_for(actor, stored)
    policy_values_check(policy)
    try:
        policy.full_clean()
    except ValidationError as error:
        raise InvalidInput(
            " ".join(error.messages),
            errors=[
                {"field": field, "message": " ".join(messages)}
                for field, messages in getattr(error, "message_dict", {"__all__": error.messages}).items()
            ],
        ) from error
    policy.save()
    return policy


@transaction.atomic
def policy_delete(*, policy: BookingPolicy, actor: User) -> None:
    """Delete ``policy`` (its target inherits the defaults again), as ``actor``."""
    _require_for(actor, policy)
    policy.delete()
