"""Template context shared by every page: what the signed-in user may reach."""

from dataclasses import asdict

from django.http import HttpRequest

from campus.permissions import PageAccess, page_access


def roles(request: HttpRequest) -> dict[str, bool]:
    """Return flags for the navigation: facility manager, front desk, admin access."""
    user = getattr(request, "user", None)
    return asdict(page_access(user) if user is not None else PageAccess())
