"""From sensor messages to the report: ingest, rollup and the reports API, checked against a hand calculation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from bookings.models import Booking, BookingStatus
from sensors.models import Sensor, SensorKind
from sensors.services import IncomingMessage, readings_ingest
from tests.utilisation.slots import local
from utilisation.rollups import rollup_pending

TUESDAY = dt.date(2026, 11, 10)
API = "/api/v1/reports/utilisation"


@pytest.fixture
def tuesday(joint_campus):
    """One morning of classroom A101 (capacity 30) as its people counter sent it, and two lukio bookings.

    A batch of readings every 5 minutes from 08:00 to 11:55: nobody until 09:00, 12 people 09:00–09:25,
    6 people 09:30–09:55, nobody from 10:00. The last reading holds until 12:05 at most (the 10-minute gap),
    so the 12:00 slot has 5 minutes of data: unknown. Bookings 09:00–10:00 (used) and 11:00–12:00 (nobody came).
    """
    jc = joint_campus
    sensor = Sensor.objects.create(external_id="a101-door", kind=SensorKind.COUNT, room=jc.classroom)
    readings = []
    moment = local(TUESDAY, 8)
    while moment < local(TUESDAY, 12):
        count = 12 if local(TUESDAY, 9) <= moment < local(TUESDAY, 9, 30) else 0
        count = 6 if local(TUESDAY, 9, 30) <= moment < local(TUESDAY, 10) else count
        readings.append({"ts": moment.isoformat(), "count": count})
        moment += dt.timedelta(minutes=5)
    evening = local(TUESDAY, 18)
    result = readings_ingest(
        messages=[
            IncomingMessage(payload=json.dumps(readings).encode(), received_at=evening, external_id=sensor.external_id)
        ],
        now=evening,
    )
    assert result.stored == 48
    for start, end in ((local(TUESDAY, 9), local(TUESDAY, 10)), (local(TUESDAY, 11), local(TUESDAY, 12))):
        Booking.objects.create(
            campus=jc.campus,
            room=jc.classroom,
            title="Physics",
            institution=jc.lukio,
            start=start,
            end=end,
            status=BookingStatus.CONFIRMED,
        )
    rollup_pending(now=evening)
    return jc


def test_the_api_reports_what_the_sensor_saw(tuesday, client_with_token, campus_fm):
    api = client_with_token(campus_fm)
    query = {"room": tuesday.classroom.pk, "from": "2026-11-10", "to": "2026-11-10", "season": "all"}

    body = api.get(API, query).json()

    # 32 core slots; known: 08:00–08:45 (4), 09:00–09:45 (4), 10:00–11:45 (8); in use: the four 09 slots.
    assert body["available_slots"] == 32
    assert body["known_slots"] == 16
    assert body["in_use_slots"] == 4
    assert body["frequency_rate"] == pytest.approx(4 / 16)
    assert body["coverage"] == pytest.approx(16 / 32)
    # Occupancy: (12 + 12 + 6 + 6) / (4 × 30); utilisation F × O.
    assert body["occupancy_rate"] == pytest.approx(36 / 120)
    assert body["utilisation_rate"] == pytest.approx(0.25 * 0.3)
    assert body["rating"] == "poor"
    # Booked: eight slots, all known; the four of 11:00–12:00 are ghost slots (one hour).
    assert body["booked_rate"] == pytest.approx(8 / 32)
    assert body["booked_used_gap"] == pytest.approx(8 / 16 - 4 / 16)
    assert body["ghost_hours"] == 1.0
    assert body["unbooked_use_rate"] == 0.0
    assert body["peak_count"] == 12
    # The 11:00 booking had data and nobody in its first 15 minutes; the 09:00 one had people.
    assert (body["bookings_started"], body["no_shows"]) == (2, 1)
    assert body["no_show_rate"] == 0.5


def test_the_csv_says_what_the_json_says(tuesday, client_with_token, campus_fm):
    api = client_with_token(campus_fm)
    query = {"room": tuesday.classroom.pk, "from": "2026-11-10", "to": "2026-11-10", "season": "all"}

    body = api.get(API, query).json()
    response = api.get(API, {**query, "format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    total = rows[-1]
    assert total["row"] == "total"
    for name in ("available_slots", "known_slots", "in_use_slots", "booked_slots", "no_shows"):
        assert int(total[name]) == body[name]
    for name in ("frequency_rate", "occupancy_rate", "utilisation_rate", "booked_rate", "no_show_rate", "coverage"):
        assert float(total[name]) == pytest.approx(body[name])


def test_the_dashboard_shows_the_same_figures(tuesday, client, campus_fm):
    client.force_login(campus_fm)
    query = {
        "campus": tuesday.campus.pk,
        "room": tuesday.classroom.pk,
        "quick": "dates",
        "first_day": "2026-11-10",
        "last_day": "2026-11-10",
        "season": "all",
    }

    response = client.get("/manage/room-use/", query)

    assert response.status_code == 200
    report = response.context["report"]
    assert report.totals.known_slots == 16
    assert report.totals.in_use_slots == 4
    html = response.content.decode()
    assert "25\u00a0%" in html  # frequency 4/16, and the booked rate 8/32
    assert "30\u00a0%" in html  # occupancy 36/120
    assert "8\u00a0%" in html  # utilisation 0.25 × 0.3, rounded
