"""Site pages: accessibility statement and privacy notice."""

from django.urls import path

from campus import views_site

urlpatterns = [
    path("accessibility/", views_site.accessibility, name="accessibility"),
    path("privacy/", views_site.privacy, name="privacy"),
]
