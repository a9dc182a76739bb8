"""Kampus URL configuration."""

from django.contrib import admin
from django.urls import include, path

from api.api import api
from campus import views_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/setlang/", views_language.set_language, name="set_language"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("campus.urls_site")),
    path("", include("bookings.urls_booking")),
    path("", include("bookings.urls_manage")),
    path("", include("bookings.urls_feeds")),
    path("", include("sensors.urls")),
    path("", include("utilisation.urls")),
    path("", include("utilisation.urls_door")),
]

handler400 = "campus.views_errors.bad_request"
handler404 = "campus.views_errors.page_not_found"
handler500 = "campus.views_errors.server_error"
