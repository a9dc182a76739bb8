"""Rooms: search by building, kind, size, equipment and access; one room in detail."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate

from api.pagination import KampusPagination
from api.schemas import READ_ERRORS, ErrorOut, RoomDetailOut, RoomFilter, RoomOut
from bookings import selectors as booking_selectors
from campus import selectors
from campus.exceptions import InvalidInput
from campus.models import Room

router = Router(tags=["rooms"])


@router.get("/rooms", response={200: list[RoomOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_rooms(request: HttpRequest, filters: Query[RoomFilter]) -> QuerySet[Room]:
    """List rooms matching every given filter; with `free_from`/`free_to`, only rooms free then."""
    rooms = selectors.room_list(
        building_id=filters.building,
        kind=filters.kind,
        capacity_min=filters.capacity_min,
        equipment=filters.equipment,
        step_free=filters.step_free,
    )
    if filters.free_from is None and filters.free_to is None:
        return rooms
    if filters.free_from is None or filters.free_to is None or filters.free_from >= filters.free_to:
        message = _("Give both free_from and free_to, free_from before free_to.")
        raise InvalidInput(message, errors=[{"field": "free_to", "message": message}])
    free = booking_selectors.rooms_free_between(rooms, start=filters.free_from, end=filters.free_to)
    return rooms.filter(pk__in=[room.pk for room in free])


@router.get("/rooms/{room_id}", response={200: RoomDetailOut, 404: ErrorOut, **READ_ERRORS})
def get_room(request: HttpRequest, room_id: int) -> Room:
    """Return one room with its equipment, accessibility facts and sections."""
    return get_object_or_404(selectors.room_list(), pk=room_id)
