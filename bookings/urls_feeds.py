"""Calendar feeds (for calendar clients, no sign-in), downloads and the Subscribe page."""

from django.urls import path

from bookings import views_feeds

urlpatterns = [
    path("calendar/subscribe/", views_feeds.subscribe, name="calendar-subscribe"),
    path(
        "calendar/subscribe/<str:kind>/<int:target_id>/new-address/",
        views_feeds.regenerate,
        name="calendar-regenerate",
    ),
    path("calendar/feeds/<str:kind>/<int:target_id>/<slug:key>.ics", views_feeds.feed, name="calendar-feed"),
    path("calendar/rooms/<int:pk>/public.ics", views_feeds.public_room_feed, name="calendar-public-room"),
    path("bookings/<int:pk>/calendar.ics", views_feeds.booking_ical, name="booking-ical"),
]
