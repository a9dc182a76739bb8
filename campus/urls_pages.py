"""The front page."""

from django.urls import path

from campus import views_site

urlpatterns = [
    path("", views_site.home, name="home"),
]
