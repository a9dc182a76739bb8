"""The joint campus: institutions, campuses, buildings, rooms, opening hours and memberships."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    """Refuse a time-zone name the IANA database does not know."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(zone)s is not a known IANA time zone, e.g. Europe/Helsinki."), params={"zone": value}
        )


class Language(models.TextChoices):
    FINNISH = "fi", _("Finnish")
    SWEDISH = "sv", _("Swedish")
    ENGLISH = "en", _("English")


class User(AbstractUser):
    """A person who signs in: staff, front desk, facility manager or institution admin."""

    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=Language.choices,
        blank=True,
        help_text=_("Pages and e-mails use this language; empty means the browser's language."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Campus(models.Model):
    """A joint campus whose buildings several institutions share; its time zone governs local times."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Helsinki", validators=[validate_time_zone]
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    holiday_country = models.CharField(
        _("holiday calendar"),
        max_length=8,
        blank=True,
        default="FI",
        help_text=_("Country code of the public-holiday calendar (e.g. FI); empty for none."),
    )

    class Meta:
        verbose_name = _("campus")
        verbose_name_plural = _("campuses")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Holiday(models.Model):
    """A day on which the campus is closed (public holiday or a campus-wide closing day)."""

    campus = models.ForeignKey(Campus, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("campus"))
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["campus", "date"], name="holiday_unique_per_campus_day")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class TermKind(models.TextChoices):
    TERM = "term", _("Term")
    BREAK = "break", _("Break")


class TermPeriod(models.Model):
    """A term or a break of an institution's (or, for shared rooms, the campus's) school year.

    Dates are local and both included. A teaching series skips the break dates of the calendar of
    the institution it is booked for (the campus's calendar for campus bookings).
    """

    institution = models.ForeignKey(
        "Institution",
        on_delete=models.CASCADE,
        related_name="term_periods",
        null=True,
        blank=True,
        verbose_name=_("institution"),
    )
    campus = models.ForeignKey(
        Campus, on_delete=models.CASCADE, related_name="term_periods", null=True, blank=True, verbose_name=_("campus")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=TermKind.choices)
    name = models.CharField(_("name"), max_length=200)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))

    class Meta:
        verbose_name = _("term or break")
        verbose_name_plural = _("term calendar")
        ordering = ["start", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(institution__isnull=False, campus__isnull=True)
                | Q(institution__isnull=True, campus__isnull=False),
                name="term_period_institution_xor_campus",
            ),
            models.CheckConstraint(condition=Q(start__lte=models.F("end")), name="term_period_starts_before_it_ends"),
            models.CheckConstraint(condition=Q(kind__in=TermKind.values), name="term_period_kind_known"),
        ]
        indexes = [models.Index(fields=["institution", "start"], name="term_period_institution_start")]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"

    def clean(self) -> None:
        if bool(self.institution_id) == bool(self.campus_id):
            raise ValidationError(_("A term calendar belongs to an institution or to the campus, not both or neither."))
        if self.start and self.end and self.start > self.end:
            raise ValidationError({"end": _("The last day must not be before the first day.")})


class InstitutionKind(models.TextChoices):
    UPPER_SECONDARY = "upper_secondary", _("Upper-secondary school")
    VOCATIONAL = "vocational", _("Vocational college")
    ADULT_EDUCATION = "adult_education", _("Adult-education centre")
    HIGHER_EDUCATION = "higher_education", _("Higher education")
    OTHER = "other", _("Other")


class Institution(models.Model):
    """An educational institution that shares the campus and books its rooms."""

    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, related_name="institutions", verbose_name=_("campus"))
    name = models.CharField(_("name"), max_length=200)
    short_code = models.SlugField(_("short code"), max_length=32)
    kind = models.CharField(_("kind"), max_length=32, choices=InstitutionKind.choices)
    cost_centre = models.CharField(_("cost centre"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["campus", "short_code"], name="institution_code_unique_per_campus"),
            models.UniqueConstraint(fields=["campus", "name"], name="institution_name_unique_per_campus"),
        ]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    """A building of the campus with weekly opening hours and dated exceptions."""

    campus = models.ForeignKey(Campus, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("campus"))
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["campus", "code"]
        constraints = [models.UniqueConstraint(fields=["campus", "code"], name="building_code_unique_per_campus")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """Weekly opening hours (local time) of a building, or of a room that overrides its building's.

    A weekday without a row is closed. A room with any rows of its own uses only those.
    """

    building = models.ForeignKey(
        Building,
        on_delete=models.CASCADE,
        related_name="opening_hours",
        null=True,
        blank=True,
        verbose_name=_("building"),
    )
    room = models.ForeignKey(
        "Room", on_delete=models.CASCADE, related_name="opening_hours", null=True, blank=True, verbose_name=_("room")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(building__isnull=False, room__isnull=True) | Q(building__isnull=True, room__isnull=False),
                name="opening_hours_for_building_xor_room",
            ),
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="opening_hours_opens_before_closes"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_0_to_6"),
            models.UniqueConstraint(fields=["building", "weekday"], name="opening_hours_one_per_building_weekday"),
            models.UniqueConstraint(fields=["room", "weekday"], name="opening_hours_one_per_room_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class OpeningHoursException(models.Model):
    """A dated exception to a building's weekly hours: closed all day, or open at other times."""

    building = models.ForeignKey(
        Building, on_delete=models.CASCADE, related_name="opening_exceptions", verbose_name=_("building")
    )
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("opening-hours exception")
        verbose_name_plural = _("opening-hours exceptions")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["building", "date"], name="opening_exception_one_per_building_day"),
            models.CheckConstraint(
                condition=Q(closed=True, opens__isnull=True, closes__isnull=True)
                | Q(closed=False, opens__isnull=False, closes__isnull=False, opens__lt=models.F("closes")),
                name="opening_exception_closed_or_valid_hours",
            ),
        ]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date:%Y-%m-%d} closed"
        return f"{self.date:%Y-%m-%d} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.closed and (self.opens or self.closes):
            raise ValidationError(_("A day that is closed all day has no opening times."))
        if not self.closed and (self.opens is None or self.closes is None or self.opens >= self.closes):
            raise ValidationError(_("Give both opening and closing time, opening before closing."))


class Equipment(models.Model):
    """An item of the equipment catalogue (projector, sinks, piano…)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoomKind(models.TextChoices):
    CLASSROOM = "classroom", _("Classroom")
    LAB = "lab", _("Laboratory")
    WORKSHOP = "workshop", _("Workshop")
    AUDITORIUM = "auditorium", _("Auditorium")
    GYM = "gym", _("Gym")
    MEETING = "meeting", _("Meeting room")
    OTHER = "other", _("Other")


class Room(models.Model):
    """A bookable space; owned by one institution or, when ``owner`` is empty, shared by the campus.

    Divisible rooms: a room may be combined from ``sections`` (other rooms of the same building, e.g.
    the three sections of a sports hall). A room's *parts* are its sections, or the room itself when
    it has none; bookings block parts, so booking the whole blocks every section and vice versa.
    """

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("building"))
    floor = models.SmallIntegerField(_("floor"), default=1)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=RoomKind.choices, default=RoomKind.CLASSROOM)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    area_m2 = models.DecimalField(
        _("area (m²)"), max_digits=8, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0.1)]
    )
    equipment = models.ManyToManyField(Equipment, blank=True, related_name="rooms", verbose_name=_("equipment"))
    step_free = models.BooleanField(_("step-free access"), default=False)
    induction_loop = models.BooleanField(_("induction loop"), default=False)
    accessible_toilet_nearby = models.BooleanField(_("accessible toilet nearby"), default=False)
    owner = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        related_name="rooms",
        null=True,
        blank=True,
        verbose_name=_("owner institution"),
        help_text=_("Empty for a shared room run by the campus's facility services."),
    )
    is_bookable = models.BooleanField(_("bookable"), default=True)
    public_feed = models.BooleanField(_("public calendar feed"), default=False)
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer between bookings (minutes)"),
        default=0,
        help_text=_("Time kept free after each booking, e.g. for cleaning or changing over."),
    )
    sections = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="combined_rooms",
        verbose_name=_("sections"),
        help_text=_("For a divisible room: the rooms it is made of. Booking it blocks all of them."),
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["building__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["building", "code"], name="room_code_unique_per_building"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="room_capacity_positive"),
            models.CheckConstraint(condition=Q(area_m2__isnull=True) | Q(area_m2__gt=0), name="room_area_positive"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """Return how every page, form, e-mail and API answer names the room: its code and name ("A102 Luokka 102")."""
        return f"{self.code} {self.name}"

    @property
    def campus(self) -> Campus:
        return self.building.campus

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None


class Role(models.TextChoices):
    STAFF = "staff", _("Staff")
    FRONT_DESK = "front_desk", _("Front desk")
    FACILITY_MANAGER = "facility_manager", _("Facility manager")
    INSTITUTION_ADMIN = "institution_admin", _("Institution admin")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def valid_on(self, day: dt.date) -> MembershipQuerySet:
        """Return memberships in force on ``day`` (open-ended dates count as always)."""
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )


class Membership(models.Model):
    """A user's role at an institution or at the campus itself (its facility services).

    ``valid_from``/``valid_until`` are inclusive local dates; empty means open-ended.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.CASCADE,
        related_name="memberships",
        null=True,
        blank=True,
        verbose_name=_("institution"),
    )
    campus = models.ForeignKey(
        Campus, on_delete=models.CASCADE, related_name="memberships", null=True, blank=True, verbose_name=_("campus")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(institution__isnull=False, campus__isnull=True)
                | Q(institution__isnull=True, campus__isnull=False),
                name="membership_institution_xor_campus",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lte=models.F("valid_until")),
                name="membership_valid_from_before_until",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_known"),
            models.UniqueConstraint(
                fields=["user", "institution", "role"],
                condition=Q(institution__isnull=False),
                name="membership_unique_user_institution_role",
            ),
            models.UniqueConstraint(
                fields=["user", "campus", "role"],
                condition=Q(campus__isnull=False),
                name="membership_unique_user_campus_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} @ {self.institution or self.campus}"

    def clean(self) -> None:
        if bool(self.institution_id) == bool(self.campus_id):
            raise ValidationError(_("A membership is either at an institution or at the campus, not both or neither."))
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValidationError({"valid_until": _("Valid until must not be before valid from.")})

    def is_valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class HeartbeatKind(models.TextChoices):
    WORKER = "worker", _("Background worker")
    INGESTER = "ingester", _("Sensor ingester")


class Heartbeat(models.Model):
    """The latest sign of life of a background process, for ``/healthz`` and ``/metrics``.

    The worker beats through a django-q2 schedule (every minute, so a beat proves it runs jobs);
    each MQTT ingester beats from its main loop with whether it is connected to the broker and
    its counters since it started (``state``). One row per process name, overwritten.
    """

    name = models.CharField(_("name"), max_length=160, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=HeartbeatKind.choices)
    beat_at = models.DateTimeField(_("last beat"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    state = models.JSONField(_("state"), default=dict, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"
