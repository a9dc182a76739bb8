"""Template context shared by every page: what the signed-in user may reach."""

from django.http import HttpRequest

from campus.models import Role
from campus.permissions import valid_memberships


def roles(request: HttpRequest) -> dict[str, bool]:
    """Return flags for the navigation: facility manager, front desk, admin access."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_facility_manager": False, "is_front_desk": False, "may_use_admin": False}
    held = set(valid_memberships(user).values_list("role", flat=True))
    manager = user.is_superuser or Role.FACILITY_MANAGER in held
    return {
        "is_facility_manager": manager,
        "is_front_desk": manager or Role.FRONT_DESK in held,
        "may_use_admin": manager or Role.INSTITUTION_ADMIN in held,
    }
