"""The room-use dashboard for facility managers and institution admins."""

from django.urls import path

from utilisation import views

app_name = "utilisation"

urlpatterns = [
    path("manage/room-use/", views.dashboard_page, name="dashboard"),
]
