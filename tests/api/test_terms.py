"""The term calendar API: GET/POST /api/v1/terms, and skip_breaks on booking."""

from __future__ import annotations

import datetime as dt

from campus.models import TermKind, TermPeriod
from tests.api.conftest import API
from tests.bookings.conftest import at

WEEK = dt.timedelta(weeks=1)


def test_the_api_lists_an_institutions_terms_and_breaks(client_with_token, lukio_staff, joint_campus, lukio_break):
    TermPeriod.objects.create(
        institution=joint_campus.vocational, kind=TermKind.BREAK, name="Other", start=dt.date(2027, 1, 1),
        end=dt.date(2027, 1, 2),
    )  # fmt: skip

    answer = client_with_token(lukio_staff).get(f"{API}/terms", {"institution": joint_campus.lukio.pk})

    assert answer.status_code == 200
    assert answer.json()["items"] == [
        {
            "id": lukio_break.pk,
            "institution": joint_campus.lukio.pk,
            "campus": None,
            "kind": "break",
            "name": "Winter break",
            "start": lukio_break.start.isoformat(),
            "end": lukio_break.end.isoformat(),
        }
    ]


def test_the_api_lists_the_campus_calendar_apart_from_the_institutions(
    client_with_token, lukio_staff, joint_campus, lukio_break
):
    shared = TermPeriod.objects.create(
        campus=joint_campus.campus, kind=TermKind.BREAK, name="Campus closed", start=dt.date(2027, 1, 1),
        end=dt.date(2027, 1, 2),
    )  # fmt: skip

    answer = client_with_token(lukio_staff).get(f"{API}/terms", {"campus": joint_campus.campus.pk})

    assert [period["id"] for period in answer.json()["items"]] == [shared.pk]


def test_asking_for_an_institutions_and_the_campus_calendar_at_once_is_refused_naming_both(
    client_with_token, lukio_staff, joint_campus, lukio_break
):
    answer = client_with_token(lukio_staff).get(
        f"{API}/terms",
        {"institution": joint_campus.lukio.pk, "campus": joint_campus.campus.pk},
        headers={"Accept-Language": "en"},
    )

    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["institution", "campus"]
    assert "institution or campus, not both" in answer.json()["detail"]


def test_the_api_adds_a_term_for_its_admins_only(client_with_token, lukio_admin, lukio_staff, joint_campus):
    body = {
        "institution": joint_campus.lukio.pk,
        "kind": "term",
        "name": "Autumn",
        "start": "2027-08-11",
        "end": "2027-12-21",
    }

    refused = client_with_token(lukio_staff).post(f"{API}/terms", body, content_type="application/json")
    created = client_with_token(lukio_admin).post(f"{API}/terms", body, content_type="application/json")
    backwards = client_with_token(lukio_admin).post(
        f"{API}/terms", {**body, "end": "2027-08-01"}, content_type="application/json"
    )

    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json()["kind"] == "term"
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "end"
    assert TermPeriod.objects.count() == 1


def test_the_api_books_through_a_break_when_asked(client_with_token, lukio_staff, joint_campus, monday, lukio_break):
    body = {
        "room": joint_campus.classroom.pk,
        "title": "Maths",
        "start": at(monday, 10).isoformat(),
        "end": at(monday, 11).isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=3",
    }
    api = client_with_token(lukio_staff)

    skipping = api.post(f"{API}/bookings", body, content_type="application/json")
    through = api.post(
        f"{API}/bookings", {**body, "room": joint_campus.lab.pk, "skip_breaks": False}, content_type="application/json"
    )

    assert skipping.status_code == 201, skipping.content
    assert [s["code"] for s in skipping.json()["skipped"]] == ["break"]
    assert through.status_code == 201, through.content
    assert through.json()["skipped"] == []


def test_a_term_in_year_one_is_refused(client_with_token, lukio_admin, joint_campus):
    body = {
        "institution": joint_campus.lukio.pk,
        "kind": "break",
        "name": "x",
        "start": "0001-01-01",
        "end": "9999-12-31",
    }

    answer = client_with_token(lukio_admin).post(f"{API}/terms", body, content_type="application/json")

    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"start", "end"}
    assert not TermPeriod.objects.exists()
