"""Who may read utilisation reports, and of what: one answer for the API, the CSV and the dashboard.

- a superuser or a facility manager of the campus (its facility services): the whole campus;
- a facility manager of an institution: the rooms that institution owns, and that institution's
  own bookings (its detail as a booking owner);
- an institution admin: their own institution's detail (by booking owner, ``utilisation.metrics``)
  and the rooms it owns;
- staff and front desk: nothing (a report is about rooms and institutions, not one's own bookings).
Memberships count on the campus's current date; an expired membership gives nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from campus.exceptions import PermissionDenied
from campus.models import Building, Campus, Institution, Role, Room, User
from campus.permissions import loaded_memberships


@dataclass(frozen=True)
class ReportAccess:
    """What one person may see of one campus's reports."""

    whole_campus: bool = False
    institution_ids: frozenset[int] = field(default_factory=frozenset)  # institutions whose detail they see
    room_owner_ids: frozenset[int] = field(default_factory=frozenset)  # rooms owned by these institutions

    @property
    def may_view(self) -> bool:
        return self.whole_campus or bool(self.institution_ids) or bool(self.room_owner_ids)

    def sees_room(self, room: Room) -> bool:
        return self.whole_campus or (room.owner_id is not None and room.owner_id in self.room_owner_ids)

    def sees_institution(self, institution: Institution) -> bool:
        return self.whole_campus or institution.pk in self.institution_ids


def report_access(user: User, campus: Campus) -> ReportAccess:
    """Return what ``user`` may see of ``campus``'s utilisation reports (nothing for anonymous users)."""
    if not user.is_authenticated or not user.is_active:
        return ReportAccess()
    memberships = loaded_memberships(user)
    if memberships.is_campus_facility_manager(campus.pk):
        return ReportAccess(whole_campus=True)
    valid = [
        m
        for m in memberships.valid_memberships()
        if m.institution_id is not None and m.institution.campus_id == campus.pk
    ]
    managed = {m.institution_id for m in valid if m.role == Role.FACILITY_MANAGER}
    administered = {m.institution_id for m in valid if m.role == Role.INSTITUTION_ADMIN}
    return ReportAccess(
        institution_ids=frozenset(managed | administered), room_owner_ids=frozenset(managed | administered)
    )


def require_report_access(
    user: User,
    *,
    campus: Campus,
    building: Building | None = None,
    institution: Institution | None = None,
    room: Room | None = None,
) -> ReportAccess:
    """Refuse unless ``user`` may see the report of this selection; return their access for narrowing lists."""
    access = report_access(user, campus)
    if not access.may_view:
        raise PermissionDenied(_("Only facility managers and institution admins see utilisation reports."))
    if room is not None and not access.sees_room(room):
        raise PermissionDenied(_("You may not see the utilisation of this room."))
    if institution is not None and not access.sees_institution(institution):
        raise PermissionDenied(_("You may only see your own institution's utilisation."))
    if building is not None and not access.whole_campus:
        raise PermissionDenied(_("Only the campus's facility managers see whole buildings."))
    if building is None and institution is None and room is None and not access.whole_campus:
        raise PermissionDenied(_("Only the campus's facility managers see the whole campus; choose your institution."))
    return access
