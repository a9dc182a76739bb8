"""Payload adapters: every format becomes the same canonical reading, and nothing makes the parser raise."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensors.models import DeadLetterReason
from sensors.payloads import CanonicalReading, Parsed, parse_payload

RECEIVED = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)
TEN = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)  # 10:00 in Helsinki


def parse(value) -> Parsed:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return parse_payload(raw, received_at=RECEIVED)


def values(parsed: Parsed) -> list[tuple]:
    return [(r.ts, r.count, r.present) for r in parsed.readings]


def reasons(parsed: Parsed) -> list[str]:
    return [refusal.reason for refusal in parsed.refusals]


# --- Kampus JSON ----------------------------------------------------------------------------------


def test_a_kampus_count_with_its_offset_becomes_one_reading_in_utc():
    parsed = parse({"ts": "2026-03-10T10:00:00+02:00", "count": 12})

    assert parsed.format == "kampus"
    assert values(parsed) == [(TEN, 12, None)]
    assert parsed.refusals == []


def test_a_kampus_presence_reading():
    parsed = parse({"ts": "2026-03-10T08:00:00Z", "present": True})

    assert values(parsed) == [(TEN, None, True)]


def test_a_missing_time_is_left_for_the_time_of_receipt():
    parsed = parse({"count": 3})

    assert values(parsed) == [(None, 3, None)]


def test_a_whole_float_is_a_count_and_a_fraction_is_not():
    assert values(parse({"count": 4.0})) == [(None, 4, None)]
    assert reasons(parse({"count": 4.5})) == [DeadLetterReason.INVALID]


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"ts": "2026-03-10T10:00:00", "count": 1}, "no UTC offset"),
        ({"ts": "yesterday", "count": 1}, "not an ISO 8601 time"),
        ({"ts": 1773129600, "count": 1}, "not an ISO 8601 text"),
        ({"count": "12"}, "not a whole number"),
        ({"count": True}, "not a whole number"),
        ({"present": 1}, "not true or false"),
        ({"count": 1, "present": True}, "both count and present"),
        ({"count": 1, "room": "A101"}, "unknown fields"),
        ({"ts": "0001-01-01T00:00:00+01:00", "count": 1}, "out of range"),
    ],
)
def test_wrong_types_are_refused_as_invalid_naming_the_field(payload, detail):
    parsed = parse(payload)

    assert parsed.readings == []
    assert reasons(parsed) == [DeadLetterReason.INVALID]
    assert detail in parsed.refusals[0].detail


def test_a_batch_keeps_its_good_readings_and_refuses_each_bad_one_with_its_index():
    parsed = parse(
        [
            {"ts": "2026-03-10T10:00:00+02:00", "count": 1},
            {"ts": "2026-03-10T10:01:00+02:00", "count": "two"},
            {"ts": "2026-03-10T10:02:00+02:00", "present": False},
        ]
    )

    assert parsed.format == "kampus-batch"
    assert [r.index for r in parsed.readings] == [0, 2]
    assert [(r.count, r.present) for r in parsed.readings] == [(1, None), (None, False)]
    assert [(refusal.index, refusal.fragment["count"]) for refusal in parsed.refusals] == [(1, "two")]
    assert parsed.refusals[0].detail.startswith("item 1:")


def test_an_empty_batch_is_refused():
    assert reasons(parse([])) == [DeadLetterReason.INVALID]


# --- SenML (RFC 8428) -----------------------------------------------------------------------------


def test_senml_resolves_base_name_time_and_value_and_keeps_count_and_presence():
    base = 1773129600  # 2026-03-10T08:00:00Z
    parsed = parse(
        [
            {"bn": "urn:dev:mac:0024befffe804ff1:", "bt": base, "bver": 10, "n": "count", "v": 7},
            {"n": "temperature", "u": "Cel", "v": 21.5},
            {"n": "count", "t": 60, "v": 9},
            {"n": "presence", "t": 60, "vb": True},
            {"n": "presence", "t": 120, "v": 0},
        ]
    )

    assert parsed.format == "senml"
    assert parsed.refusals == []
    assert values(parsed) == [
        (TEN, 7, None),
        (TEN + dt.timedelta(minutes=1), 9, None),
        (TEN + dt.timedelta(minutes=1), None, True),
        (TEN + dt.timedelta(minutes=2), None, False),
    ]


def test_senml_times_below_two_to_the_28_are_relative_to_receipt_and_zero_is_receipt():
    parsed = parse([{"n": "count", "t": -30, "v": 2}, {"n": "count", "v": 3}])

    assert values(parsed) == [(RECEIVED - dt.timedelta(seconds=30), 2, None), (None, 3, None)]


def test_senml_without_a_count_or_presence_record_is_refused():
    parsed = parse([{"bn": "dev1:", "n": "temperature", "v": 20}])

    assert reasons(parsed) == [DeadLetterReason.INVALID]
    assert "no count or presence record" in parsed.refusals[0].detail


def test_senml_refuses_a_record_with_a_wrong_value_and_keeps_the_others():
    parsed = parse([{"n": "count", "v": 1, "t": 1773129600}, {"n": "count", "v": "x", "t": 1773129660}])

    assert values(parsed) == [(TEN, 1, None)]
    assert parsed.refusals[0].detail.startswith("record 1:")


# --- The Things Stack ----------------------------------------------------------------------------


def tts_uplink(decoded: dict | None, received_at: str = "2026-03-10T08:00:00.123456789Z") -> dict:
    uplink = {
        "f_port": 1,
        "frm_payload": "AAc=",
        "rx_metadata": [{"gateway_ids": {"gateway_id": "gw-1"}, "rssi": -80}],
        "received_at": received_at,
    }
    if decoded is not None:
        uplink["decoded_payload"] = decoded
    return {
        "end_device_ids": {"device_id": "a101-counter", "application_ids": {"application_id": "kampus"}},
        "received_at": received_at,
        "uplink_message": uplink,
    }


def test_a_things_stack_uplink_reads_its_decoded_payload_at_the_network_time():
    parsed = parse(tts_uplink({"count": 5, "battery": 3.6}))

    assert parsed.format == "tts"
    assert values(parsed) == [(TEN + dt.timedelta(microseconds=123456), 5, None)]


def test_a_things_stack_uplink_without_a_decoded_payload_asks_for_a_payload_formatter():
    parsed = parse(tts_uplink(None))

    assert reasons(parsed) == [DeadLetterReason.INVALID]
    assert "payload formatter" in parsed.refusals[0].detail


# --- Unreadable input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"\xff\xfe{", b'{"count": NaN}', b'{"count": Infinity}', b"[" * 100_000, b'{"count": 1'],
)
def test_what_is_not_utf8_json_is_malformed(payload):
    parsed = parse_payload(payload, received_at=RECEIVED)

    assert parsed.readings == []
    assert reasons(parsed) == [DeadLetterReason.MALFORMED]


@pytest.mark.parametrize("payload", [{"temperature": 20}, 42, "count", None, {"ts": "2026-03-10T10:00:00Z"}])
def test_json_in_no_known_format_is_refused_as_unknown_format(payload):
    assert reasons(parse(payload)) == [DeadLetterReason.UNKNOWN_FORMAT]


def test_a_byte_order_mark_is_allowed():
    assert values(parse_payload(b"\xef\xbb\xbf" + b'{"count": 2}', received_at=RECEIVED)) == [(None, 2, None)]


# --- Fuzzing: the parser never raises ----------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
KAMPUS_KEYS = st.sampled_from(
    [
        "ts",
        "count",
        "present",
        "n",
        "bn",
        "bt",
        "t",
        "v",
        "vb",
        "bv",
        "bver",
        "u",
        "uplink_message",
        "decoded_payload",
        "received_at",
        "x",
    ]
)
TIMES = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.timezones() | st.none()
).map(lambda moment: moment.isoformat())
JSON_VALUES = st.recursive(
    JSON_SCALARS | TIMES,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(KAMPUS_KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=30,
)


def check_parsed(parsed: Parsed) -> None:
    """What the parser returns is always well-formed: every reading a count or a presence, every refusal a reason."""
    assert isinstance(parsed, Parsed)
    for reading in parsed.readings:
        assert isinstance(reading, CanonicalReading)
        assert (reading.count is None) != (reading.present is None)
        assert reading.count is None or (isinstance(reading.count, int) and not isinstance(reading.count, bool))
        assert reading.present is None or isinstance(reading.present, bool)
        assert reading.ts is None or reading.ts.utcoffset() == dt.timedelta(0)
    valid_reasons = set(DeadLetterReason.values)
    for refusal in parsed.refusals:
        assert refusal.reason in valid_reasons
        assert isinstance(refusal.detail, str)


SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=500, deadline=None, suppress_health_check=SUPPRESSED)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_raising(payload):
    check_parsed(parse_payload(payload, received_at=RECEIVED))


@settings(max_examples=1500, deadline=None, suppress_health_check=SUPPRESSED)
@given(JSON_VALUES)
def test_any_json_parses_without_raising(value):
    check_parsed(parse_payload(json.dumps(value).encode(), received_at=RECEIVED))


@settings(max_examples=500, deadline=None, suppress_health_check=SUPPRESSED)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "bn": st.text(max_size=10),
                "bt": st.integers() | st.floats(allow_nan=False),
                "bv": st.integers() | st.floats(allow_nan=False),
                "n": st.sampled_from(["count", "presence", "temperature", ""]) | st.text(max_size=5),
                "t": st.integers() | st.floats(allow_nan=False),
                "v": st.integers() | st.floats(allow_nan=False) | st.booleans(),
                "vb": JSON_SCALARS,
            },
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_senml_like_pack_parses_without_raising(records):
    check_parsed(parse_payload(json.dumps(records).encode(), received_at=RECEIVED))


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESSED)
@given(st.fixed_dictionaries({}, optional={"ts": JSON_SCALARS | TIMES, "count": JSON_SCALARS, "present": JSON_SCALARS}))
def test_any_kampus_like_object_parses_without_raising(value):
    check_parsed(parse_payload(json.dumps(value).encode(), received_at=RECEIVED))
