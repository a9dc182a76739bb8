"""Request and response schemas of the API, each listing its fields explicitly."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Field, FilterLookup, FilterSchema, Schema
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from bookings import feeds
from bookings.models import FeedKind
from bookings.selectors import RoomsInOrder, free_room_ids_between
from campus.dates import FIRST_YEAR, LAST_YEAR, date_out_of_range_message, within_years
from campus.exceptions import InvalidInput
from campus.models import Language, Membership, Room, RoomKind, User
from campus.selectors import membership_list_for_user, room_has_equipment

# --- Inputs every schema shares ----------------------------------------------------------------

# Ids fit a signed 64-bit column with room to spare; a larger number is an error, not a database crash.
MAX_ID = 2**62


def _aware_within_years(value: dt.datetime) -> dt.datetime:
    """Return ``value`` if it carries its UTC offset and falls in the years Kampus accepts."""
    if value.utcoffset() is None:
        raise PydanticCustomError(
            "naive_datetime", _("Give the time with its UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
        )
    if not within_years(value):
        raise PydanticCustomError(
            "year_out_of_range",
            _("Give a time between %(first)d and %(last)d with its UTC offset.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return value


def _date_within_years(value: dt.date) -> dt.date:
    """Return ``value`` if it falls in the years Kampus accepts (a datetime must also carry its offset)."""
    if isinstance(value, dt.datetime):
        return _aware_within_years(value)
    if not within_years(value):
        raise PydanticCustomError("year_out_of_range", date_out_of_range_message())
    return value


def _iso_text(value: Any) -> Any:
    """Refuse a number where an ISO 8601 text is due (pydantic would read it as a Unix timestamp)."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise PydanticCustomError(
            "not_iso_8601", _("Give the time in ISO 8601 with its UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
        )
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

# Every time the API reads: aware (ISO 8601 with its UTC offset), in FIRST_YEAR–LAST_YEAR.
CampusDatetime = Annotated[dt.datetime, BeforeValidator(_iso_text), AfterValidator(_aware_within_years)]
# A local date, or a time with its offset, in FIRST_YEAR–LAST_YEAR.
CampusDateOrDatetime = Annotated[dt.date | dt.datetime, BeforeValidator(_iso_text), AfterValidator(_date_within_years)]


# The id of a row given in a query or a body.
def _no_truth_value(value: Any) -> Any:
    """Refuse true/false where an id is due (pydantic would read true as 1)."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", _("Give the id as a whole number."))
    return value


RecordId = Annotated[int, BeforeValidator(_no_truth_value), Field(ge=1, le=MAX_ID)]

# --- Errors ----------------------------------------------------------------------------------


class FieldErrorOut(Schema):
    field: str = Field(description='Dotted path of the field: "limit", "body.start".')
    message: str


class ErrorOut(Schema):
    """Every error body; domain errors may add keys such as ``conflicts``, ``rule`` or ``allowed``."""

    detail: str = Field(description="What went wrong, in the request's language.")
    code: str = Field(description="Stable code, e.g. not_found, permission_denied, bad_request.")


class InvalidInputOut(ErrorOut):
    """422 for fields that are missing, malformed or wrong; ``errors`` names each field."""

    errors: list[FieldErrorOut]


class RuleRefusalOut(ErrorOut):
    """422 for a booking rule that refuses the request: ``rule`` names it, ``allowed`` says what would pass."""

    rule: str = Field(description="e.g. other_window, min_duration, opening_hours, capacity.")
    allowed: Any = Field(
        None, description="What would pass: a number, a date, a time, {opens, closes} or null, by the rule."
    )
    can_override: bool | None = Field(None, description="Facility managers: true when override_reason may pass it.")
    skipped: list[dict[str, Any]] | None = Field(None, description="Occurrences left out, when none could be booked.")


class ConflictEntryOut(Schema):
    start: dt.datetime
    end: dt.datetime
    title: str | None = Field(description="null when its visibility hides it from you.")
    room: str
    requested_start: dt.datetime | None = Field(None, description="The start of yours that clashes with it.")


class ConflictOut(ErrorOut):
    """409: the slot is taken (``conflicts`` lists the clashing bookings) or the booking's state forbids it."""

    conflicts: list[ConflictEntryOut] | None = None


# 422 is either invalid input (errors) or a broken booking rule (rule, allowed).
UNPROCESSABLE = InvalidInputOut | RuleRefusalOut
# Every operation: not signed in; a NUL or a malformed value in any parameter.
READ_ERRORS: dict[int, Any] = {401: ErrorOut, 422: InvalidInputOut}
# Writes also: an unreadable body (400), not allowed (403), a body over 2.5 MB (413), a rule or a field refused (422).
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 413: ErrorOut, 422: UNPROCESSABLE}


# --- Campus ----------------------------------------------------------------------------------


class CampusRefOut(Schema):
    id: int
    name: str


class CampusOut(Schema):
    id: int
    name: str
    time_zone: str
    address: str


class InstitutionRefOut(Schema):
    id: int
    name: str
    short_code: str


class InstitutionOut(Schema):
    id: int
    name: str
    short_code: str
    kind: str
    campus: CampusRefOut


class BuildingRefOut(Schema):
    id: int
    code: str
    name: str


class BuildingOut(Schema):
    id: int
    code: str
    name: str
    address: str
    campus: CampusRefOut


class EquipmentOut(Schema):
    id: int
    code: str
    name: str


class AccessibilityOut(Schema):
    step_free: bool
    induction_loop: bool
    accessible_toilet_nearby: bool


class RoomOut(Schema):
    """A room as lists show it; ``owner`` is null for a room shared by the campus."""

    id: int
    code: str
    name: str
    building: BuildingRefOut
    floor: int
    kind: RoomKind
    capacity: int
    owner: InstitutionRefOut | None
    equipment: list[EquipmentOut]
    accessibility: AccessibilityOut
    is_bookable: bool

    @staticmethod
    def resolve_equipment(room: Room) -> list:
        return list(room.equipment.all())  # prefetched by the selector

    @staticmethod
    def resolve_accessibility(room: Room) -> dict[str, bool]:
        return {
            "step_free": room.step_free,
            "induction_loop": room.induction_loop,
            "accessible_toilet_nearby": room.accessible_toilet_nearby,
        }


class RoomDetailOut(RoomOut):
    area_m2: float | None
    public_feed: bool
    buffer_minutes: int = Field(description="Minutes kept free after each booking.")
    sections: list[int] = Field(description="Ids of the rooms this divisible room is made of.")
    description: str
    ical_url: str = Field(
        description="The room's bookings as an iCalendar feed for the requesting user to subscribe to: an "
        "absolute URL whose secret key stands for the user (a calendar client sends no other credential); "
        "titles as the user may see them."
    )
    public_ical_url: str | None = Field(
        description="The room's public feed (only public titles, no key), when the room has one; else null."
    )

    @staticmethod
    def resolve_sections(room: Room) -> list[int]:
        return [section.pk for section in room.sections.all()]  # prefetched by the selector

    @staticmethod
    def resolve_ical_url(room: Room, context: dict[str, Any]) -> str:
        request = context["request"]
        path = feeds.feed_path(
            owner=request.auth, feed=feeds.Feed(kind=FeedKind.ROOM, target=room), language=translation.get_language()
        )
        return request.build_absolute_uri(path)

    @staticmethod
    def resolve_public_ical_url(room: Room, context: dict[str, Any]) -> str | None:
        if not room.public_feed:
            return None
        return context["request"].build_absolute_uri(reverse("calendar:public-room", args=[room.pk]))


class BuildingFilter(FilterSchema):
    """Filters of ``GET /buildings``."""

    campus: Annotated[int | None, FilterLookup("campus_id")] = Field(None, description="Campus id.")


class RoomFilter(FilterSchema):
    """Filters of ``GET /rooms``; every given filter must hold."""

    building: Annotated[RecordId | None, FilterLookup("building_id")] = Field(None, description="Building id.")
    kind: RoomKind | None = None
    capacity_min: Annotated[int | None, FilterLookup("capacity__gte")] = Field(
        None, ge=1, description="At least this many seats."
    )
    equipment: list[str] = Field(
        default_factory=list, description="Equipment codes, repeatable; the room must have all of them."
    )
    step_free: bool | None = None
    free_from: CampusDatetime | None = Field(None, description="With free_to: only rooms open and free in [from, to).")
    free_to: CampusDatetime | None = None

    def filter_equipment(self, codes: list[str]) -> Q:
        return room_has_equipment(codes)

    def filter_free_from(self, start: dt.datetime | None) -> Q:
        return Q()  # whether a room is free needs its opening hours and bookings: see filter()

    def filter_free_to(self, end: dt.datetime | None) -> Q:
        return Q()

    def filter(self, queryset: QuerySet[Room]) -> QuerySet[Room] | RoomsInOrder:
        """Return the rooms of ``queryset`` that match; with free_from/free_to, only those free then (in order)."""
        rooms = super().filter(queryset)
        if self.free_from is None and self.free_to is None:
            return rooms
        if self.free_from is None or self.free_to is None or self.free_from >= self.free_to:
            message = _("Give both free_from and free_to, free_from before free_to.")
            raise InvalidInput(message, errors=[{"field": "free_to", "message": message}])
        return RoomsInOrder(rooms, free_room_ids_between(rooms, start=self.free_from, end=self.free_to))


# --- Me --------------------------------------------------------------------------------------


class MembershipOut(Schema):
    """A role at an institution or at the campus (exactly one of the two is set)."""

    id: int
    role: str
    institution: InstitutionRefOut | None
    campus: CampusRefOut | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    is_valid_today: bool = Field(description="In force today, by the campus's local date.")

    @staticmethod
    def resolve_is_valid_today(membership: Membership) -> bool:
        campus = membership.campus or membership.institution.campus
        return membership.is_valid_on(timezone.localdate(timezone=campus.zone))


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    email: str
    preferred_language: Language | None = Field(description="Null: the browser's language is used.")
    language: str = Field(description="The language this response is in.")
    memberships: list[MembershipOut]
    ical_url: str = Field(
        description="My own bookings as an iCalendar feed to subscribe to: an absolute URL whose secret key "
        "stands for me (a calendar client sends no other credential)."
    )

    @staticmethod
    def resolve_memberships(user: User) -> list[Membership]:
        return list(membership_list_for_user(user=user))

    @staticmethod
    def resolve_full_name(user: User) -> str:
        return user.get_full_name()

    @staticmethod
    def resolve_preferred_language(user: User) -> str | None:
        return user.preferred_language or None

    @staticmethod
    def resolve_language(user: User) -> str:
        return translation.get_language()

    @staticmethod
    def resolve_ical_url(user: User, context: dict[str, Any]) -> str:
        path = feeds.feed_path(
            owner=user, feed=feeds.Feed(kind=FeedKind.PERSON, target=user), language=translation.get_language()
        )
        return context["request"].build_absolute_uri(path)


class LanguageIn(Schema):
    language: Language
