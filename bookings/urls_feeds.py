"""Calendar feeds (for calendar clients, no sign-in), downloads and the Subscribe page."""

from django.urls import path

from bookings import views_feeds

app_name = "calendar"

urlpatterns = [
    path("calendar/subscribe/", views_feeds.subscribe, name="subscribe"),
    path(
        "calendar/subscribe/<str:kind>/<int:target_id>/new-address/",
        views_feeds.regenerate,
        name="regenerate",
    ),
    path("calendar/feeds/<str:kind>/<int:target_id>/<slug:key>.ics", views_feeds.feed, name="feed"),
    path("calendar/rooms/<int:pk>/public.ics", views_feeds.public_room_feed, name="public-room"),
    path("bookings/<int:pk>/calendar.ics", views_feeds.booking_ical, name="booking"),
]
