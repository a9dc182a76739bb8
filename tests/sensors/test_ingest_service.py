"""The ingest service: what is stored, what becomes a dead letter and why, and that nothing is stored twice.

Runs on the configured database: COPY and INSERT … ON CONFLICT on PostgreSQL, INSERT OR IGNORE on SQLite.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from campus.models import Campus
from sensors.models import DeadLetter, DeadLetterReason, IngestSource, Reading, Sensor, SensorStatus
from sensors.services import DEAD_LETTER_PAYLOAD_CHARS, IncomingMessage, readings_ingest

from .conftest import body, ingest, iso

pytestmark = pytest.mark.django_db


def stored(sensor: Sensor) -> list[tuple]:
    return list(Reading.objects.filter(sensor=sensor).order_by("ts").values_list("ts", "count", "present"))


def only_dead_letter() -> DeadLetter:
    letters = list(DeadLetter.objects.all())
    assert len(letters) == 1, letters
    return letters[0]


def test_a_count_is_stored_with_the_sensor_room_and_campus(counter, joint_campus):
    now = timezone.now()

    result = ingest({"ts": iso(now - dt.timedelta(minutes=1)), "count": 12}, sensor=counter.external_id)

    assert (result.stored, result.duplicates, result.rejected) == (1, 0, 0)
    reading = Reading.objects.get()
    assert (reading.sensor, reading.room, reading.campus) == (counter, joint_campus.classroom, joint_campus.campus)
    assert (reading.ts, reading.count, reading.present) == (now - dt.timedelta(minutes=1), 12, None)


def test_a_reading_without_time_is_stored_at_the_time_of_receipt(presence):
    received = timezone.now() - dt.timedelta(seconds=5)

    ingest({"present": True}, sensor=presence.external_id, received_at=received)

    assert stored(presence) == [(received, None, True)]


def test_a_stored_reading_makes_the_sensor_online_and_seen(counter):
    received = timezone.now()

    ingest({"count": 1}, sensor=counter.external_id, received_at=received)

    counter.refresh_from_db()
    assert counter.status == SensorStatus.ONLINE
    assert counter.last_seen == received
    assert counter.status_changed_at is not None


def test_the_same_reading_twice_is_stored_once_and_counted_as_a_duplicate(counter):
    payload = {"ts": iso(timezone.now()), "count": 4}

    first = ingest(payload, sensor=counter.external_id)
    second = ingest(payload, sensor=counter.external_id)

    assert (first.stored, first.duplicates) == (1, 0)
    assert (second.stored, second.duplicates) == (0, 1)
    assert Reading.objects.count() == 1


def test_a_batch_mixing_stored_and_new_readings_stores_the_new_ones(counter):
    # On PostgreSQL the straight COPY fails on the stored one; the batch goes the ON CONFLICT way instead.
    now = timezone.now()
    ingest({"ts": iso(now - dt.timedelta(seconds=1)), "count": 1}, sensor=counter.external_id)

    result = ingest(
        [{"ts": iso(now - dt.timedelta(seconds=s)), "count": s} for s in (3, 2, 1)], sensor=counter.external_id
    )

    assert (result.stored, result.duplicates) == (2, 1)
    assert [count for _ts, count, _present in stored(counter)] == [3, 2, 1]


def test_a_repeat_with_another_value_keeps_the_first(counter):
    ts = iso(timezone.now())

    ingest({"ts": ts, "count": 4}, sensor=counter.external_id)
    ingest({"ts": ts, "count": 9}, sensor=counter.external_id)

    assert [count for _ts, count, _present in stored(counter)] == [4]


def test_a_batch_of_messages_with_repeats_inside_it_stores_each_reading_once(counter, presence):
    now = timezone.now()
    messages = [
        IncomingMessage(payload=body({"ts": iso(now), "count": n}), received_at=now, external_id=counter.external_id)
        for n in (1, 1)
    ] + [
        IncomingMessage(
            payload=body([{"ts": iso(now - dt.timedelta(seconds=s)), "present": True} for s in (1, 2, 2)]),
            received_at=now,
            external_id=presence.external_id,
        )
    ]

    result = readings_ingest(messages=messages)

    assert (result.messages, result.stored, result.duplicates, result.rejected) == (3, 3, 2, 0)
    assert Reading.objects.count() == 3


def test_every_format_gives_the_same_reading(counter):
    base = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    payloads = [
        {"ts": iso(base), "count": 1},
        [{"ts": iso(base + dt.timedelta(minutes=1)), "count": 2}],
        [
            {
                "bn": "urn:dev:mac:0024befffe804ff1:",
                "bt": (base + dt.timedelta(minutes=2)).timestamp(),
                "n": "count",
                "v": 3,
            }
        ],
        {"uplink_message": {"received_at": iso(base + dt.timedelta(minutes=3)), "decoded_payload": {"count": 4}}},
    ]

    for payload in payloads:
        assert ingest(payload, sensor=counter.external_id).stored == 1

    assert stored(counter) == [(base + dt.timedelta(minutes=m), m + 1, None) for m in range(4)]


# --- Dead letters: every kind of bad input -----------------------------------------------------------


def test_malformed_json_is_a_dead_letter_with_the_payload(counter):
    result = ingest(b'{"count": 1', sensor=counter.external_id)

    letter = only_dead_letter()
    assert result.rejected == 1
    assert (letter.reason, letter.sensor, letter.payload, letter.payload_bytes) == (
        DeadLetterReason.MALFORMED,
        counter,
        '{"count": 1',
        11,
    )
    assert letter.topic == "kampus/sensors/a101-counter"
    assert letter.campus_id == counter.room.building.campus_id
    assert Reading.objects.count() == 0


def test_wrong_types_are_a_dead_letter_naming_the_field(counter):
    ingest({"count": "many"}, sensor=counter.external_id)

    letter = only_dead_letter()
    assert letter.reason == DeadLetterReason.INVALID
    assert "count=" in letter.detail


def test_an_unknown_sensor_is_a_dead_letter_without_sensor_or_campus(db):
    ingest({"count": 1}, sensor="nobody-knows-me")

    letter = only_dead_letter()
    assert (letter.reason, letter.sensor, letter.campus) == (DeadLetterReason.UNKNOWN_SENSOR, None, None)
    assert letter.detail == "sensor=nobody-knows-me"


def test_a_topic_naming_no_sensor_is_a_dead_letter(db):
    ingest({"count": 1}, sensor=None)

    assert only_dead_letter().reason == DeadLetterReason.BAD_TOPIC


def test_an_inactive_sensor_is_a_dead_letter(counter):
    counter.is_active = False
    counter.save()

    ingest({"count": 1}, sensor=counter.external_id)

    assert only_dead_letter().reason == DeadLetterReason.INACTIVE_SENSOR
    assert Reading.objects.count() == 0


@pytest.mark.parametrize(("count", "stored_count"), [(-1, 0), (0, 1), (100, 1), (101, 0), (10**12, 0)])
def test_counts_outside_zero_to_three_times_capacity_plus_ten_are_dead_letters(counter, count, stored_count):
    # The classroom seats 30: up to 3 × 30 + 10 = 100 people are believable.
    result = ingest({"count": count}, sensor=counter.external_id)

    assert result.stored == stored_count
    if not stored_count:
        letter = only_dead_letter()
        assert letter.reason == DeadLetterReason.COUNT_OUT_OF_RANGE
        assert letter.detail == f"count={count} allowed=0..100"


def test_the_count_limit_comes_from_the_settings(counter, settings):
    settings.KAMPUS_SENSOR_COUNT_LIMIT_FACTOR = 1
    settings.KAMPUS_SENSOR_COUNT_LIMIT_EXTRA = 0

    assert ingest({"count": 30}, sensor=counter.external_id).stored == 1
    assert ingest({"count": 31}, sensor=counter.external_id).rejected == 1


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (dt.timedelta(minutes=5, seconds=1), DeadLetterReason.FUTURE),
        (dt.timedelta(minutes=4, seconds=59), None),
        (-dt.timedelta(days=7, seconds=1), DeadLetterReason.TOO_OLD),
        (-dt.timedelta(days=6, hours=23), None),
    ],
)
def test_times_more_than_five_minutes_ahead_or_seven_days_old_are_dead_letters(counter, offset, reason):
    received = timezone.now()

    result = ingest({"ts": iso(received + offset), "count": 1}, sensor=counter.external_id, received_at=received)

    if reason is None:
        assert result.stored == 1
    else:
        assert only_dead_letter().reason == reason


def test_the_time_window_comes_from_the_settings(counter, settings):
    settings.KAMPUS_SENSOR_MAX_FUTURE_SECONDS = 0
    settings.KAMPUS_SENSOR_MAX_AGE_DAYS = 1
    received = timezone.now()

    ingest(
        {"ts": iso(received + dt.timedelta(seconds=1)), "count": 1}, sensor=counter.external_id, received_at=received
    )
    ingest({"ts": iso(received - dt.timedelta(days=2)), "count": 1}, sensor=counter.external_id, received_at=received)

    assert sorted(DeadLetter.objects.values_list("reason", flat=True)) == [
        DeadLetterReason.FUTURE,
        DeadLetterReason.TOO_OLD,
    ]


def test_a_presence_for_a_people_counter_is_a_dead_letter(counter, presence):
    ingest({"present": True}, sensor=counter.external_id)
    ingest({"count": 3}, sensor=presence.external_id)

    assert list(DeadLetter.objects.values_list("reason", flat=True)) == [DeadLetterReason.WRONG_KIND] * 2


def test_an_oversized_payload_is_a_dead_letter_cut_to_size(counter, settings):
    settings.KAMPUS_SENSOR_MAX_PAYLOAD_BYTES = 1000
    payload = body([{"count": 1}] * 200)
    assert len(payload) > 1000

    ingest(payload, sensor=counter.external_id)

    letter = only_dead_letter()
    assert (letter.reason, letter.payload_bytes) == (DeadLetterReason.OVERSIZED, len(payload))
    assert letter.detail == f"bytes={len(payload)} allowed=1000"
    assert Reading.objects.count() == 0


def test_a_huge_payload_is_kept_only_in_part(counter):
    payload = b'{"count": "' + b"x" * 100_000 + b'"}'

    ingest(payload, sensor=counter.external_id)

    letter = only_dead_letter()
    assert letter.reason == DeadLetterReason.OVERSIZED
    assert len(letter.payload) == DEAD_LETTER_PAYLOAD_CHARS
    assert letter.payload_bytes == len(payload)


def test_a_payload_in_no_known_format_is_a_dead_letter(counter):
    ingest({"temperature": 21}, sensor=counter.external_id)

    assert only_dead_letter().reason == DeadLetterReason.UNKNOWN_FORMAT


def test_bytes_that_are_not_utf8_and_nul_characters_are_kept_escaped(counter):
    ingest(b'\xff\x00{"count": "\\u0000"}', sensor=counter.external_id)
    ingest(b'{"count": "\\ud800"}', sensor=counter.external_id)

    letters = {letter.reason: letter for letter in DeadLetter.objects.all()}
    assert letters[DeadLetterReason.MALFORMED].payload == '\\xff\\x00{"count": "\\u0000"}'
    assert "\x00" not in letters[DeadLetterReason.INVALID].detail
    assert letters[DeadLetterReason.INVALID].payload == '{"count": "\\ud800"}'


def test_one_bad_reading_of_a_batch_is_a_dead_letter_of_its_own_and_the_rest_are_stored(counter):
    now = timezone.now()
    payload = [
        {"ts": iso(now - dt.timedelta(seconds=2)), "count": 1},
        {"ts": iso(now - dt.timedelta(seconds=1)), "count": 500},
        {"ts": iso(now), "count": 3},
    ]

    result = ingest(payload, sensor=counter.external_id, received_at=now)

    assert (result.stored, result.rejected) == (2, 1)
    letter = only_dead_letter()
    assert letter.reason == DeadLetterReason.COUNT_OUT_OF_RANGE
    assert letter.detail == "item 1: count=500 allowed=0..100"
    assert '"count": 500' in letter.payload
    assert letter.payload_bytes == len(body(payload))


def test_a_gateway_of_another_campus_cannot_write_a_sensor_it_does_not_serve(counter):
    elsewhere = Campus.objects.create(name="Another campus")

    result = ingest({"count": 1}, sensor=counter.external_id, source=IngestSource.HTTP, campus_id=elsewhere.pk)

    assert result.stored == 0
    letter = only_dead_letter()
    assert (letter.reason, letter.sensor, letter.source) == (DeadLetterReason.UNKNOWN_SENSOR, None, IngestSource.HTTP)
    assert letter.campus == elsewhere


def test_bad_input_of_one_message_does_not_hold_back_the_others_of_its_batch(counter, presence):
    now = timezone.now()
    messages = [
        IncomingMessage(payload=b"\x00garbage", received_at=now, external_id=counter.external_id),
        IncomingMessage(payload=body({"present": False}), received_at=now, external_id=presence.external_id),
        IncomingMessage(payload=body({"count": 2}), received_at=now, external_id="unknown"),
    ]

    result = readings_ingest(messages=messages)

    assert (result.stored, result.rejected) == (1, 2)
    assert stored(presence) == [(now, None, False)]
