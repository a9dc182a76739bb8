"""Booking pages for staff."""

from django.urls import path

from bookings import views_booking
from campus import views

urlpatterns = [
    path("rooms/find/", views_booking.find_room, name="find-room"),
    path("rooms/<int:pk>/", views_booking.room_detail, name="room-detail"),
    path("rooms/<int:pk>/print/", views_booking.room_print, name="room-print"),
    path("bookings/new/", views_booking.booking_new, name="booking-new"),
    path("bookings/new/preview/", views_booking.booking_preview, name="booking-preview"),
    path("bookings/<int:pk>/", views_booking.booking_detail, name="booking-detail"),
    path("bookings/mine/", views.placeholder, name="my-bookings"),
]
