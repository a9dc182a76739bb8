"""Rolled-up room use in 15-minute slots, what each booking's occupants did, and per-campus core hours."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from campus.models import Campus, Institution, Room

SLOT_SECONDS = 15 * 60
# The one RollupState row the rollup keeps.
ROLLUP_STATE_NAME = "default"


class RoomSlot(models.Model):
    """One room's 15-minute slot ``[start, start + 15 min)``: what the sensors measured and what was booked.

    Written only by the rollup (``utilisation.rollups``), which recomputes a whole slot from the raw
    readings and the bookings whenever new or late data touches it, so writing it twice gives the
    same row. A slot has a row when a reading or a booking touches it; a missing row means "no data,
    not booked", never "empty". ``start`` is aligned to 15 minutes (UTC); ``local_date``,
    ``local_minute`` and ``iso_weekday`` are the campus-local view of it, computed once at rollup,
    so core-hour filters are plain column comparisons that are right across DST changes.

    Measured side: ``covered_seconds`` have data (a reading holds until the next one, up to the gap);
    ``occupied_seconds`` of them had a count above zero or presence; ``mean_count`` is the time-weighted
    mean headcount over the seconds a people counter covers and ``peak_count`` the highest count, both
    null when only presence sensors cover the slot. Booked side: ``booked_seconds`` of the slot are booked (a booking
    that blocks one of the room's parts; a released booking until its release), ``booked_institution``
    is the institution of the booking holding most of the slot (null with booked seconds: the campus's
    own facility services).
    """

    id = models.BigAutoField(primary_key=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="slots", verbose_name=_("room"))
    # The key a sharded database would distribute by (docs/ARCHITECTURE); reports of one campus filter on it.
    campus = models.ForeignKey(Campus, on_delete=models.CASCADE, related_name="+", verbose_name=_("campus"))
    start = models.DateTimeField(_("start"))
    local_date = models.DateField(_("date (campus time)"))
    local_minute = models.PositiveSmallIntegerField(_("minute of the day (campus time)"))
    iso_weekday = models.PositiveSmallIntegerField(_("weekday (1 = Monday)"))
    covered_seconds = models.PositiveSmallIntegerField(_("seconds with data"), default=0)
    occupied_seconds = models.PositiveSmallIntegerField(_("seconds occupied"), default=0)
    mean_count = models.FloatField(_("mean headcount"), null=True, blank=True)
    peak_count = models.PositiveIntegerField(_("peak headcount"), null=True, blank=True)
    booked_seconds = models.PositiveSmallIntegerField(_("seconds booked"), default=0)
    booked_institution = models.ForeignKey(
        Institution,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by institution"),
    )
    rolled_at = models.DateTimeField(_("rolled up at"))

    class Meta:
        verbose_name = _("room slot")
        verbose_name_plural = _("room slots")
        ordering = ["room", "start"]
        constraints = [
            models.UniqueConstraint(fields=["room", "start"], name="slot_unique_room_start"),
            models.CheckConstraint(condition=Q(covered_seconds__lte=SLOT_SECONDS), name="slot_covered_within_slot"),
            models.CheckConstraint(
                condition=Q(occupied_seconds__lte=models.F("covered_seconds")), name="slot_occupied_within_covered"
            ),
            models.CheckConstraint(condition=Q(booked_seconds__lte=SLOT_SECONDS), name="slot_booked_within_slot"),
            models.CheckConstraint(
                condition=Q(local_minute__lt=24 * 60) & Q(iso_weekday__gte=1, iso_weekday__lte=7),
                name="slot_local_time_valid",
            ),
        ]
        # Reports scan one campus over a period; the unique index serves one room's slots.
        indexes = [models.Index(fields=["campus", "start"], name="slot_campus_start")]

    def __str__(self) -> str:
        return f"{self.room_id} {self.start:%Y-%m-%d %H:%M}"


class RoomDay(models.Model):
    """One room's slots of one campus-local day, counted by how they count: the rollup of long reports.

    The slot rows of a day are grouped by booking institution, whether they are booked, in the campus's
    core hours and in the room's opening hours, and each group holds the sums a report takes from its
    slots (``utilisation.room_days`` defines them), so a year of 200 rooms is hundreds of thousands of rows
    instead of millions. Written only from ``RoomSlot`` rows: by the rollup, in the transaction that
    writes the slots of those days, and every day again, a week at a time, whenever a definition it
    depends on (the slot thresholds, core hours, opening hours) changed, which ``RollupState.days_key``
    records. A report reads it only while that key is current, and reads slots for the days it cannot
    serve (today, days with a closure of part of the day).
    """

    id = models.BigAutoField(primary_key=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+", verbose_name=_("room"))
    campus = models.ForeignKey(Campus, on_delete=models.CASCADE, related_name="+", verbose_name=_("campus"))
    local_date = models.DateField(_("date (campus time)"))
    booked_institution = models.ForeignKey(
        Institution,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by institution"),
    )
    booked = models.BooleanField(_("booked"))
    core = models.BooleanField(_("in core hours"))
    opening = models.BooleanField(_("in opening hours"))
    known = models.PositiveIntegerField(_("known slots"))
    in_use = models.PositiveIntegerField(_("slots in use"))
    booked_slots = models.PositiveIntegerField(_("booked slots"))
    booked_known = models.PositiveIntegerField(_("booked known slots"))
    ghost = models.PositiveIntegerField(_("ghost slots"))
    unbooked_use = models.PositiveIntegerField(_("slots used unbooked"))
    headcount_slots = models.PositiveIntegerField(_("slots with a headcount"))
    headcount_sum = models.FloatField(_("sum of mean headcounts"))
    peak = models.PositiveIntegerField(_("peak headcount"), null=True, blank=True)
    seconds_booked = models.PositiveIntegerField(_("seconds booked"))
    seconds_used_booked = models.PositiveIntegerField(_("seconds used, booked"))
    seconds_used_unbooked = models.PositiveIntegerField(_("seconds used, not booked"))

    class Meta:
        verbose_name = _("room day")
        verbose_name_plural = _("room days")
        constraints = [
            # One row a group: two partial constraints, because a null institution is never equal to another.
            # The campus is the slots' own: a room moved to another campus has slots of both on a day.
            models.UniqueConstraint(
                fields=["room", "local_date", "campus", "booked_institution", "booked", "core", "opening"],
                condition=Q(booked_institution__isnull=False),
                name="room_day_unique_group",
            ),
            models.UniqueConstraint(
                fields=["room", "local_date", "campus", "booked", "core", "opening"],
                condition=Q(booked_institution__isnull=True),
                name="room_day_unique_group_unattributed",
            ),
        ]
        indexes = [models.Index(fields=["campus", "local_date"], name="room_day_campus_date")]

    def __str__(self) -> str:
        return f"{self.room_id} {self.local_date}"


class BookingUse(models.Model):
    """What the sensors saw during one booking: the basis of no-shows, ghost hours, early release and overrun.

    Written by the rollup together with the slots the booking touches. ``first_presence_at`` is the
    first moment with people inside the booking, ``last_presence_at`` the last moment of the
    occupancy that ran into its end (past it for an overrun). ``no_show`` is null when the booking's
    first minutes had too little data to tell (no data is not "nobody came").
    """

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="use", primary_key=True)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+", verbose_name=_("room"))
    campus = models.ForeignKey(Campus, on_delete=models.CASCADE, related_name="+", verbose_name=_("campus"))
    start = models.DateTimeField(_("booked start"))
    end = models.DateTimeField(_("booked end"))
    covered_seconds = models.PositiveIntegerField(_("seconds with data"), default=0)
    occupied_seconds = models.PositiveIntegerField(_("seconds occupied"), default=0)
    first_presence_at = models.DateTimeField(_("first presence"), null=True, blank=True)
    last_presence_at = models.DateTimeField(_("last presence"), null=True, blank=True)
    no_show = models.BooleanField(_("no-show"), null=True, blank=True)
    rolled_at = models.DateTimeField(_("rolled up at"))

    class Meta:
        verbose_name = _("booking use")
        verbose_name_plural = _("booking uses")
        indexes = [models.Index(fields=["campus", "start"], name="booking_use_campus_start")]

    def __str__(self) -> str:
        return f"use of {self.booking_id}"


class RollupState(models.Model):
    """Where the rollup has got to: readings received and bookings changed up to ``*_until`` are rolled up.

    ``version`` rises with every run that changed a slot; cached reports carry it, so new data
    invalidates them.
    """

    name = models.CharField(max_length=32, unique=True)
    readings_until = models.DateTimeField(null=True, blank=True)
    bookings_until = models.DateTimeField(null=True, blank=True)
    version = models.PositiveBigIntegerField(default=0)
    # The definitions ``RoomDay`` rows were counted with (``utilisation.room_days.definitions_key``); empty: none.
    days_key = models.CharField(max_length=64, blank=True, default="")
    # Counting every day again, a week at a time: the definitions it counts with, and its last day counted.
    days_counting_key = models.CharField(max_length=64, blank=True, default="")
    days_counted_until = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @classmethod
    def current_version(cls) -> int:
        """Return the rollup's data version (0 before its first run)."""
        return cls.objects.filter(name=ROLLUP_STATE_NAME).values_list("version", flat=True).first() or 0


class CoreHours(models.Model):
    """A campus's core hours for utilisation figures; without a row the defaults (Mon–Fri 08:00–16:00) apply."""

    campus = models.OneToOneField(Campus, on_delete=models.CASCADE, related_name="core_hours")
    # ISO weekdays as digits, Monday = 1: "12345" is Monday to Friday.
    weekdays = models.CharField(_("weekdays"), max_length=7, default="12345")
    start = models.TimeField(_("from"), default=dt.time(8, 0))
    end = models.TimeField(_("until"), default=dt.time(16, 0))

    class Meta:
        verbose_name = _("core hours")
        verbose_name_plural = _("core hours")
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="core_hours_start_before_end"),
            models.CheckConstraint(condition=~Q(weekdays=""), name="core_hours_some_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.campus}: {self.weekdays} {self.start:%H:%M}–{self.end:%H:%M}"


class ReportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ReportJob(models.Model):
    """A long report computed in the background (``utilisation.reports``), and its stored result.

    The web processes share no memory, so a done job is also the shared cache of long reports: a
    request with the same ``params_key`` and the same rollup ``data_version`` reuses it. ``result``
    holds the report and its heatmap as JSON (``utilisation.reports.report_to_json``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    campus = models.ForeignKey(Campus, on_delete=models.CASCADE, related_name="+", verbose_name=_("campus"))
    params = models.JSONField(_("parameters"))
    # SHA-256 of the canonical parameters: finds a job to reuse without comparing JSON.
    params_key = models.CharField(_("parameters key"), max_length=64)
    data_version = models.PositiveBigIntegerField(_("data version"))
    status = models.CharField(
        _("status"), max_length=16, choices=ReportJobStatus.choices, default=ReportJobStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_job_progress_percent"),
        ]
        indexes = [models.Index(fields=["params_key", "data_version"], name="report_job_params_version")]

    def __str__(self) -> str:
        return f"report {self.id} ({self.status})"


class DoorDisplay(models.Model):
    """A tablet at a room's door: shows now and next and checks bookings in, by a secret in its address.

    Kept like API and gateway tokens (``campus.tokens``): only the SHA-256 of the secret is stored,
    ``prefix`` tells displays apart. The page (``/door/<secret>/``) needs no sign-in and shows no
    more than public visibility allows; a revoked or unknown secret answers 404.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="door_displays", verbose_name=_("room"))
    name = models.CharField(_("name"), max_length=100, help_text=_("Which tablet it is, e.g. “A101 door”."))
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    hashed_token = models.CharField(_("hashed token"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("door display")
        verbose_name_plural = _("door displays")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
