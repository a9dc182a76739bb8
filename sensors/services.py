"""Writes of the sensors domain: the registry, gateway tokens, ingesting readings, retention.

``readings_ingest`` is the one place a reading is validated and stored: the MQTT ingester and the
HTTP endpoint both hand it their messages, so both refuse the same things into the same dead
letters and store each (sensor, ts) once.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from campus import permissions
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Campus, Room, User
from campus.permissions import may_manage_room
from campus.tokens import hash_token, new_secret
from sensors.models import (
    DeadLetter,
    DeadLetterReason,
    IngestSource,
    IngestToken,
    Reading,
    Sensor,
    SensorKind,
    SensorStatus,
)
from sensors.payloads import CanonicalReading, Refusal, parse_payload

# Characters of a refused payload kept in its dead letter.
DEAD_LETTER_PAYLOAD_CHARS = 4000
# A sensor's last_seen is rewritten at most this often, so that every batch does not update every sensor.
LAST_SEEN_PRECISION = dt.timedelta(seconds=10)
# A count must fit the column whatever the room's capacity.
MAX_COUNT = 2**31 - 1
# An external id is one MQTT topic level: no "/", "+", "#" or spaces.
EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")

GATEWAY_TOKEN_PREFIX = "kgw_"
GATEWAY_PREFIX_LENGTH = 12
GATEWAY_LAST_USED_PRECISION = dt.timedelta(minutes=1)


# --- Limits ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestLimits:
    """What a reading may be (settings ``KAMPUS_SENSOR_*``, read when a batch is ingested)."""

    max_payload_bytes: int
    max_future: dt.timedelta
    max_age: dt.timedelta
    count_factor: int
    count_extra: int

    @classmethod
    def from_settings(cls) -> IngestLimits:
        return cls(
            max_payload_bytes=settings.KAMPUS_SENSOR_MAX_PAYLOAD_BYTES,
            max_future=dt.timedelta(seconds=settings.KAMPUS_SENSOR_MAX_FUTURE_SECONDS),
            max_age=dt.timedelta(days=settings.KAMPUS_SENSOR_MAX_AGE_DAYS),
            count_factor=settings.KAMPUS_SENSOR_COUNT_LIMIT_FACTOR,
            count_extra=settings.KAMPUS_SENSOR_COUNT_LIMIT_EXTRA,
        )

    def count_limit(self, room: Room) -> int:
        """Return the largest count believable in ``room``: by default 3 × its capacity + 10."""
        return min(self.count_factor * room.capacity + self.count_extra, MAX_COUNT)


# --- Ingesting readings --------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingMessage:
    """One message as it arrived: an MQTT publish, or the body of ``POST /api/v1/readings``.

    ``external_id`` is the sensor it is for (the topic's last level, or the request's ``sensor``);
    None when the topic names none. ``campus_id`` limits the sensors it may be for (a gateway
    token's campus); sensors of other campuses count as unknown.
    """

    payload: bytes
    received_at: dt.datetime
    external_id: str | None
    source: str = IngestSource.MQTT
    topic: str = ""
    campus_id: int | None = None


@dataclass
class IngestResult:
    """What a batch came to: readings stored, repeats of stored ones, and refusals (dead letters)."""

    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.dead_letters)

    def add(self, other: IngestResult) -> None:
        self.messages += other.messages
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters


def display_text(text: str, limit: int = DEAD_LETTER_PAYLOAD_CHARS) -> str:
    """Return ``text`` safe for any database column: lone surrogates escaped, NUL spelled out, cut to ``limit``."""
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def _payload_text(payload: bytes) -> str:
    # Decode only what can be shown: an oversized payload is not decoded whole.
    head = payload[: DEAD_LETTER_PAYLOAD_CHARS * 4]
    return display_text(head.decode("utf-8", "backslashreplace"))


def _fragment_text(fragment: Any) -> str:
    try:
        return display_text(json.dumps(fragment, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        return display_text(repr(fragment))


@dataclass
class _Batch:
    """The rows of one batch before they are written."""

    rows: dict[tuple[int, dt.datetime], tuple] = field(default_factory=dict)
    repeated_in_batch: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    seen: dict[int, dt.datetime] = field(default_factory=dict)

    def refuse(
        self,
        message: IncomingMessage,
        reason: str,
        detail: str,
        *,
        sensor: Sensor | None = None,
        campus_id: int | None = None,
        fragment: Any = None,
        whole: bool = True,
    ) -> None:
        payload = _payload_text(message.payload) if whole else _fragment_text(fragment)
        self.dead_letters.append(
            DeadLetter(
                received_at=message.received_at,
                source=message.source,
                topic=display_text(message.topic, 255),
                sensor=sensor,
                campus_id=sensor.room.building.campus_id if sensor is not None else campus_id,
                reason=str(reason),
                detail=display_text(detail, 500),
                payload=payload,
                payload_bytes=len(message.payload),
            )
        )


@dataclass(frozen=True)
class _SensorFacts:
    """What checking and storing a message's readings needs, worked out once per message."""

    sensor_id: int
    room_id: int
    campus_id: int
    counts: bool  # a people counter (else a presence sensor)
    count_limit: int
    received_at: dt.datetime
    earliest: dt.datetime  # the oldest time accepted
    latest: dt.datetime  # the furthest ahead


def _check_reading(reading: CanonicalReading, ts: dt.datetime, facts: _SensorFacts) -> tuple[str, str] | None:
    """Return (reason, detail) if ``reading`` may not be stored for the sensor of ``facts``, else None."""
    if facts.counts and reading.count is None:
        return DeadLetterReason.WRONG_KIND, "present given: the sensor counts people"
    if not facts.counts and reading.present is None:
        return DeadLetterReason.WRONG_KIND, "count given: the sensor reports presence"
    if reading.count is not None and not 0 <= reading.count <= facts.count_limit:
        return DeadLetterReason.COUNT_OUT_OF_RANGE, f"count={reading.count} allowed=0..{facts.count_limit}"
    if ts > facts.latest:
        return DeadLetterReason.FUTURE, f"ts={ts.isoformat()} received={facts.received_at.isoformat()}"
    if ts < facts.earliest:
        return DeadLetterReason.TOO_OLD, f"ts={ts.isoformat()} received={facts.received_at.isoformat()}"
    return None


def _read_message(batch: _Batch, message: IncomingMessage, sensor: Sensor | None, limits: IngestLimits) -> None:
    """Add the readings of ``message`` to ``batch``, or its dead letters."""
    size = len(message.payload)
    campus_id = sensor.room.building.campus_id if sensor is not None else message.campus_id
    if size > limits.max_payload_bytes:
        batch.refuse(
            message,
            DeadLetterReason.OVERSIZED,
            f"bytes={size} allowed={limits.max_payload_bytes}",
            sensor=sensor,
            campus_id=campus_id,
        )
        return
    if message.external_id is None:
        batch.refuse(message, DeadLetterReason.BAD_TOPIC, f"topic={message.topic}", campus_id=campus_id)
        return
    if sensor is None:
        batch.refuse(message, DeadLetterReason.UNKNOWN_SENSOR, f"sensor={message.external_id}", campus_id=campus_id)
        return
    if not sensor.is_active:
        batch.refuse(message, DeadLetterReason.INACTIVE_SENSOR, f"sensor={sensor.external_id}", sensor=sensor)
        return
    parsed = parse_payload(message.payload, received_at=message.received_at)
    for refusal in parsed.refusals:
        _refuse_part(batch, message, refusal, sensor)
    room = sensor.room
    received_at = message.received_at
    facts = _SensorFacts(
        sensor_id=sensor.pk,
        room_id=room.pk,
        campus_id=room.building.campus_id,
        counts=sensor.kind == SensorKind.COUNT,
        count_limit=limits.count_limit(room),
        received_at=received_at,
        earliest=received_at - limits.max_age,
        latest=received_at + limits.max_future,
    )
    rows = batch.rows
    for reading in parsed.readings:
        ts = reading.ts or received_at
        problem = _check_reading(reading, ts, facts)
        if problem is not None:
            reason, detail = problem
            if reading.index is not None:
                detail = f"item {reading.index}: {detail}"
            batch.refuse(message, reason, detail, sensor=sensor, fragment=reading.fragment, whole=reading.index is None)
            continue
        key = (facts.sensor_id, ts)
        if key in rows:
            batch.repeated_in_batch += 1
        else:
            rows[key] = (
                facts.sensor_id,
                facts.room_id,
                facts.campus_id,
                ts,
                reading.count,
                reading.present,
                received_at,
            )
        last = batch.seen.get(facts.sensor_id)
        if last is None or received_at > last:
            batch.seen[facts.sensor_id] = received_at


def _refuse_part(batch: _Batch, message: IncomingMessage, refusal: Refusal, sensor: Sensor) -> None:
    whole = refusal.index is None
    batch.refuse(message, refusal.reason, refusal.detail, sensor=sensor, fragment=refusal.fragment, whole=whole)


READING_COLUMNS = "(sensor_id, room_id, campus_id, ts, count, present, received_at)"


def _copy_text(rows: list[tuple]) -> io.StringIO:
    """Return ``rows`` in COPY's text format, sorted by (sensor, ts): writers then lock keys in one order."""
    buffer = io.StringIO()
    received_texts: dict[dt.datetime, str] = {}  # a message's readings share its time of receipt
    for sensor_id, room_id, campus_id, ts, count, present, received_at in sorted(
        rows, key=lambda row: (row[0], row[3])
    ):
        count_text = r"\N" if count is None else str(count)
        present_text = r"\N" if present is None else ("t" if present else "f")
        received_text = received_texts.get(received_at)
        if received_text is None:
            received_text = received_texts[received_at] = received_at.isoformat()
        buffer.write(
            f"{sensor_id}\t{room_id}\t{campus_id}\t{ts.isoformat()}\t{count_text}\t{present_text}\t{received_text}\n"
        )
    buffer.seek(0)
    return buffer


def _insert_postgresql(rows: list[tuple]) -> int:
    """Insert ``rows`` (unique in themselves) skipping those already stored; return how many were new.

    Usually none is stored yet: COPY them straight into the table, inside a savepoint. If one is (a
    redelivered message), the COPY fails as a whole on the unique index; then COPY them into a
    session-local staging table and INSERT … SELECT … ON CONFLICT DO NOTHING, about half as fast
    (docs/performance.md).
    """
    buffer = _copy_text(rows)
    # The raw psycopg2 cursor copies; wrap_database_errors turns its errors into Django's.
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(), connection.wrap_database_errors:
                cursor.cursor.copy_expert(f"COPY sensors_reading {READING_COLUMNS} FROM STDIN", buffer)
            return len(rows)
        except IntegrityError:
            buffer.seek(0)
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sensors_reading_stage ("
            " sensor_id bigint, room_id bigint, campus_id bigint, ts timestamptz,"
            " count integer, present boolean, received_at timestamptz"
            ") ON COMMIT DELETE ROWS"
        )
        with connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY sensors_reading_stage {READING_COLUMNS} FROM STDIN", buffer)
        cursor.execute(
            f"INSERT INTO sensors_reading {READING_COLUMNS} SELECT {READING_COLUMNS[1:-1]}"
            " FROM sensors_reading_stage ORDER BY sensor_id, ts ON CONFLICT (sensor_id, ts) DO NOTHING"
        )
        inserted = cursor.rowcount
        # Empty it now too: inside an outer transaction (tests) the commit that would is later.
        cursor.execute("DELETE FROM sensors_reading_stage")
    return inserted


def _insert_other(rows: list[tuple]) -> int:
    """Insert ``rows`` ignoring those already stored (SQLite: INSERT OR IGNORE); return how many were new."""
    readings = [
        Reading(
            sensor_id=sensor_id,
            room_id=room_id,
            campus_id=campus_id,
            ts=ts,
            count=count,
            present=present,
            received_at=received_at,
        )
        for sensor_id, room_id, campus_id, ts, count, present, received_at in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT total_changes()")
        before = cursor.fetchone()[0]
        Reading.objects.bulk_create(readings, ignore_conflicts=True)
        cursor.execute("SELECT total_changes()")
        return cursor.fetchone()[0] - before


def _store(rows: list[tuple]) -> int:
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        return _insert_postgresql(rows)
    return _insert_other(rows)


def _mark_seen(seen: dict[int, dt.datetime], now: dt.datetime) -> None:
    """Note when each sensor was last heard from, and that it is online."""
    if not seen:
        return
    newest = max(seen.values())
    sensor_ids = sorted(seen)
    Sensor.objects.filter(pk__in=sensor_ids).filter(
        Q(last_seen__isnull=True) | Q(last_seen__lt=newest - LAST_SEEN_PRECISION)
    ).update(last_seen=newest)
    Sensor.objects.filter(pk__in=sensor_ids).exclude(status=SensorStatus.ONLINE).update(
        status=SensorStatus.ONLINE, status_changed_at=now, last_seen=newest
    )


@transaction.atomic
def readings_ingest(*, messages: Sequence[IncomingMessage], now: dt.datetime | None = None) -> IngestResult:
    """Validate and store the readings of ``messages`` in one transaction; refuse the rest into dead letters.

    Each (sensor, ts) is stored once: a reading already stored (a redelivered message) or repeated
    in the batch counts as a duplicate. Nothing raises for bad input. Call with the messages not yet
    acknowledged to their sender, and acknowledge them only after this returns (the commit).
    """
    now = now or timezone.now()
    limits = IngestLimits.from_settings()
    external_ids = {m.external_id for m in messages if m.external_id is not None}
    sensors = {
        sensor.external_id: sensor
        for sensor in Sensor.objects.select_related("room__building").filter(external_id__in=external_ids)
    }
    batch = _Batch()
    for message in messages:
        sensor = sensors.get(message.external_id) if message.external_id is not None else None
        if sensor is not None and message.campus_id is not None and sensor.room.building.campus_id != message.campus_id:
            sensor = None  # not this gateway's: as if unknown
        _read_message(batch, message, sensor, limits)
    rows = list(batch.rows.values())
    stored = _store(rows)
    _mark_seen(batch.seen, now)
    if batch.dead_letters:
        DeadLetter.objects.bulk_create(batch.dead_letters)
    return IngestResult(
        messages=len(messages),
        stored=stored,
        duplicates=len(rows) - stored + batch.repeated_in_batch,
        dead_letters=batch.dead_letters,
    )


@dataclass(frozen=True)
class HistoricReading:
    """A reading of a registered sensor that Kampus itself produced (the demo's past weeks), not one that arrived."""

    sensor: Sensor
    ts: dt.datetime
    count: int | None = None
    present: bool | None = None


@transaction.atomic
def readings_store_history(*, readings: Sequence[HistoricReading], now: dt.datetime | None = None) -> IngestResult:
    """Store ``readings`` as received at ``now``, each (sensor, ts) once; for history made on this machine only.

    The checks of ``readings_ingest`` apply (kind, count range, not from the future) except the
    age limit, which guards the network entry points against replayed or stale messages; a
    reading that fails one raises ValueError, since history made here must not. The sensors'
    ``last_seen`` and status are left alone: history says nothing about whether a sensor is online now.
    Precondition: each sensor was loaded with ``select_related("room__building")``.
    """
    now = now or timezone.now()
    limits = IngestLimits.from_settings()
    facts_by_sensor: dict[int, _SensorFacts] = {}
    rows: dict[tuple[int, dt.datetime], tuple] = {}
    for reading in readings:
        sensor = reading.sensor
        facts = facts_by_sensor.get(sensor.pk)
        if facts is None:
            room = sensor.room
            facts = facts_by_sensor[sensor.pk] = _SensorFacts(
                sensor_id=sensor.pk,
                room_id=room.pk,
                campus_id=room.building.campus_id,
                counts=sensor.kind == SensorKind.COUNT,
                count_limit=limits.count_limit(room),
                received_at=now,
                earliest=dt.datetime.min.replace(tzinfo=dt.UTC),
                latest=now + limits.max_future,
            )
        canonical = CanonicalReading(ts=reading.ts, count=reading.count, present=reading.present)
        problem = _check_reading(canonical, reading.ts, facts)
        if problem is not None:
            raise ValueError(f"reading of {sensor.external_id} refused: {problem[0]} ({problem[1]})")
        rows.setdefault(
            (sensor.pk, reading.ts),
            (sensor.pk, facts.room_id, facts.campus_id, reading.ts, reading.count, reading.present, now),
        )
    stored = _store(list(rows.values()))
    return IngestResult(messages=0, stored=stored, duplicates=len(readings) - stored)


# --- Retention ---------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    readings: int = 0
    dead_letters: int = 0

    def __str__(self) -> str:
        return f"{self.readings} readings, {self.dead_letters} dead letters deleted"


def _delete_in_chunks(queryset: Any, chunk: int) -> int:
    """Delete the rows of ``queryset`` a chunk at a time, each in its own short transaction."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:chunk])
            if not ids:
                return deleted
            deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]


def readings_purge(*, now: dt.datetime | None = None, chunk: int = 10_000) -> PurgeResult:
    """Delete raw readings and dead letters past their retention (``KAMPUS_SENSOR_*_RETENTION_DAYS``; 0: keep)."""
    now = now or timezone.now()
    result = PurgeResult()
    reading_days = settings.KAMPUS_SENSOR_READING_RETENTION_DAYS
    if reading_days > 0:
        old = Reading.objects.filter(ts__lt=now - dt.timedelta(days=reading_days))
        result.readings = _delete_in_chunks(old, chunk)
    dead_letter_days = settings.KAMPUS_SENSOR_DEAD_LETTER_RETENTION_DAYS
    if dead_letter_days > 0:
        old_letters = DeadLetter.objects.filter(received_at__lt=now - dt.timedelta(days=dead_letter_days))
        result.dead_letters = _delete_in_chunks(old_letters, chunk)
    return result


# --- The registry ------------------------------------------------------------------------------


def _refuse_room(actor: User, room: Room) -> None:
    if not may_manage_room(actor, room):
        raise PermissionDenied(
            _("You may register sensors only in rooms you manage; %(room)s is not one of them.") % {"room": room.label}
        )


def _check_external_id(external_id: str, *, sensor: Sensor | None = None) -> str:
    external_id = external_id.strip()
    if not EXTERNAL_ID.fullmatch(external_id):
        message = _("Give 1–128 letters, digits or . _ : @ - (no spaces or slashes), starting with a letter or digit.")
        raise InvalidInput(message, errors=[{"field": "external_id", "message": message}])
    taken = Sensor.objects.filter(external_id=external_id)
    if sensor is not None:
        taken = taken.exclude(pk=sensor.pk)
    if taken.exists():
        message = _("A sensor with this external id is already registered.")
        raise InvalidInput(message, errors=[{"field": "external_id", "message": message}])
    return external_id


@transaction.atomic
def sensor_register(
    *,
    actor: User,
    external_id: str,
    kind: str,
    room: Room,
    vendor: str = "",
    model: str = "",
    is_active: bool = True,
    installed_at: dt.date | None = None,
) -> Sensor:
    """Register a sensor in ``room``; only those who manage the room may (``campus.permissions.may_manage_room``)."""
    _refuse_room(actor, room)
    return Sensor.objects.create(
        external_id=_check_external_id(external_id),
        kind=kind,
        room=room,
        vendor=vendor,
        model=model,
        is_active=is_active,
        installed_at=installed_at,
    )


SENSOR_FIELDS = frozenset({"external_id", "kind", "room", "vendor", "model", "is_active", "installed_at"})


@transaction.atomic
def sensor_update(*, actor: User, sensor: Sensor, changes: dict[str, Any]) -> Sensor:
    """Change the given fields of ``sensor``; moving it needs the right to manage both rooms.

    Readings already stored keep the room they were taken in.
    """
    _refuse_room(actor, sensor.room)
    unknown = set(changes) - SENSOR_FIELDS
    if unknown:
        raise ValueError(f"not sensor fields: {sorted(unknown)}")
    if "room" in changes and changes["room"].pk != sensor.room_id:
        _refuse_room(actor, changes["room"])
    if "external_id" in changes:
        changes["external_id"] = _check_external_id(changes["external_id"], sensor=sensor)
    for name, value in changes.items():
        setattr(sensor, name, value)
    sensor.save()
    return sensor


# --- Gateway tokens ----------------------------------------------------------------------------


@transaction.atomic
def gateway_token_create(*, actor: User | None, campus: Campus, name: str) -> tuple[IngestToken, str]:
    """Create a gateway token for ``campus``; return it with the raw secret, which is never shown again.

    ``actor`` None is the command line (``manage.py create_gateway_token``), which may always.
    """
    if actor is not None and not permissions.may_manage_gateway_tokens(actor, campus):
        raise PermissionDenied(_("Only the campus's facility managers may create gateway tokens."))
    raw = new_secret(GATEWAY_TOKEN_PREFIX)
    token = IngestToken.objects.create(
        name=name,
        campus=campus,
        prefix=raw[:GATEWAY_PREFIX_LENGTH],
        hashed_key=hash_token(raw),
        created_by=actor,
    )
    return token, raw


@transaction.atomic
def gateway_token_revoke(*, actor: User | None, token: IngestToken) -> IngestToken:
    """Revoke ``token`` from now on; revoking it again keeps the first time."""
    if actor is not None and not permissions.may_manage_gateway_tokens(actor, token.campus):
        raise PermissionDenied(_("Only the campus's facility managers may revoke gateway tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def gateway_token_authenticate(*, raw: str) -> IngestToken | None:
    """Return the active gateway token whose secret is ``raw``, noting its use; else None."""
    if not raw.startswith(GATEWAY_TOKEN_PREFIX):
        return None
    token = IngestToken.objects.filter(hashed_key=hash_token(raw), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= GATEWAY_LAST_USED_PRECISION:
        IngestToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
