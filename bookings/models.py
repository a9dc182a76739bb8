"""Bookings of rooms, recurring series, and the blocks that make double booking impossible."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campus.models import Campus, Institution, Room


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    RELEASED = "released", _("Released early")


# Active bookings hold their slot (and have blocks); the others are history.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class Visibility(models.TextChoices):
    INSTITUTION = "institution", _("My institution")
    CAMPUS = "campus", _("Everyone on the campus")
    PUBLIC = "public", _("Public")


class Purpose(models.TextChoices):
    TEACHING = "teaching", _("Teaching")
    EXAM = "exam", _("Exam")
    MEETING = "meeting", _("Meeting")
    EVENT = "event", _("Event")
    MAINTENANCE = "maintenance", _("Maintenance")
    OTHER = "other", _("Other")


class BookingSeries(models.Model):
    """A recurring booking: its RFC 5545 rule, kept for display and iCal; its occurrences are Bookings."""

    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, related_name="booking_series")
    rrule = models.CharField(_("repeat rule (RRULE)"), max_length=500)
    dtstart = models.DateTimeField(_("first start"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    exdates = models.JSONField(_("excluded starts"), default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="booking_series",
        verbose_name=_("owner"),
        help_text=_("The person responsible for the series (changes on handover)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("booking series")
        verbose_name_plural = _("booking series")

    def __str__(self) -> str:
        return f"{self.rrule} from {self.dtstart:%Y-%m-%d}"


class Booking(models.Model):
    """One booking of a room for [start, end); an occurrence when it belongs to a series."""

    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, related_name="bookings")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("room"))
    series = models.ForeignKey(
        BookingSeries, on_delete=models.CASCADE, related_name="occurrences", null=True, blank=True
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices, default=Purpose.TEACHING)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("booked by"),
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="bookings",
        null=True,
        blank=True,
        verbose_name=_("for institution"),
        help_text=_("Empty for the campus's own facility services."),
    )
    on_behalf_of_name = models.CharField(_("on behalf of (person)"), max_length=200, blank=True)
    on_behalf_of_contact = models.CharField(_("contact (e-mail or phone)"), max_length=200, blank=True)
    on_behalf_of_organisation = models.CharField(_("on behalf of (organisation)"), max_length=200, blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    attendees = models.PositiveIntegerField(_("expected attendees"), null=True, blank=True)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INSTITUTION
    )
    status = models.CharField(
        _("status"), max_length=16, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="booking_starts_before_it_ends"),
            models.CheckConstraint(
                condition=Q(attendees__isnull=True) | Q(attendees__gt=0), name="booking_attendees_positive"
            ),
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(status=BookingStatus.RELEASED),
                name="booking_released_at_only_when_released",
            ),
        ]
        indexes = [
            models.Index(fields=["room", "start"], name="booking_room_start"),
            models.Index(fields=["campus", "start"], name="booking_campus_start"),
            models.Index(fields=["booked_by", "start"], name="booking_booker_start"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.room.code}, {self.start:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BookingBlock(models.Model):
    """The blocked interval [start, blocked_until) of one active booking on one room part.

    Exactly the active bookings have blocks: one per part of the booked room (the room itself, or
    each of its sections). On PostgreSQL an exclusion constraint (migration 0002) forbids two
    overlapping blocks of one part; ``blocked_until`` is the booking's end plus the room's buffer.
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="blocks")
    part = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="blocks")
    start = models.DateTimeField()
    blocked_until = models.DateTimeField()

    class Meta:
        verbose_name = _("booking block")
        verbose_name_plural = _("booking blocks")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("blocked_until")), name="block_starts_before_it_ends"
            ),
            models.UniqueConstraint(fields=["booking", "part"], name="block_one_per_booking_part"),
        ]
        indexes = [models.Index(fields=["part", "start"], name="block_part_start")]

    def __str__(self) -> str:
        return f"{self.part_id} [{self.start:%Y-%m-%d %H:%M}, {self.blocked_until:%H:%M})"
