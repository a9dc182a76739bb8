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


class Scope(models.TextChoices):
    """Which occurrences of a series a change, cancellation or decision covers, counted from one booking."""

    OCCURRENCE = "occurrence", _("Only this occurrence")
    FOLLOWING = "following", _("This and the following occurrences")
    SERIES = "series", _("The whole series")


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
    """A recurring booking: its RFC 5545 rule and exceptions; its occurrences are Bookings.

    The rule from ``dtstart`` (each instance as long as [dtstart, dtend) in wall-clock time), less
    ``exdates``, gives exactly the series' active occurrences, each by its ``recurrence_id``; an
    occurrence whose start or length differs from its instance is an override (a moved occurrence).
    Cancelled, rejected, expired, released and skipped instances are in ``exdates``.
    """

    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, related_name="booking_series")
    rrule = models.CharField(_("repeat rule (RRULE)"), max_length=500)
    dtstart = models.DateTimeField(_("first start"))
    dtend = models.DateTimeField(_("first end"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    exdates = models.JSONField(
        _("excluded starts"),
        default=list,
        blank=True,
        help_text=_("Starts (ISO 8601, UTC) the rule gives but the series leaves out."),
    )
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
    # iCalendar SEQUENCE of the series as one calendar object: raised on every change to the rule,
    # its exceptions or any occurrence, so calendar clients replace their copy.
    sequence = models.PositiveIntegerField(_("revision"), default=0, editable=False)

    class Meta:
        verbose_name = _("booking series")
        verbose_name_plural = _("booking series")

    def __str__(self) -> str:
        return f"{self.rrule} from {self.dtstart.astimezone(self.campus.zone):%Y-%m-%d}"


class Booking(models.Model):
    """One booking of a room for [start, end); an occurrence when it belongs to a series."""

    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, related_name="bookings")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("room"))
    series = models.ForeignKey(
        BookingSeries, on_delete=models.CASCADE, related_name="occurrences", null=True, blank=True
    )
    # The start the series' rule gives this occurrence (iCal RECURRENCE-ID); it stays when the occurrence moves.
    recurrence_id = models.DateTimeField(_("original start in its series"), null=True, blank=True)
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
    # When the booker (or the room's door display) confirmed that the booking is in use; the first time stays.
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    # Approval workflow: a pending request holds its slot until decided or expired.
    expires_at = models.DateTimeField(_("request expires"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # iCalendar SEQUENCE: raised by the services on every change, so calendar clients take it.
    sequence = models.PositiveIntegerField(_("revision"), default=0, editable=False)
    # When its personal data was removed (retention, or its booker's account deleted): bookings.anonymising.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)

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
            models.CheckConstraint(
                condition=Q(series__isnull=True, recurrence_id__isnull=True)
                | Q(series__isnull=False, recurrence_id__isnull=False),
                name="booking_recurrence_id_iff_in_series",
            ),
        ]
        indexes = [
            models.Index(fields=["room", "start"], name="booking_room_start"),
            models.Index(fields=["campus", "start"], name="booking_campus_start"),
            models.Index(fields=["booked_by", "start"], name="booking_booker_start"),
        ]

    def __str__(self) -> str:
        # Admin headings and breadcrumbs show this: the start in the campus's own zone, not UTC.
        return f"{self.title} ({self.room.code}, {self.start.astimezone(self.campus.zone):%Y-%m-%d %H:%M})"

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


class Access(models.TextChoices):
    DIRECT = "direct", _("Book directly")
    REQUEST = "request", _("Request, a facility manager approves")
    NONE = "none", _("May not book")


class CheckIn(models.TextChoices):
    """Whether a room's confirmed bookings are released when nobody shows up (``docs/check-in.md``)."""

    SENSOR = "sensor", _("Release no-shows where the room has a sensor")
    REQUIRED = "required", _("Check-in required: release bookings not checked in")
    OFF = "off", _("Never release automatically")


class BookingPolicy(models.Model):
    """Booking rules for a room, with defaults at building and campus level.

    Every field left empty is inherited: room → building → campus → Kampus's defaults
    (``bookings.rules.DEFAULT_POLICY``). Exactly one of campus, building or room is set.
    """

    campus = models.OneToOneField(Campus, on_delete=models.CASCADE, null=True, blank=True, related_name="policy")
    building = models.OneToOneField(
        "campus.Building", on_delete=models.CASCADE, null=True, blank=True, related_name="policy"
    )
    room = models.OneToOneField(Room, on_delete=models.CASCADE, null=True, blank=True, related_name="policy")
    min_duration_minutes = models.PositiveIntegerField(_("shortest booking (minutes)"), null=True, blank=True)
    max_duration_minutes = models.PositiveIntegerField(_("longest booking (minutes)"), null=True, blank=True)
    min_notice_minutes = models.PositiveIntegerField(
        _("earliest: notice before start (minutes)"), null=True, blank=True
    )
    max_advance_days = models.PositiveIntegerField(_("latest: days ahead"), null=True, blank=True)
    max_active_bookings = models.PositiveIntegerField(
        _("active future bookings per person"),
        null=True,
        blank=True,
        help_text=_("A recurring series counts as one."),
    )
    owner_access = models.CharField(
        _("staff of the owner institution"), max_length=16, choices=Access.choices, blank=True
    )
    other_access = models.CharField(
        _("staff of other institutions"),
        max_length=16,
        choices=Access.choices,
        blank=True,
        help_text=_("For shared rooms every institution counts as other."),
    )
    owner_window_days = models.PositiveIntegerField(_("owner books days ahead"), null=True, blank=True)
    other_window_days = models.PositiveIntegerField(_("others book days ahead"), null=True, blank=True)
    request_expiry_hours = models.PositiveIntegerField(_("requests expire after (hours)"), null=True, blank=True)
    check_in = models.CharField(
        _("check-in and no-shows"),
        max_length=16,
        choices=CheckIn.choices,
        blank=True,
        help_text=_(
            "With a sensor, a booking nobody uses in its first minutes is released; "
            "with check-in required, one nobody checks in to is released even without a sensor."
        ),
    )
    no_show_minutes = models.PositiveIntegerField(
        _("no-show after (minutes)"),
        null=True,
        blank=True,
        help_text=_("How long after its start an unused booking is released."),
    )

    class Meta:
        verbose_name = _("booking rules")
        verbose_name_plural = _("booking rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(campus__isnull=False, building__isnull=True, room__isnull=True)
                | Q(campus__isnull=True, building__isnull=False, room__isnull=True)
                | Q(campus__isnull=True, building__isnull=True, room__isnull=False),
                name="policy_for_exactly_one_level",
            ),
            models.CheckConstraint(
                condition=Q(min_duration_minutes__isnull=True)
                | Q(max_duration_minutes__isnull=True)
                | Q(min_duration_minutes__lte=models.F("max_duration_minutes")),
                name="policy_min_duration_not_above_max",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Rules for %(target)s") % {"target": self.room or self.building or self.campus})


class Closure(models.Model):
    """A room or a whole building closed for a period (renovation, exams): no new bookings there."""

    campus = models.ForeignKey(Campus, on_delete=models.CASCADE, related_name="closures")
    building = models.ForeignKey(
        "campus.Building", on_delete=models.CASCADE, null=True, blank=True, related_name="closures"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, blank=True, related_name="closures")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="closure_starts_before_it_ends"),
            models.CheckConstraint(
                condition=Q(building__isnull=False, room__isnull=True) | Q(building__isnull=True, room__isnull=False),
                name="closure_of_building_xor_room",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room or self.building}: {self.reason}"


class BookingAction(models.TextChoices):
    CREATE = "create", _("Created")
    REQUEST = "request", _("Requested")
    CHANGE = "change", _("Changed")
    CANCEL = "cancel", _("Cancelled")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    EXPIRE = "expire", _("Expired")
    OVERRIDE = "override", _("Rule overridden")
    HANDOVER = "handover", _("Handed over")
    RELEASE = "release", _("Released")
    CHECK_IN = "check_in", _("Checked in")


class BookingEventQuerySet(models.QuerySet["BookingEvent"]):
    def update(self, **kwargs):
        raise TypeError("The booking audit log is append-only.")

    def delete(self):
        raise TypeError("The booking audit log is append-only.")


class BookingEvent(models.Model):
    """An append-only audit entry: who did what to a booking, when, with the state before and after.

    The actor is kept by user id (no copied name); the id stays even if the user is deleted.
    On PostgreSQL a trigger (migration) also refuses UPDATE and DELETE.
    """

    booking = models.ForeignKey(Booking, on_delete=models.DO_NOTHING, db_constraint=False, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=16, choices=BookingAction.choices)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    objects = BookingEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking audit log")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} #{self.booking_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("The booking audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The booking audit log is append-only.")


class NotificationKind(models.TextChoices):
    REQUEST = "request", _("New request to decide")
    APPROVED = "approved", _("Request approved")
    REJECTED = "rejected", _("Request rejected")
    EXPIRED = "expired", _("Request expired")
    CANCELLED = "cancelled", _("Booking cancelled by someone else")
    CLOSURE = "closure", _("Room closed")
    RELEASED = "released", _("Booking released")
    HANDOVER = "handover", _("Series handed over to you")
    NO_SHOW_SERIES = "no_show_series", _("Repeated no-shows of a series")


class Notification(models.Model):
    """An e-mail to one person about one booking; written in the transaction, sent by the worker."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="notifications")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker sends it, outside any transaction; a claim older than the task timeout is stale.
    claimed_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    subject = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id} (#{self.booking_id})"


class FeedKind(models.TextChoices):
    ROOM = "room", _("Room")
    BUILDING = "building", _("Building")
    INSTITUTION = "institution", _("Institution")
    PERSON = "person", _("Own bookings")


class FeedKey(models.Model):
    """The generation of one person's address for one calendar feed; a row only once it was replaced.

    A feed's address is never stored: it carries an HMAC (under SECRET_KEY) of the feed, its
    owner and the generation (``bookings.feeds``), so showing it and checking it need no row and
    no write. Replacing the address (it leaked) raises ``generation``: addresses of earlier
    generations answer 410 Gone. ``target_id`` is the room, building or institution by ``kind``;
    for a person's own feed it is the owner's id.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_keys", verbose_name=_("owner")
    )
    kind = models.CharField(_("feed"), max_length=16, choices=FeedKind.choices)
    target_id = models.PositiveBigIntegerField(_("target id"))
    generation = models.PositiveIntegerField(_("times replaced"), default=0)
    replaced_at = models.DateTimeField(_("address last replaced"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed key")
        verbose_name_plural = _("calendar feed keys")
        constraints = [
            models.UniqueConstraint(fields=["owner", "kind", "target_id"], name="feed_key_one_per_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target_id} ({self.owner_id}): {self.generation}"
