"""Guards that keep the booking blocks true when the campus model changes underneath them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import BookingBlock
from campus.exceptions import InvalidInput
from campus.models import Room


def refuse_section_change_under_bookings(
    sender: type, instance: Room, action: str, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """Refuse to change a divisible room's sections while it or those sections hold future bookings.

    Blocks record the parts a booking held when it was made; changing the parts afterwards would
    leave old bookings guarding the wrong parts. Cancel or move those bookings first.
    """
    if action not in ("pre_add", "pre_remove", "pre_clear") or not isinstance(instance, Room):
        return
    affected = {instance.pk, *(pk_set or set()), *instance.sections.values_list("pk", flat=True)}
    future = BookingBlock.objects.filter(blocked_until__gt=timezone.now()).filter(
        Q(part_id__in=affected) | Q(booking__room_id__in=affected)
    )
    if future.exists():
        message = _(
            "The sections of %(room)s cannot change while it or its sections have future bookings; "
            "cancel or move them first."
        ) % {"room": instance}
        raise InvalidInput(message, errors=[{"field": "sections", "message": message}])
