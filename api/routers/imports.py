"""Timetable import: an iCalendar file checked event by event, then booked all or nothing."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from api.errors import error_body
from api.import_schemas import IcalImportOut, IcalImportQuery, IcalImportRefusedOut, conflicts_out, events_out, plan_out
from api.lookups import institution_or_invalid, room_or_invalid
from api.schemas import UNPROCESSABLE, ErrorOut
from bookings.ical_import import MAX_FILE_BYTES, IcalFileRefused, file_too_large
from bookings.services.importing import IcalImportRefused, ical_import_commit, ical_import_plan

router = Router(tags=["imports"])

CALENDAR_TYPES = ("text/calendar", "application/ics")

_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "description": "The .ics file."}},
                    "required": ["file"],
                }
            },
            "text/calendar": {"schema": {"type": "string", "description": "The iCalendar text itself."}},
        },
    }
}


def _calendar_content(request: HttpRequest) -> bytes:
    """Return the uploaded file (multipart field ``file``) or the text/calendar body, at most MAX_FILE_BYTES."""
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise IcalFileRefused(
                _("Send the calendar file in the form field “file” (or as the body, Content-Type text/calendar)."),
                code="no_file",
            )
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            raise file_too_large()
        return upload.read(MAX_FILE_BYTES + 1)
    if request.content_type in CALENDAR_TYPES:
        try:
            length = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_FILE_BYTES:
            raise file_too_large()
        try:
            return request.body
        except RequestDataTooBig:
            raise file_too_large() from None
    raise HttpError(
        400, _("Send the calendar as multipart/form-data (field “file”) or as a body with Content-Type text/calendar.")
    )


@router.post(
    "/imports/ical",
    response={
        200: IcalImportOut,
        201: IcalImportOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        409: IcalImportRefusedOut,
        422: UNPROCESSABLE | IcalImportRefusedOut,
    },
    openapi_extra=_FILE_BODY,
)
def import_ical(request: HttpRequest, query: Query[IcalImportQuery]) -> Status:
    """Import a timetable (.ics) into a room you keep as a facility manager.

    With `dry_run` (the default) nothing is booked: the answer (200) lists each event as it would be
    booked, and every clash and broken rule. With `dry_run=false` every booking is made (201) or,
    if any event is refused, none (409 when only clashes refuse it, else 422, with the dry run in
    `events`). Send the file as multipart/form-data (field `file`) or as a text/calendar body.
    """
    content = _calendar_content(request)
    options = {
        "content": content,
        "room": room_or_invalid(query.room),
        "booked_by": request.auth,
        "institution": institution_or_invalid(query.institution),
        "override_reason": query.override_reason,
    }
    if query.dry_run:
        return Status(200, plan_out(ical_import_plan(**options), dry_run=True))
    try:
        plan = ical_import_commit(**options)
    except IcalImportRefused as refused:
        body = error_body(
            refused.message,
            refused.code,
            errors=refused.extra["errors"],
            conflicts=conflicts_out(refused.plan),
            events=events_out(refused.plan),
        )
        return Status(refused.http_status, body)
    return Status(201, plan_out(plan, dry_run=False))
