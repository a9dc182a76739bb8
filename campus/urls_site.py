"""Site pages: the front page, accessibility statement, privacy notice, the profile, and the icon browsers ask for."""

from django.urls import path

from campus import views_profile, views_site

app_name = "campus"

urlpatterns = [
    path("", views_site.home, name="home"),
    path("accessibility/", views_site.accessibility, name="accessibility"),
    path("privacy/", views_site.privacy, name="privacy"),
    path("favicon.ico", views_site.favicon, name="favicon"),
    path("profile/", views_profile.profile, name="profile"),
    path("profile/data.json", views_profile.personal_data_download, name="profile-data"),
    path("profile/tokens/<int:pk>/revoke/", views_profile.token_revoke_view, name="profile-token-revoke"),
]
