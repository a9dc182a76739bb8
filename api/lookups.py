"""Ids in request bodies and queries turned into rows, or a 422 naming the field."""

from __future__ import annotations

from django.utils.translation import gettext as _

from campus.exceptions import InvalidInput
from campus.models import Institution, Room
from campus.selectors import room_with_campus


def room_or_invalid(room_id: int, field: str = "room") -> Room:
    """Return the room with its building and campus, or refuse ``field`` naming the id."""
    room = room_with_campus(room_id)
    if room is None:
        message = _("There is no room with id %(id)s.") % {"id": room_id}
        raise InvalidInput(message, errors=[{"field": field, "message": message}])
    return room


def institution_or_invalid(institution_id: int | None) -> Institution | None:
    """Return the institution (None when not given), or refuse the id."""
    if institution_id is None:
        return None
    institution = Institution.objects.filter(pk=institution_id).first()
    if institution is None:
        message = _("There is no institution with id %(id)s.") % {"id": institution_id}
        raise InvalidInput(message, errors=[{"field": "institution", "message": message}])
    return institution
