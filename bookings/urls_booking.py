"""Booking pages for staff."""

from django.urls import path

from bookings import views_booking, views_mine

app_name = "bookings"

urlpatterns = [
    path("rooms/find/", views_booking.find_room, name="find-room"),
    path("rooms/<int:pk>/", views_booking.room_detail, name="room-detail"),
    path("rooms/<int:pk>/print/", views_booking.room_print, name="room-print"),
    path("bookings/new/", views_booking.booking_new, name="new"),
    path("bookings/new/preview/", views_booking.booking_preview, name="preview"),
    path("bookings/<int:pk>/", views_booking.booking_detail, name="detail"),
    path("bookings/mine/", views_mine.my_bookings, name="mine"),
    path("bookings/<int:pk>/edit/", views_mine.booking_edit, name="edit"),
    path("bookings/<int:pk>/cancel/", views_mine.booking_cancel, name="cancel"),
    path("bookings/<int:pk>/release/", views_mine.booking_release, name="release"),
    path("bookings/<int:pk>/check-in/", views_mine.booking_check_in, name="check-in"),
    path("bookings/<int:pk>/handover/", views_mine.booking_handover, name="handover"),
]
