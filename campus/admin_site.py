"""The Kampus admin site: entry is decided by memberships (campus.permissions), not by ``is_staff``.

Install it in place of the stock site with ``"campus.admin_site.KampusAdminConfig"`` instead of
``"django.contrib.admin"`` in ``INSTALLED_APPS``; ``admin.site`` and every app's ``admin.py`` then use it.

This module is imported while the app registry is still loading, so it may not import models at
the top: the model-dependent imports sit inside the methods that need them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class KampusAdminSite(AdminSite):
    """The admin for facility managers and institution admins (and superusers)."""

    site_header = _("Kampus administration")
    site_title = _("Kampus administration")
    index_title = _("Rooms, buildings and people")

    def has_permission(self, request: HttpRequest) -> bool:
        """Return whether the user may enter the admin: a superuser or a valid admin membership."""
        from campus.permissions import may_use_admin

        user = request.user
        return user.is_active and user.is_authenticated and may_use_admin(user)

    @property
    def login_form(self) -> type[Any]:  # type: ignore[override]
        """Return the sign-in form: any active account may sign in; the pages then check membership.

        The admin's sign-in page is also the site's ``LOGIN_URL``, so staff who only book rooms sign in
        here too; ``has_permission`` keeps them out of the admin pages.
        """
        from django.contrib.auth.forms import AuthenticationForm

        return AuthenticationForm


class KampusAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`KampusAdminSite` as its default site."""

    default_site = "campus.admin_site.KampusAdminSite"
