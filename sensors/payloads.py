"""Payload adapters: each sensor message format becomes the same canonical readings.

A message is bytes (an MQTT payload or an HTTP body). ``parse_payload`` decodes it as JSON,
recognises the format and hands it to that format's adapter:

- ``kampus``: ``{"ts": "<ISO 8601>", "count": 12}`` or ``{"ts": …, "present": true}``;
- ``kampus-batch``: a JSON list of such objects;
- ``senml``: SenML (RFC 8428) JSON, a list of records with base name/time/value, whose
  measurement name is ``count`` or ``presence``;
- ``tts``: a The Things Stack (LoRaWAN) uplink whose ``uplink_message.decoded_payload`` has
  ``count`` or ``present``.

A new vendor format is one more adapter: a function from the decoded JSON to a ``Parsed`` and a
line in ``ADAPTERS``. Adapters check shapes and types only; what needs the database (the sensor,
its room's capacity, the time window) is checked by ``sensors.services``.

Nothing here raises on any input: what cannot be read becomes a ``Refusal`` with a reason (a
``DeadLetterReason`` value) and a language-neutral detail naming the field and value.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sensors.models import DeadLetterReason

# SenML (RFC 8428 §4.5.3): times below 2**28 are relative to the time of receipt.
SENML_RELATIVE_TIME_LIMIT = 2**28
# SenML measurement names (the part after the base name) that Kampus reads.
SENML_COUNT_NAMES = frozenset({"count", "people", "people_count", "occupancy"})
SENML_PRESENCE_NAMES = frozenset({"presence", "present", "occupied"})
# Kampus JSON: the fields an object may carry.
KAMPUS_FIELDS = frozenset({"ts", "count", "present"})
# Enough characters of a refused value to recognise it in the detail.
DETAIL_VALUE_CHARS = 80


class CanonicalReading(NamedTuple):
    """One reading as every format ends up: a count or a presence, at ``ts`` (None: the time of receipt).

    ``index`` is its place in a batch (None for a single reading) and ``fragment`` the JSON it came
    from, kept for a dead letter if a later check refuses it. (A named tuple: one is made per reading,
    tens of thousands a second.)
    """

    ts: dt.datetime | None
    count: int | None = None
    present: bool | None = None
    index: int | None = None
    fragment: Any = None


@dataclass(frozen=True)
class Refusal:
    """Why a message, or one reading of it (``index``), cannot be stored; ``fragment`` is that reading's JSON."""

    reason: str
    detail: str
    index: int | None = None
    fragment: Any = None


@dataclass
class Parsed:
    """What one message holds: its format, the readings read and what was refused."""

    format: str
    readings: list[CanonicalReading] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


class _Invalid(Exception):
    """A value of the wrong type or shape, caught inside this module and turned into a Refusal."""

    def __init__(self, detail: str, reason: str = DeadLetterReason.INVALID) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


def shown(value: Any) -> str:
    """Return ``value`` as JSON (or repr), cut for a detail message."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= DETAIL_VALUE_CHARS else text[: DETAIL_VALUE_CHARS - 1] + "…"


# --- Values shared by the formats ------------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError) as error:
        raise _Invalid(f"ts={shown(value.isoformat())}: out of range") from error


def read_iso_time(value: Any, name: str = "ts") -> dt.datetime:
    """Return the aware UTC time of an ISO 8601 text with its UTC offset; refuse anything else."""
    if not isinstance(value, str):
        raise _Invalid(f"{name}={shown(value)}: not an ISO 8601 text")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except (ValueError, TypeError, OverflowError) as error:
        raise _Invalid(f"{name}={shown(value)}: not an ISO 8601 time") from error
    if parsed.utcoffset() is None:
        raise _Invalid(f"{name}={shown(value)}: no UTC offset (add Z or +02:00)")
    return _utc(parsed)


def read_count(value: Any, name: str = "count") -> int:
    """Return a whole number of people; JSON 12 and 12.0 are both twelve, true and 12.5 are not counts."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"{name}={shown(value)}: not a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise _Invalid(f"{name}={shown(value)}: not a whole number")
        value = int(value)
    return value


def read_present(value: Any, name: str = "present") -> bool:
    """Return presence from JSON true/false (SenML also sends it as the number 0 or 1)."""
    if isinstance(value, bool):
        return value
    raise _Invalid(f"{name}={shown(value)}: not true or false")


def _reading(obj: dict[str, Any], *, ts: dt.datetime | None, index: int | None) -> CanonicalReading:
    """Return the count or presence of a Kampus-style object (``count`` or ``present``, not both)."""
    has_count, has_present = "count" in obj, "present" in obj
    if has_count and has_present:
        raise _Invalid("both count and present: give one")
    if has_count:
        return CanonicalReading(ts=ts, count=read_count(obj["count"]), index=index, fragment=obj)
    if has_present:
        return CanonicalReading(ts=ts, present=read_present(obj["present"]), index=index, fragment=obj)
    raise _Invalid("neither count nor present")


# --- Kampus JSON ---------------------------------------------------------------------------------


def is_kampus_object(value: Any) -> bool:
    return isinstance(value, dict) and ("count" in value or "present" in value) and "uplink_message" not in value


def kampus_object(value: Any, *, index: int | None = None) -> CanonicalReading:
    """Read ``{"ts": "<ISO 8601>", "count": 12}`` or ``{"ts": …, "present": true}`` (``ts`` optional)."""
    if not isinstance(value, dict):
        raise _Invalid(f"{shown(value)}: not an object")
    if not KAMPUS_FIELDS.issuperset(value):
        raise _Invalid(f"unknown fields {shown(sorted(str(name) for name in value if name not in KAMPUS_FIELDS))}")
    ts = read_iso_time(value["ts"]) if value.get("ts") is not None else None
    return _reading(value, ts=ts, index=index)


def adapt_kampus(document: Any) -> Parsed:
    parsed = Parsed("kampus")
    try:
        parsed.readings.append(kampus_object(document))
    except _Invalid as error:
        parsed.refusals.append(Refusal(error.reason, error.detail, fragment=document))
    return parsed


def adapt_kampus_batch(document: list[Any]) -> Parsed:
    """Read a list of Kampus objects; each is kept or refused on its own."""
    parsed = Parsed("kampus-batch")
    if not document:
        parsed.refusals.append(Refusal(DeadLetterReason.INVALID, "empty list", fragment=document))
    for index, item in enumerate(document):
        try:
            parsed.readings.append(kampus_object(item, index=index))
        except _Invalid as error:
            parsed.refusals.append(Refusal(error.reason, f"item {index}: {error.detail}", index, item))
    return parsed


# --- SenML (RFC 8428) ----------------------------------------------------------------------------

SENML_KEYS = frozenset({"bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"})


def is_senml(value: Any) -> bool:
    """Tell a SenML pack: a list of objects with SenML keys and no Kampus-only field."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) for item in value)
        and any(SENML_KEYS & set(item) for item in value)
        and not any({"count", "present", "ts"} & set(item) for item in value)
    )


def _number(record: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = record.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid(f"{key}={shown(value)}: not a number")
    return float(value)


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key, "")
    if not isinstance(value, str):
        raise _Invalid(f"{key}={shown(value)}: not a text")
    return value


def senml_time(seconds: float, *, received_at: dt.datetime) -> dt.datetime | None:
    """Return the time of a resolved SenML time: absolute (Unix seconds) or, below 2**28, relative to receipt."""
    try:
        if seconds == 0:
            return None  # "roughly now": the time of receipt
        if abs(seconds) < SENML_RELATIVE_TIME_LIMIT:
            return received_at + dt.timedelta(seconds=seconds)
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, ValueError, OSError) as error:
        raise _Invalid(f"t={shown(seconds)}: out of range") from error


def measurement_name(resolved: str) -> str:
    """Return the measurement part of a resolved SenML name: what follows the last ``:``, ``/`` or ``.``."""
    for separator in (":", "/", "."):
        resolved = resolved.rsplit(separator, 1)[-1]
    return resolved.strip().lower()


def adapt_senml(document: list[Any], *, received_at: dt.datetime) -> Parsed:
    """Resolve each record (RFC 8428 §4.6: base values carry on to the records after them) and keep
    the ``count`` and ``presence`` ones; other measurements (temperature, battery) are left aside."""
    parsed = Parsed("senml")
    base_name, base_time, base_value = "", 0.0, 0.0
    for index, record in enumerate(document):
        try:
            if "bver" in record and (isinstance(record["bver"], bool) or not isinstance(record["bver"], int)):
                raise _Invalid(f"bver={shown(record['bver'])}: not a whole number")
            if "bn" in record:
                base_name = _text(record, "bn")
            if "bt" in record:
                base_time = _number(record, "bt")
            if "bv" in record:
                base_value = _number(record, "bv")
            name = measurement_name(base_name + _text(record, "n"))
            if name not in SENML_COUNT_NAMES | SENML_PRESENCE_NAMES:
                continue
            ts = senml_time(base_time + _number(record, "t"), received_at=received_at)
            if name in SENML_COUNT_NAMES:
                if "v" not in record and "bv" not in record:
                    raise _Invalid(f"{name}: no v")
                count = read_count(base_value + _number(record, "v"), name="v")
                parsed.readings.append(CanonicalReading(ts=ts, count=count, index=index, fragment=record))
            else:
                if "vb" in record:
                    present = read_present(record["vb"], name="vb")
                elif "v" in record and record["v"] in (0, 1) and not isinstance(record["v"], bool):
                    present = record["v"] == 1
                else:
                    raise _Invalid(f"{name}: no vb (true/false) or v (0/1)")
                parsed.readings.append(CanonicalReading(ts=ts, present=present, index=index, fragment=record))
        except _Invalid as error:
            parsed.refusals.append(Refusal(error.reason, f"record {index}: {error.detail}", index, record))
    if not parsed.readings and not parsed.refusals:
        parsed.refusals.append(Refusal(DeadLetterReason.INVALID, "no count or presence record", fragment=document))
    return parsed


# --- The Things Stack (LoRaWAN) uplinks ----------------------------------------------------------


def is_tts_uplink(value: Any) -> bool:
    return isinstance(value, dict) and "uplink_message" in value


def adapt_tts(document: dict[str, Any]) -> Parsed:
    """Read ``uplink_message.decoded_payload`` (``count`` or ``present``, from the application's
    payload formatter); its time is when the network received it (``uplink_message.received_at``)."""
    parsed = Parsed("tts")
    try:
        uplink = document["uplink_message"]
        if not isinstance(uplink, dict):
            raise _Invalid("uplink_message: not an object")
        decoded = uplink.get("decoded_payload")
        if not isinstance(decoded, dict):
            raise _Invalid("uplink_message.decoded_payload missing: set a payload formatter")
        stamp = uplink.get("received_at", document.get("received_at"))
        ts = read_iso_time(stamp, name="received_at") if stamp is not None else None
        if "ts" in decoded:
            ts = read_iso_time(decoded["ts"], name="decoded_payload.ts")
        parsed.readings.append(_reading(decoded, ts=ts, index=None))
    except _Invalid as error:
        parsed.refusals.append(Refusal(error.reason, error.detail, fragment=document))
    return parsed


# --- Recognising the format -------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(payload: bytes) -> Any:
    """Return the JSON value of UTF-8 ``payload`` (a BOM is allowed); NaN and Infinity are not JSON."""
    return json.loads(payload.decode("utf-8-sig"), parse_constant=_reject_constant)


Adapter = Callable[[Any, dt.datetime], Parsed]

# (format name, recogniser, adapter); the first recogniser that says yes wins.
ADAPTERS: list[tuple[str, Callable[[Any], bool], Adapter]] = [
    ("tts", is_tts_uplink, lambda document, received_at: adapt_tts(document)),
    ("kampus", is_kampus_object, lambda document, received_at: adapt_kampus(document)),
    ("senml", is_senml, lambda document, received_at: adapt_senml(document, received_at=received_at)),
    (
        "kampus-batch",
        lambda value: isinstance(value, list),
        lambda document, received_at: adapt_kampus_batch(document),
    ),
]


def parse_payload(payload: bytes, *, received_at: dt.datetime) -> Parsed:
    """Return the readings and refusals of one message; never raises."""
    try:
        document = decode_json(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return Parsed("", refusals=[Refusal(DeadLetterReason.MALFORMED, f"{type(error).__name__}: {error}"[:300])])
    try:
        for _name, recognises, adapter in ADAPTERS:
            if recognises(document):
                return adapter(document, received_at)
        return Parsed(
            "",
            refusals=[
                Refusal(
                    DeadLetterReason.UNKNOWN_FORMAT,
                    "not Kampus JSON, a list of it, SenML or a The Things Stack uplink",
                    fragment=document,
                )
            ],
        )
    except Exception as error:  # a bug in an adapter must not stop the ingester: keep the message
        return Parsed("", refusals=[Refusal(DeadLetterReason.INVALID, f"{type(error).__name__}: {error}"[:300])])
