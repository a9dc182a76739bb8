"""Kampus URL configuration."""

from django.contrib import admin
from django.urls import include, path

from api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("campus.urls_site")),
    path("", include("campus.urls_pages")),
    path("", include("bookings.urls_booking")),
    path("", include("bookings.urls_manage")),
]
