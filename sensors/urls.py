"""Sensor pages for facility managers."""

from django.urls import path

from sensors import views

app_name = "sensors"

urlpatterns = [
    path("manage/sensors/", views.sensor_list, name="list"),
    path("manage/sensors/dead-letters/", views.dead_letter_list, name="dead-letters"),
]
