"""Site pages: accessibility statement, privacy notice, and the icon browsers ask for."""

from django.urls import path

from campus import views_site

urlpatterns = [
    path("accessibility/", views_site.accessibility, name="accessibility"),
    path("privacy/", views_site.privacy, name="privacy"),
    path("favicon.ico", views_site.favicon, name="favicon"),
]
