"""Page URLs (the full web interface arrives with the web issue)."""

from django.urls import path

from campus import views

urlpatterns = [
    path("", views.home, name="home"),
]
