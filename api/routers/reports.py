"""Utilisation reports: the report (JSON or CSV), the hour-of-week heatmap, and the jobs computing long ones."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from api.lookups import institution_or_invalid, room_or_invalid
from api.report_schemas import (
    HeatmapOut,
    HeatmapQuery,
    PendingReportOut,
    ReportFormat,
    ReportJobOut,
    ReportOut,
    ReportQuery,
    report_answer,
)
from api.schemas import ErrorOut, InvalidInputOut
from campus.exceptions import InvalidInput
from campus.models import Building, Campus
from utilisation import reports
from utilisation.csv_export import report_csv
from utilisation.models import ReportJob, ReportJobStatus
from utilisation.results import Period

router = Router(tags=["reports"])

PLACES = ("room", "building", "institution")
REPORT_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 422: InvalidInputOut}

_CSV_ANSWER = {
    "responses": {
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "row,room_id,building_code,code,name,...\r\nroom,12,A,A101,Classroom 101,...\r\n",
                }
            }
        }
    }
}


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": field, "message": message}])


def _selection(query: HeatmapQuery) -> dict[str, Any]:
    """Return the report service's arguments for ``query``, or refuse the field that is wrong."""
    given = [name for name in PLACES if getattr(query, name) is not None]
    if len(given) > 1:
        message = _("Give at most one of room, building and institution.")
        raise InvalidInput(message, errors=[{"field": name, "message": message} for name in given[1:]])
    if query.first_day > query.last_day:
        raise _refuse("to", _("Give a last day (to) on or after the first day (from)."))
    if (query.last_day - query.first_day).days + 1 > reports.MAX_REPORT_DAYS:
        raise _refuse("to", _("A report covers at most two years: give a last day (to) closer to the first."))
    room = room_or_invalid(query.room) if query.room is not None else None
    institution = institution_or_invalid(query.institution)
    building = None
    if query.building is not None:
        building = Building.objects.select_related("campus").filter(pk=query.building).first()
        if building is None:
            raise _refuse("building", _("There is no building with id %(id)s.") % {"id": query.building})
    place = room or building or institution
    place_campus_id = None
    if room is not None:
        place_campus_id = room.building.campus_id
    elif place is not None:
        place_campus_id = place.campus_id
    campus_id = query.campus if query.campus is not None else place_campus_id
    if campus_id is None:
        raise _refuse("campus", _("Give a campus, or a room, building or institution."))
    campus = Campus.objects.filter(pk=campus_id).first()
    if campus is None:
        raise _refuse("campus", _("There is no campus with id %(id)s.") % {"id": campus_id})
    if place_campus_id is not None and place_campus_id != campus.pk:
        elsewhere = {
            "room": _("This room is not on campus %(id)s."),
            "building": _("This building is not on campus %(id)s."),
            "institution": _("This institution is not on campus %(id)s."),
        }
        raise _refuse(given[0], elsewhere[given[0]] % {"id": campus.pk})
    return {
        "campus": campus,
        "period": Period(first_day=query.first_day, last_day=query.last_day, season=query.season),
        "room": room,
        "building": building,
        "institution": institution,
    }


def _job_url(request: HttpRequest, job_id: uuid.UUID) -> str:
    return request.build_absolute_uri(reverse("api-v1:report-job", kwargs={"job_id": job_id}))


def _pending(request: HttpRequest, pending: reports.PendingReport) -> Status:
    return Status(
        202,
        {
            "job": pending.job_id,
            "progress": pending.progress,
            "status": pending.status,
            "url": _job_url(request, pending.job_id),
        },
    )


@router.get(
    "/reports/utilisation",
    response={200: ReportOut, 202: PendingReportOut, **REPORT_ERRORS},
    openapi_extra=_CSV_ANSWER,
)
def utilisation_report(request: HttpRequest, query: Query[ReportQuery]) -> Any:
    """Report how the rooms of a campus, building, institution or room were booked and used over the days given.

    Figures for the whole selection at the top level, then per room (`rooms`), per institution (`shares`),
    oversized rooms (`right_sizing`), peak concurrency per room kind and booked versus used over time.
    `format=csv` gives one row per room and a total row. A period longer than the server's limit
    (120 days by default) is computed in the background: 202 with the job's `url` to follow.
    """
    arguments = _selection(query)
    found = reports.report_or_job(user=request.auth, **arguments)
    if isinstance(found, reports.PendingReport):
        return _pending(request, found)
    if query.format == ReportFormat.CSV:
        response = HttpResponse(report_csv(found), content_type="text/csv; charset=utf-8")
        name = f"utilisation-{query.first_day.isoformat()}-{query.last_day.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return report_answer(reports.report_to_json(found), zone=arguments["campus"].zone)


@router.get("/reports/heatmap", response={200: HeatmapOut, 202: PendingReportOut, **REPORT_ERRORS})
def utilisation_heatmap(request: HttpRequest, query: Query[HeatmapQuery]) -> Any:
    """Return the hour-of-week matrix of the same selection: the share of available slots in use and booked."""
    found = reports.heatmap_or_job(user=request.auth, **_selection(query))
    if isinstance(found, reports.PendingReport):
        return _pending(request, found)
    return reports.heatmap_to_json(found)


@router.get(
    "/reports/jobs/{job_id}",
    response={200: ReportJobOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: InvalidInputOut},
    url_name="report-job",
)
def report_job(request: HttpRequest, job_id: uuid.UUID) -> dict[str, Any]:
    """Return a background report's status and progress, and once done its report and heatmap.

    Only for the person who asked for it, or anyone who may see the same report.
    """
    job: ReportJob = reports.report_job_for(user=request.auth, job_id=job_id)
    done = job.status == ReportJobStatus.DONE and job.result is not None
    return {
        "job": job.pk,
        "status": job.status,
        "progress": job.progress,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "error": job.error or None,
        "result": report_answer(job.result["report"], zone=job.campus.zone) if done else None,
        "heatmap": job.result["heatmap"] if done else None,
    }
