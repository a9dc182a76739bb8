"""Door display pages: no sign-in, the display's secret in the address."""

from django.urls import path

from utilisation import views_door

app_name = "door"

urlpatterns = [
    path("door/<str:token>/", views_door.door, name="display"),
    path("door/<str:token>/check-in/", views_door.door_check_in_view, name="check-in"),
]
