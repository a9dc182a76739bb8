"""Rooms: search by building, kind, size, equipment and access; one room in detail."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router
from ninja.pagination import paginate

from api.pagination import KampusPagination
from api.schemas import READ_ERRORS, ErrorOut, RoomDetailOut, RoomFilter, RoomOut
from bookings.selectors import RoomsInOrder
from campus import selectors
from campus.models import Room

router = Router(tags=["rooms"])


@router.get("/rooms", response={200: list[RoomOut], **READ_ERRORS})
@paginate(KampusPagination)
def list_rooms(request: HttpRequest, filters: Query[RoomFilter]) -> QuerySet[Room] | RoomsInOrder:
    """List rooms matching every given filter; with `free_from`/`free_to`, only rooms free then."""
    # A list shows neither sections nor the campus (the detail does): not fetching them saves a query
    # and two objects per room of the page.
    rooms = (
        selectors.room_list()
        .select_related(None)
        .select_related("building", "owner")
        .prefetch_related(None)
        .prefetch_related("equipment")
    )
    return filters.filter(rooms)


@router.get("/rooms/{room_id}", response={200: RoomDetailOut, 404: ErrorOut, **READ_ERRORS})
def get_room(request: HttpRequest, room_id: int) -> Room:
    """Return one room with its equipment, accessibility facts and sections."""
    return get_object_or_404(selectors.room_list(), pk=room_id)
