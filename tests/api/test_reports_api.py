"""GET /reports/utilisation (JSON and CSV), /reports/heatmap and /reports/jobs/{id}: answers, access, validation."""

from __future__ import annotations

import csv
import io
import uuid

import jsonschema_rs
import pytest
from django.test import Client

from campus.models import Room
from tests.utilisation.report_examples import FORMULA_NAME
from utilisation.models import ReportJob, ReportJobStatus

from .conftest import API

REPORT = f"{API}/reports/utilisation"
HEATMAP = f"{API}/reports/heatmap"
SEPTEMBER = {"from": "2026-09-01", "to": "2026-09-30"}
LONG = {"from": "2026-01-01", "to": "2026-09-30"}  # 273 days: over the 120-day limit
RATES = [
    "frequency_rate",
    "occupancy_rate",
    "utilisation_rate",
    "booked_rate",
    "booked_used_gap",
    "no_show_rate",
    "unbooked_use_rate",
    "coverage",
]


@pytest.fixture
def fm_api(client_with_token, campus_fm) -> Client:
    """A token client of the campus's facility manager (in English), who may see every report of the campus."""
    return client_with_token(campus_fm, **{"Accept-Language": "en"})


def campus_query(joint_campus, **more) -> dict:
    return {"campus": joint_campus.campus.pk, **SEPTEMBER, **more}


def openapi_schema(path: str, status: int) -> dict:
    openapi = Client().get(f"{API}/openapi.json").json()
    content = openapi["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]
    return {**content["schema"], "components": openapi["components"]}


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- Who may ask ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [REPORT, HEATMAP, f"{API}/reports/jobs/{uuid.uuid4()}"])
def test_anonymous_callers_get_401(db, path):
    response = Client().get(path, SEPTEMBER)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("path", [REPORT, HEATMAP])
def test_teachers_get_403(joint_campus, client_with_token, lukio_staff, fake_metrics, path):
    response = client_with_token(lukio_staff).get(path, campus_query(joint_campus))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert fake_metrics.reports == 0


def test_an_institution_admin_sees_their_institution_and_not_another(
    joint_campus, client_with_token, lukio_admin, fake_metrics
):
    api = client_with_token(lukio_admin)

    own = api.get(REPORT, {"institution": joint_campus.lukio.pk, **SEPTEMBER})
    other = api.get(REPORT, {"institution": joint_campus.vocational.pk, **SEPTEMBER})

    assert own.status_code == 200
    assert other.status_code == 403


def test_the_browser_session_works_for_the_csv_the_dashboard_links(joint_campus, campus_fm, fake_metrics):
    client = Client()
    client.force_login(campus_fm)

    response = client.get(REPORT, campus_query(joint_campus, format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="utilisation-2026-09-01-2026-09-30.csv"'


# --- The JSON answer ------------------------------------------------------------------------------


def test_the_report_answers_the_selections_fractions_at_the_top_level(joint_campus, fm_api, fake_metrics):
    response = fm_api.get(REPORT, campus_query(joint_campus))

    assert response.status_code == 200
    body = response.json()
    # The hand-built totals (tests/utilisation/report_examples.py), unchanged.
    assert body["frequency_rate"] == 0.3125
    assert body["booked_used_gap"] == -0.11363636363636365
    assert body["no_show_rate"] == 0.15
    assert body["ghost_hours"] == 25.0
    assert body["rating"] == "poor"
    assert (body["available_slots"], body["no_shows"], body["bookings_started"]) == (704, 6, 40)
    for name in RATES:
        assert name in body
    assert body["period"] == {"first_day": "2026-09-01", "last_day": "2026-09-30", "season": "term"}
    assert body["campus_id"] == joint_campus.campus.pk
    jsonschema_rs.validate(openapi_schema(REPORT, 200), body)


def test_rooms_carry_their_figures_and_right_sizing_lists_the_oversized(joint_campus, fm_api, fake_metrics):
    body = fm_api.get(REPORT, campus_query(joint_campus)).json()

    first, second = body["rooms"]
    assert (first["room_id"], first["code"], first["frequency_rate"], first["peak_count"]) == (11, "A101", 0.25, None)
    assert second["occupancy_rate"] is None
    assert second["occupancy_only_presence"] is True
    assert body["right_sizing"] == [
        {"room_id": 11, "code": "A101", "name": FORMULA_NAME, "capacity": 30, "p90_headcount": 12.0}
    ]
    assert [share["name"] for share in body["shares"]] == ["Otava Upper Secondary", "Unattributed"]
    # Times in the campus's zone: 07:15 UTC is 10:15 in Helsinki in September.
    assert body["concurrency"] == [
        {"kind": "lab", "rooms": 1, "peak_in_use": 1, "peak_at": "2026-09-03T10:15:00+03:00"}
    ]
    assert body["generated_at"] == "2026-10-01T09:30:00+03:00"
    assert [point["day"] for point in body["over_time"]] == ["2026-09-01", "2026-09-02"]


def test_the_campus_is_implied_by_the_room(joint_campus, fm_api, fake_metrics):
    response = fm_api.get(REPORT, {"room": joint_campus.lab.pk, **SEPTEMBER, "season": "all"})

    assert response.status_code == 200
    assert response.json()["period"]["season"] == "all"


# --- CSV ------------------------------------------------------------------------------------------


def assert_csv_matches_json(csv_text: str, body: dict) -> None:
    """Every number and flag of every room row and of the total row is the JSON's."""
    rows = parse_csv(csv_text)
    assert [row["row"] for row in rows] == ["room"] * len(body["rooms"]) + ["total"]
    pairs = [*zip(rows[:-1], body["rooms"], strict=True), (rows[-1], body)]
    compared = 0
    for row, answer in pairs:
        for name, cell in row.items():
            if name == "row" or name not in answer:
                continue
            value = answer[name]
            if value is None:
                assert cell == "", name
            elif isinstance(value, bool):
                assert cell == ("true" if value else "false"), name
            elif isinstance(value, int | float):
                assert float(cell) == value, name
                compared += 1
            elif row["row"] == "room":
                assert cell.lstrip("'") == value, name
    assert compared > 0


def test_the_csv_says_what_the_json_says(joint_campus, fm_api, fake_metrics):
    body = fm_api.get(REPORT, campus_query(joint_campus)).json()
    csv_text = fm_api.get(REPORT, campus_query(joint_campus, format="csv")).content.decode()

    assert_csv_matches_json(csv_text, body)


def test_the_csv_guards_a_room_named_like_a_formula(joint_campus, fm_api, fake_metrics):
    rows = parse_csv(fm_api.get(REPORT, campus_query(joint_campus, format="csv")).content.decode())

    assert rows[0]["name"] == "'" + FORMULA_NAME
    assert rows[1]["code"] == "'+A102"


def test_the_computed_csv_of_a_real_room_named_like_a_formula(joint_campus, fm_api):
    """Without hand-built figures: the computed report of a room named like a formula, as CSV and JSON."""
    room = Room.objects.create(
        building=joint_campus.main_building, code="@X1", name='=HYPERLINK("http://evil.example","x")', capacity=10
    )

    body = fm_api.get(REPORT, {"room": room.pk, **SEPTEMBER}).json()
    csv_text = fm_api.get(REPORT, {"room": room.pk, **SEPTEMBER, "format": "csv"}).content.decode()

    rows = parse_csv(csv_text)
    assert rows[0]["name"] == "'" + room.name
    assert rows[0]["code"] == "'@X1"
    assert body["rooms"][0]["name"] == room.name
    assert_csv_matches_json(csv_text, body)


# --- Validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "2026-13-01", "to": "2026-09-30"}, "from", "YYYY-MM-DD"),
        ({"from": "2026-09-01", "to": "30.9.2026"}, "to", "YYYY-MM-DD"),
        ({"to": "2026-09-30"}, "from", "required"),
        ({"from": "2026-09-30", "to": "2026-09-01"}, "to", "on or after the first day"),
        ({"from": "2024-01-01", "to": "2026-01-05"}, "to", "at most two years"),
        ({**SEPTEMBER, "season": "summer"}, "season", "term"),
        ({**SEPTEMBER, "format": "xlsx"}, "format", "csv"),
        ({**SEPTEMBER, "room": 999999}, "room", "no room with id 999999"),
        ({**SEPTEMBER, "building": 999999}, "building", "no building with id 999999"),
        ({**SEPTEMBER, "institution": 999999}, "institution", "no institution with id 999999"),
        ({**SEPTEMBER, "campus": 999999}, "campus", "no campus with id 999999"),
        ({**SEPTEMBER, "room": 0}, "room", "at least 1"),
        (SEPTEMBER, "campus", "Give a campus"),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(joint_campus, fm_api, fake_metrics, query, field, message):
    response = fm_api.get(REPORT, query)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert [error["field"] for error in body["errors"]] == [field]
    assert message in body["errors"][0]["message"]
    jsonschema_rs.validate(openapi_schema(REPORT, 422), body)


def test_two_selectors_are_refused(joint_campus, fm_api, fake_metrics):
    response = fm_api.get(REPORT, {"room": joint_campus.lab.pk, "building": joint_campus.main_building.pk, **SEPTEMBER})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "building", "message": "Give at most one of room, building and institution."}
    ]


def test_a_room_of_another_campus_is_refused(joint_campus, fm_api, fake_metrics):
    from campus.models import Building, Campus

    other = Campus.objects.create(name="Other", time_zone="Europe/Helsinki")
    building = Building.objects.create(campus=other, code="X", name="X")

    response = fm_api.get(REPORT, {"campus": joint_campus.campus.pk, "building": building.pk, **SEPTEMBER})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "building"


def test_two_years_to_the_day_are_accepted(joint_campus, fm_api, fake_metrics, sync_jobs):
    response = fm_api.get(REPORT, campus_query(joint_campus, **{"from": "2024-01-01", "to": "2025-12-31"}))

    assert response.status_code == 202


# --- Long periods ---------------------------------------------------------------------------------


def test_a_long_period_answers_202_and_its_job_gives_the_report(
    joint_campus, fm_api, fake_metrics, sync_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = fm_api.get(REPORT, {"campus": joint_campus.campus.pk, **LONG})

    assert response.status_code == 202
    pending = response.json()
    jsonschema_rs.validate(openapi_schema(REPORT, 202), pending)
    assert (pending["status"], pending["progress"]) == ("queued", 0)
    assert pending["url"] == f"http://testserver{API}/reports/jobs/{pending['job']}"

    job = fm_api.get(pending["url"])

    assert job.status_code == 200
    answer = job.json()
    assert (answer["status"], answer["progress"], answer["error"]) == ("done", 100, None)
    assert answer["result"]["frequency_rate"] == 0.3125
    assert answer["result"]["period"] == {"first_day": "2026-01-01", "last_day": "2026-09-30", "season": "term"}
    assert answer["heatmap"]["frequency"] == [[0.5, None], [0.25, 1.0]]
    jsonschema_rs.validate(openapi_schema(f"{API}/reports/jobs/{{job_id}}", 200), answer)
    # Asked again, the done job answers at once, as JSON and as CSV.
    again = fm_api.get(REPORT, {"campus": joint_campus.campus.pk, **LONG})
    assert again.status_code == 200
    assert again.json() == answer["result"]
    csv_text = fm_api.get(REPORT, {"campus": joint_campus.campus.pk, **LONG, "format": "csv"}).content.decode()
    assert_csv_matches_json(csv_text, answer["result"])
    assert fake_metrics.reports == 1


def test_a_running_job_answers_its_progress(joint_campus, fm_api, fake_metrics):
    pending = fm_api.get(REPORT, {"campus": joint_campus.campus.pk, **LONG}).json()
    ReportJob.objects.filter(pk=pending["job"]).update(status=ReportJobStatus.RUNNING, progress=40)

    answer = fm_api.get(f"{API}/reports/jobs/{pending['job']}").json()

    assert (answer["status"], answer["progress"], answer["result"], answer["heatmap"]) == ("running", 40, None, None)
    assert fm_api.get(REPORT, {"campus": joint_campus.campus.pk, **LONG}).json()["progress"] == 40


def test_a_job_is_refused_to_people_without_the_same_access(
    joint_campus, fm_api, client_with_token, lukio_staff, superuser, fake_metrics
):
    pending = fm_api.get(REPORT, {"campus": joint_campus.campus.pk, **LONG}).json()
    path = f"{API}/reports/jobs/{pending['job']}"

    assert client_with_token(lukio_staff).get(path).status_code == 403
    assert client_with_token(superuser).get(path).status_code == 200


def test_an_unknown_job_is_404_and_a_malformed_id_422(db, fm_api):
    assert fm_api.get(f"{API}/reports/jobs/{uuid.uuid4()}").status_code == 404
    assert fm_api.get(f"{API}/reports/jobs/not-a-uuid").status_code == 422


# --- Heatmap --------------------------------------------------------------------------------------


def test_the_heatmap_answers_the_hour_of_week_matrix(joint_campus, fm_api, fake_metrics):
    response = fm_api.get(HEATMAP, {"building": joint_campus.main_building.pk, **SEPTEMBER})

    assert response.status_code == 200
    body = response.json()
    assert (body["hours"], body["weekdays"]) == ([8, 9], [1, 2])
    assert body["booked"] == [[0.75, None], [0.0, 0.5]]
    assert body["available_slots"] == [[16, 0], [16, 16]]
    jsonschema_rs.validate(openapi_schema(HEATMAP, 200), body)


def test_the_heatmap_validates_as_the_report_does(joint_campus, fm_api, fake_metrics):
    response = fm_api.get(HEATMAP, {"campus": joint_campus.campus.pk, "from": "2026-09-30", "to": "2026-09-01"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"


def test_the_openapi_document_declares_every_answer_of_the_reports(db):
    openapi = Client().get(f"{API}/openapi.json").json()

    report = openapi["paths"][REPORT]["get"]["responses"]
    assert set(report) == {"200", "202", "401", "403", "422"}
    assert set(report["200"]["content"]) == {"application/json", "text/csv"}
    assert set(openapi["paths"][f"{API}/reports/jobs/{{job_id}}"]["get"]["responses"]) == {
        "200",
        "401",
        "403",
        "404",
        "422",
    }
