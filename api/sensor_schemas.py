"""Schemas of the sensor endpoints: the registry, readings, dead letters, gateway tokens and HTTP ingest."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Field, FilterLookup, FilterSchema, Schema
from pydantic import AfterValidator, field_validator
from pydantic_core import PydanticCustomError

from api.auth import request_zone
from api.booking_schemas import RoomRefOut, local
from api.schemas import CampusDatetime, RecordId, _date_within_years
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

CampusDate = Annotated[dt.date, AfterValidator(_date_within_years)]


def _zone(context: dict[str, Any] | None) -> dt.tzinfo | None:
    request = (context or {}).get("request")
    return request_zone(request) if request is not None else None


# --- Sensors -----------------------------------------------------------------------------------


class SensorOut(Schema):
    """A registered sensor; ``last_seen`` is when Kampus last stored a reading of it (campus time)."""

    id: int
    external_id: str = Field(description="The last level of its MQTT topic, and `sensor` of POST /readings.")
    kind: SensorKind
    room: RoomRefOut
    vendor: str
    model: str
    is_active: bool
    installed_at: dt.date | None
    status: SensorStatus = Field(
        description="new (nothing received yet), online, or offline (silent longer than SENSOR_OFFLINE_AFTER_MINUTES)."
    )
    status_changed_at: dt.datetime | None = Field(description="When the status last changed (campus time).")
    last_seen: dt.datetime | None

    @staticmethod
    def resolve_last_seen(sensor: Sensor, context: dict[str, Any]) -> dt.datetime | None:
        return local(sensor.last_seen, _zone(context))

    @staticmethod
    def resolve_status_changed_at(sensor: Sensor, context: dict[str, Any]) -> dt.datetime | None:
        return local(sensor.status_changed_at, _zone(context))


class SensorIn(Schema):
    external_id: str = Field(..., min_length=1, max_length=128, description="Letters, digits and . _ : @ -")
    kind: SensorKind
    room: RecordId
    vendor: str = Field("", max_length=100)
    model: str = Field("", max_length=100)
    is_active: bool = True
    installed_at: CampusDate | None = None


class SensorUpdateIn(Schema):
    """Only the fields given change; ``installed_at`` may be null to clear it."""

    external_id: str | None = Field(None, min_length=1, max_length=128)
    kind: SensorKind | None = None
    room: RecordId | None = None
    vendor: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=100)
    is_active: bool | None = None
    installed_at: CampusDate | None = None

    @field_validator("external_id", "kind", "room", "vendor", "model", "is_active")
    @classmethod
    def _given_not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null_not_allowed", _("Leave the field out to keep it; it cannot be null."))
        return value


class SensorFilter(FilterSchema):
    """Filters of ``GET /sensors``; every given filter must hold."""

    room: Annotated[RecordId | None, FilterLookup("room_id")] = Field(None, description="Room id.")
    kind: Annotated[SensorKind | None, FilterLookup("kind")] = None
    status: Annotated[SensorStatus | None, FilterLookup("status")] = None
    is_active: Annotated[bool | None, FilterLookup("is_active")] = None
    external_id: Annotated[str | None, FilterLookup("external_id__icontains")] = Field(
        None, max_length=128, description="Part of the external id."
    )


# --- Readings ----------------------------------------------------------------------------------


class ReadingOut(Schema):
    """A count (``count``, people) or a presence (``present``); the other is null."""

    ts: dt.datetime
    count: int | None
    present: bool | None

    @staticmethod
    def resolve_ts(reading: Reading, context: dict[str, Any]) -> dt.datetime:
        return local(reading.ts, _zone(context))


class ReadingFilter(FilterSchema):
    """The time range of ``GET /sensors/{id}/readings``: [from, to)."""

    start: Annotated[CampusDatetime | None, FilterLookup("ts__gte")] = Field(
        None, alias="from", description="Readings at or after this time."
    )
    end: Annotated[CampusDatetime | None, FilterLookup("ts__lt")] = Field(
        None, alias="to", description="Readings before this time."
    )


class IngestDeadLetterOut(Schema):
    reason: DeadLetterReason
    detail: str


class IngestResultOut(Schema):
    """What became of the readings of one request: stored, repeats of stored ones, refused (dead letters)."""

    stored: int
    duplicates: int
    rejected: int
    dead_letters: list[IngestDeadLetterOut]


# --- Dead letters ------------------------------------------------------------------------------


class DeadLetterOut(Schema):
    id: int
    received_at: dt.datetime
    source: IngestSource
    topic: str = Field(description="The MQTT topic; for HTTP ingest, the sensor named in the request.")
    sensor: int | None = Field(None, alias="sensor_id", description="The sensor's id, when it is registered.")
    reason: DeadLetterReason
    reason_text: str = Field(description="The reason in the request's language.")
    detail: str = Field(description="The field and value refused (language-neutral).")
    payload: str = Field(description="What was received, escaped where not UTF-8 and cut to 4,000 characters.")
    payload_bytes: int

    @staticmethod
    def resolve_received_at(letter: DeadLetter, context: dict[str, Any]) -> dt.datetime:
        return local(letter.received_at, _zone(context))

    @staticmethod
    def resolve_reason_text(letter: DeadLetter) -> str:
        return str(letter.get_reason_display())


class DeadLetterFilter(FilterSchema):
    reason: Annotated[DeadLetterReason | None, FilterLookup("reason")] = None
    source: Annotated[IngestSource | None, FilterLookup("source")] = None
    sensor: Annotated[RecordId | None, FilterLookup("sensor_id")] = Field(None, description="Sensor id.")
    since: Annotated[CampusDatetime | None, FilterLookup("received_at__gte")] = Field(
        None, description="Received at or after this time."
    )
    until: Annotated[CampusDatetime | None, FilterLookup("received_at__lt")] = Field(
        None, description="Received before this time."
    )


# --- Gateway tokens ----------------------------------------------------------------------------


class GatewayTokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100, description="Which gateway uses it.")
    campus: RecordId = Field(..., description="The campus whose sensors the gateway may send readings for.")


class GatewayTokenOut(Schema):
    id: int
    name: str
    campus: int = Field(alias="campus_id")
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @staticmethod
    def resolve_created_at(token: IngestToken, context: dict[str, Any]) -> dt.datetime:
        return local(token.created_at, _zone(context))

    @staticmethod
    def resolve_last_used_at(token: IngestToken, context: dict[str, Any]) -> dt.datetime | None:
        return local(token.last_used_at, _zone(context))

    @staticmethod
    def resolve_revoked_at(token: IngestToken, context: dict[str, Any]) -> dt.datetime | None:
        return local(token.revoked_at, _zone(context))


class GatewayTokenCreatedOut(GatewayTokenOut):
    token: str = Field(description="The token itself: shown only now. Send it as `Authorization: Bearer <token>`.")
