"""Occupancy sensors, their readings, the messages that could not be stored, and gateway tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campus.models import Campus, Room


class SensorKind(models.TextChoices):
    COUNT = "count", _("People counter")
    PRESENCE = "presence", _("Presence sensor")


class SensorStatus(models.TextChoices):
    """Whether a sensor is heard from: ``new`` until its first reading, then online, or offline after a silence."""

    NEW = "new", _("Not heard from yet")
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


class Sensor(models.Model):
    """A people counter or presence sensor in a room, known by the id it publishes under.

    ``external_id`` is the last level of its MQTT topic (``kampus/sensors/<external_id>``) and the
    ``sensor`` of HTTP ingest. ``last_seen`` is when Kampus last received a reading from it (not the
    reading's own time); ``status`` turns online with every stored reading.
    """

    external_id = models.CharField(
        _("external id"),
        max_length=128,
        unique=True,
        help_text=_("The id the sensor publishes under: the last level of its MQTT topic."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=SensorKind.choices)
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="sensors", verbose_name=_("room"))
    vendor = models.CharField(_("vendor"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Readings of an inactive sensor are refused (dead letters).")
    )
    installed_at = models.DateField(_("installed on"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=SensorStatus.choices, default=SensorStatus.NEW, editable=False
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sensor")
        verbose_name_plural = _("sensors")
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SensorKind.values), name="sensor_kind_known"),
            models.CheckConstraint(condition=~Q(external_id=""), name="sensor_external_id_not_empty"),
        ]

    def __str__(self) -> str:
        return self.external_id


class Reading(models.Model):
    """One value of one sensor at one moment: a people count or presence (exactly one of the two).

    ``(sensor, ts)`` is unique: a repeated message stores nothing new, so at-least-once delivery
    gives exactly-once data. ``room`` and ``campus`` are the sensor's when the reading was stored
    (a sensor moved later keeps its history in the old room); reports scan by room and time, and
    the campus is the key a sharded database would distribute by.
    """

    id = models.BigAutoField(primary_key=True)
    # The unique (sensor, ts) index serves the sensor's foreign key too: no index of its own.
    sensor = models.ForeignKey(
        Sensor, on_delete=models.CASCADE, related_name="readings", verbose_name=_("sensor"), db_index=False
    )
    # Copies of the sensor's room and campus, written by the ingest service from the sensor row it has
    # just read. No foreign-key constraint in the database: its check of every row at commit would
    # halve the ingest rate (docs/performance.md); Django still cascades deletes. No index either:
    # scans by time use the BRIN index, a room's readings are found through its sensors.
    room = models.ForeignKey(
        Room,
        on_delete=models.CASCADE,
        related_name="readings",
        verbose_name=_("room"),
        db_constraint=False,
        db_index=False,
    )
    campus = models.ForeignKey(
        Campus,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("campus"),
        db_constraint=False,
        db_index=False,
    )
    ts = models.DateTimeField(_("time"))
    count = models.IntegerField(_("people"), null=True, blank=True)
    present = models.BooleanField(_("present"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        constraints = [
            models.UniqueConstraint(fields=["sensor", "ts"], name="reading_unique_sensor_ts"),
            models.CheckConstraint(
                condition=Q(count__isnull=False, present__isnull=True) | Q(count__isnull=True, present__isnull=False),
                name="reading_count_xor_present",
            ),
            models.CheckConstraint(
                condition=Q(count__isnull=True) | Q(count__gte=0), name="reading_count_not_negative"
            ),
        ]
        # The unique (sensor, ts) index serves a sensor's readings; time-slot scans across rooms use an
        # index on ts that migration 0002 creates by database: BRIN on PostgreSQL (docs/performance.md).

    def __str__(self) -> str:
        value = self.count if self.count is not None else self.present
        return f"{self.sensor_id} {self.ts.isoformat()} {value}"


class DeadLetterReason(models.TextChoices):
    MALFORMED = "malformed", _("Not readable (not UTF-8 JSON)")
    INVALID = "invalid", _("Wrong fields or types")
    UNKNOWN_FORMAT = "unknown_format", _("Unknown payload format")
    UNKNOWN_SENSOR = "unknown_sensor", _("Unknown sensor")
    INACTIVE_SENSOR = "inactive_sensor", _("Inactive sensor")
    WRONG_KIND = "wrong_kind", _("Value does not fit the sensor's kind")
    COUNT_OUT_OF_RANGE = "count_out_of_range", _("Count negative or too large")
    FUTURE = "future", _("Time too far in the future")
    TOO_OLD = "too_old", _("Time too far in the past")
    OVERSIZED = "oversized", _("Payload too large")
    BAD_TOPIC = "bad_topic", _("Topic names no sensor")


class IngestSource(models.TextChoices):
    MQTT = "mqtt", "MQTT"
    HTTP = "http", "HTTP"


class DeadLetter(models.Model):
    """A message, or one reading of a batch, that was refused: kept with the reason so people can fix the sender.

    ``payload`` holds the refused bytes decoded for display (invalid UTF-8 escaped, NUL removed)
    and cut to ``DEAD_LETTER_PAYLOAD_CHARS``; ``payload_bytes`` is the size that was received.
    ``sensor`` and ``campus`` are set when known and decide who sees the dead letter.
    """

    received_at = models.DateTimeField(_("received at"), db_index=True)
    source = models.CharField(_("source"), max_length=8, choices=IngestSource.choices)
    topic = models.CharField(_("topic"), max_length=255, blank=True)
    sensor = models.ForeignKey(
        Sensor, on_delete=models.SET_NULL, null=True, blank=True, related_name="dead_letters", verbose_name=_("sensor")
    )
    campus = models.ForeignKey(
        Campus, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("campus")
    )
    reason = models.CharField(_("reason"), max_length=32, choices=DeadLetterReason.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    payload = models.TextField(_("payload"), blank=True)
    payload_bytes = models.PositiveIntegerField(_("payload size (bytes)"))

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.reason} {self.topic}"


class IngestToken(models.Model):
    """A gateway's token for ``POST /api/v1/readings``: it may send readings of any sensor of its campus.

    Kept like personal API tokens: only the SHA-256 of the secret is stored; ``prefix`` tells
    tokens apart. One token per gateway (not per sensor) mirrors an MQTT gateway's credentials,
    which may publish on every sensor topic, and lets a LoRaWAN network server's single webhook
    forward all its devices.
    """

    name = models.CharField(_("name"), max_length=100, help_text=_("Which gateway uses the token."))
    campus = models.ForeignKey(Campus, on_delete=models.CASCADE, related_name="ingest_tokens", verbose_name=_("campus"))
    prefix = models.CharField(_("prefix"), max_length=16, db_index=True, editable=False)
    hashed_key = models.CharField(_("hashed key"), max_length=64, unique=True, editable=False)
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
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("gateway token")
        verbose_name_plural = _("gateway tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class OfflineNotice(models.Model):
    """An e-mail telling one facility manager which sensors of their rooms fell silent.

    Written in the transaction that marks the sensors offline, so each silence is told once; sent by
    the worker after the commit, and sent again by the health check if the task was lost (like
    ``bookings.models.Notification``).
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    sensors = models.ManyToManyField(Sensor, related_name="offline_notices", verbose_name=_("sensors"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Set while a worker sends it, outside any transaction; a claim older than the task timeout is stale.
    claimed_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("offline notice")
        verbose_name_plural = _("offline notices")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"offline notice → {self.recipient_id} ({self.created_at:%Y-%m-%d %H:%M})"
