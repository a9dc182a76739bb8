"""Who sees a booking's title: everyone (public), the campus, or the booking's institution.

Others see only that the slot is reserved. The people behind a booking (its booker, whom it is
for, the decision's reason and its history) are for fewer still: the booker, the booking's
institution and the facility services, whatever the visibility of the title. Computed from one
small query per viewer, so lists stay free of N+1 queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from bookings.models import Booking, Visibility
from campus.models import Role, User
from campus.permissions import LoadedMemberships, valid_memberships


@dataclass(frozen=True)
class Viewer:
    """What a user's valid memberships let them see."""

    user_id: int | None = None
    is_superuser: bool = False
    institution_ids: frozenset[int] = field(default_factory=frozenset)
    campus_ids: frozenset[int] = field(default_factory=frozenset)
    # Campuses whose facility services (facility managers, front desk) see every title.
    campus_service_ids: frozenset[int] = field(default_factory=frozenset)
    # Institutions whose facility managers see every title in the institution's rooms.
    managed_institution_ids: frozenset[int] = field(default_factory=frozenset)

    def sees_title(self, booking: Booking) -> bool:
        if booking.visibility == Visibility.PUBLIC:
            return True
        if booking.visibility == Visibility.CAMPUS and booking.campus_id in self.campus_ids:
            return True
        return self.sees_details(booking)

    def sees_details(self, booking: Booking) -> bool:
        """Return whether the viewer sees who booked, for whom, the decision's reason and the history.

        A public or campus-wide title does not make these public: only the booker, members of the
        booking's institution, the campus's facility services and the facility managers of the
        room's owner see them.
        """
        if self.is_superuser:
            return True
        if self.user_id is None:
            return False
        if booking.booked_by_id == self.user_id or booking.campus_id in self.campus_service_ids:
            return True
        if booking.institution_id is not None and booking.institution_id in self.institution_ids:
            return True
        return booking.room.owner_id is not None and booking.room.owner_id in self.managed_institution_ids

    def title_of(self, booking: Booking) -> str | None:
        """Return the title, or None when this viewer may only see that the slot is taken."""
        return booking.title if self.sees_title(booking) else None

    def display_title(self, booking: Booking) -> str:
        return self.title_of(booking) or _("Reserved")


def viewer_for(user: User | AnonymousUser | None, *, memberships: LoadedMemberships | None = None) -> Viewer:
    """Return the visibility scope of ``user`` (anonymous users see public titles only).

    ``memberships``: the user's, when already loaded (``loaded_memberships``); else they are read.
    """
    if user is None or not user.is_authenticated:
        return Viewer()
    institution_ids: set[int] = set()
    campus_ids: set[int] = set()
    service_ids: set[int] = set()
    managed: set[int] = set()
    valid = memberships.valid_memberships() if memberships is not None else valid_memberships(user)
    for membership in valid:
        if membership.institution_id:
            institution_ids.add(membership.institution_id)
            campus_ids.add(membership.institution.campus_id)
            if membership.role == Role.FACILITY_MANAGER:
                managed.add(membership.institution_id)
        else:
            campus_ids.add(membership.campus_id)
            if membership.role in (Role.FACILITY_MANAGER, Role.FRONT_DESK):
                service_ids.add(membership.campus_id)
    return Viewer(
        user_id=user.pk,
        is_superuser=user.is_superuser,
        institution_ids=frozenset(institution_ids),
        campus_ids=frozenset(campus_ids),
        campus_service_ids=frozenset(service_ids),
        managed_institution_ids=frozenset(managed),
    )
