"""Sensors: the registry and readings for facility managers, dead letters, and HTTP ingest for gateways."""

from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.pagination import paginate
from ninja.security import HttpBearer

from api.pagination import KampusPagination
from api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InvalidInputOut
from api.sensor_schemas import (
    DeadLetterFilter,
    DeadLetterOut,
    GatewayTokenCreatedOut,
    GatewayTokenIn,
    GatewayTokenOut,
    IngestResultOut,
    ReadingFilter,
    ReadingOut,
    SensorFilter,
    SensorIn,
    SensorOut,
    SensorUpdateIn,
)
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import Campus, Room, User
from operations.metrics import observe_http_ingest
from sensors import selectors, services
from sensors.models import DeadLetter, IngestSource, IngestToken, Reading, Sensor

router = Router(tags=["sensors"])


def _require_facility_manager(user: User) -> None:
    if not selectors.is_facility_manager(user):
        raise PermissionDenied(_("Only facility managers work with sensors."))


def _room(room_id: int) -> Room:
    room = Room.objects.select_related("building__campus").filter(pk=room_id).first()
    if room is None:
        message = _("There is no room with id %(id)s.") % {"id": room_id}
        raise InvalidInput(message, errors=[{"field": "room", "message": message}])
    return room


def _sensor(request: HttpRequest, sensor_id: int) -> Sensor:
    _require_facility_manager(request.auth)
    return get_object_or_404(selectors.sensor_list(user=request.auth), pk=sensor_id)


# --- The registry ------------------------------------------------------------------------------


@router.get("/sensors", response={200: list[SensorOut], 403: ErrorOut, **READ_ERRORS})
@paginate(KampusPagination)
def list_sensors(request: HttpRequest, filters: Query[SensorFilter]) -> QuerySet[Sensor]:
    """List the sensors in the rooms you manage (facility managers)."""
    _require_facility_manager(request.auth)
    return filters.filter(selectors.sensor_list(user=request.auth))


@router.post("/sensors", response={201: SensorOut, **WRITE_ERRORS})
def create_sensor(request: HttpRequest, payload: SensorIn) -> Status:
    """Register a sensor in a room you manage; it may then publish on `kampus/sensors/<external_id>`."""
    _require_facility_manager(request.auth)
    sensor = services.sensor_register(
        actor=request.auth,
        external_id=payload.external_id,
        kind=payload.kind,
        room=_room(payload.room),
        vendor=payload.vendor,
        model=payload.model,
        is_active=payload.is_active,
        installed_at=payload.installed_at,
    )
    return Status(201, sensor)


@router.get("/sensors/{sensor_id}", response={200: SensorOut, 403: ErrorOut, 404: ErrorOut, **READ_ERRORS})
def get_sensor(request: HttpRequest, sensor_id: int) -> Sensor:
    """Return one sensor of a room you manage."""
    return _sensor(request, sensor_id)


@router.patch("/sensors/{sensor_id}", response={200: SensorOut, 404: ErrorOut, **WRITE_ERRORS})
def update_sensor(request: HttpRequest, sensor_id: int, payload: SensorUpdateIn) -> Sensor:
    """Change a sensor: only the fields given change. Moving it needs both rooms to be yours."""
    sensor = _sensor(request, sensor_id)
    changes = payload.dict(exclude_unset=True)
    if "room" in changes:
        changes["room"] = _room(changes["room"])
    services.sensor_update(actor=request.auth, sensor=sensor, changes=changes)
    return get_object_or_404(selectors.sensor_list(user=request.auth), pk=sensor.pk)


@router.get(
    "/sensors/{sensor_id}/readings", response={200: list[ReadingOut], 403: ErrorOut, 404: ErrorOut, **READ_ERRORS}
)
@paginate(KampusPagination)
def list_readings(request: HttpRequest, sensor_id: int, filters: Query[ReadingFilter]) -> QuerySet[Reading]:
    """List a sensor's readings in [from, to), oldest first."""
    sensor = _sensor(request, sensor_id)
    if filters.start is not None and filters.end is not None and filters.start >= filters.end:
        message = _("Give from before to.")
        raise InvalidInput(message, errors=[{"field": "to", "message": message}])
    return selectors.reading_list(sensor=sensor, start=filters.start, end=filters.end)


# --- Dead letters ------------------------------------------------------------------------------


@router.get("/dead-letters", response={200: list[DeadLetterOut], 403: ErrorOut, **READ_ERRORS})
@paginate(KampusPagination)
def list_dead_letters(request: HttpRequest, filters: Query[DeadLetterFilter]) -> QuerySet[DeadLetter]:
    """List refused sensor messages with their reasons, newest first: of the sensors of the rooms you manage,
    and for campus facility managers also those naming no registered sensor."""
    _require_facility_manager(request.auth)
    return filters.filter(selectors.dead_letter_list(user=request.auth))


# --- Gateway tokens ----------------------------------------------------------------------------


@router.get("/gateway-tokens", response={200: list[GatewayTokenOut], 403: ErrorOut, **READ_ERRORS})
@paginate(KampusPagination)
def list_gateway_tokens(request: HttpRequest) -> QuerySet[IngestToken]:
    """List the gateway tokens of your campus (campus facility managers); never the tokens themselves."""
    _require_facility_manager(request.auth)
    return selectors.gateway_token_list(user=request.auth)


@router.post("/gateway-tokens", response={201: GatewayTokenCreatedOut, **WRITE_ERRORS})
def create_gateway_token(request: HttpRequest, payload: GatewayTokenIn) -> Status:
    """Create a token for a gateway that sends readings with POST /readings; shown only in this answer."""
    campus = Campus.objects.filter(pk=payload.campus).first()
    if campus is None:
        message = _("There is no campus with id %(id)s.") % {"id": payload.campus}
        raise InvalidInput(message, errors=[{"field": "campus", "message": message}])
    token, raw = services.gateway_token_create(actor=request.auth, campus=campus, name=payload.name)
    token.token = raw  # type: ignore[attr-defined]  # shown only in this answer, never stored
    return Status(201, token)


@router.post("/gateway-tokens/{token_id}/revoke", response={200: GatewayTokenOut, 404: ErrorOut, **WRITE_ERRORS})
def revoke_gateway_token(request: HttpRequest, token_id: int) -> IngestToken:
    """Revoke a gateway token: it never authenticates again."""
    token = get_object_or_404(IngestToken.objects.select_related("campus"), pk=token_id)
    return services.gateway_token_revoke(actor=request.auth, token=token)


# --- HTTP ingest -------------------------------------------------------------------------------


class GatewayTokenRefused(AuthenticationError):
    def __init__(self) -> None:
        super().__init__(401, _("The gateway token is invalid or has been revoked."))


class GatewayTokenAuth(HttpBearer):
    """``Authorization: Bearer kgw_…``: a gateway token (``POST /gateway-tokens``)."""

    def authenticate(self, request: HttpRequest, token: str) -> IngestToken:
        gateway = services.gateway_token_authenticate(raw=token.strip())
        if gateway is None:
            raise GatewayTokenRefused()
        return gateway


# The body is any of the formats an MQTT payload may be (docs/sensors.md); it is read as bytes and
# checked by the ingest service, so bad input becomes a dead letter as it would over MQTT.
_ANY_READINGS_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "The message as a sensor would publish it over MQTT: Kampus JSON ({ts, count} or {ts, present}), "
            "a list of those, SenML (RFC 8428) JSON, or a The Things Stack uplink."
        ),
        "content": {
            "application/json": {
                "schema": {"type": ["object", "array"]},
                "examples": {
                    "count": {"value": {"ts": "2026-03-10T10:00:00+02:00", "count": 12}},
                    "batch": {"value": [{"ts": "2026-03-10T10:00:00+02:00", "present": True}]},
                    "senml": {
                        "value": [{"bn": "urn:dev:mac:0024befffe804ff1:", "bt": 1773129600, "n": "count", "v": 7}]
                    },
                },
            }
        },
    }
}


@router.post(
    "/readings",
    auth=[GatewayTokenAuth()],
    response={200: IngestResultOut, 401: ErrorOut, 413: ErrorOut, 422: InvalidInputOut},
    openapi_extra=_ANY_READINGS_BODY,
)
def ingest_readings(request: HttpRequest, sensor: str = Query(..., min_length=1, max_length=128)) -> IngestResultOut:
    """Store readings sent by a gateway without MQTT, checked and stored exactly as the MQTT ingester does:
    `sensor` plays the part of the topic's last level; refused readings become dead letters."""
    gateway: IngestToken = request.auth
    try:
        payload = request.body
    except RequestDataTooBig as error:
        raise HttpError(413, _("The body is too large.")) from error
    except RawPostDataException as error:
        # A form post was read as a form before this view ran; the readings come as the body itself.
        message = _("Send the readings as the body itself (e.g. Content-Type: application/json), not as a form.")
        raise InvalidInput(message, errors=[{"field": "body", "message": message}]) from error
    if not payload:
        # No message at all, unlike a malformed one (a dead letter): the request itself is incomplete.
        message = _("Send the readings in the body, in a format a sensor publishes (docs/sensors.md).")
        raise InvalidInput(message, errors=[{"field": "body", "message": message}])
    result = services.readings_ingest(
        messages=[
            services.IncomingMessage(
                payload=payload,
                received_at=timezone.now(),
                external_id=sensor,
                source=IngestSource.HTTP,
                topic=sensor,
                campus_id=gateway.campus_id,
            )
        ]
    )
    observe_http_ingest(stored=result.stored, duplicates=result.duplicates, rejected=result.rejected)
    return IngestResultOut(
        stored=result.stored,
        duplicates=result.duplicates,
        rejected=result.rejected,
        dead_letters=[{"reason": letter.reason, "detail": letter.detail} for letter in result.dead_letters],
    )
