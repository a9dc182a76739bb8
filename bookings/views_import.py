"""The timetable import page for facility managers: upload an .ics file, see the dry run, confirm.

Thin over ``bookings.services.importing``: the page checks who may open it, the service who may
import into which room and everything about the bookings.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings.forms.errors import add_domain_error
from bookings.forms.importing import IcalConfirmForm, IcalUploadForm, ImportToken
from bookings.services.importing import IcalImportPlan, IcalImportRefused, ical_import_commit, ical_import_plan
from bookings.views_manage import facility_manager_required
from campus.exceptions import InvalidInput, KampusError
from campus.exceptions import PermissionDenied as DomainPermissionDenied
from campus.models import Institution, Room, User


@facility_manager_required
def ical_import(request: HttpRequest) -> HttpResponse:
    """Render the upload form; on "check", the dry run of the file; on "import", book the checked file."""
    if request.method == "POST" and IcalConfirmForm.TOKEN in request.POST:
        return _confirm(request)
    if request.method == "POST":
        form = IcalUploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            return _check(request, form)
        return _render(request, form, status=422)
    return _render(request, IcalUploadForm(user=request.user))


def _options(token: ImportToken, user: User) -> dict[str, Any]:
    """Return the service's arguments for the file and options of ``token``, imported by ``user``."""
    room = Room.objects.select_related("building__campus").filter(pk=token.room_id).first()
    institution = Institution.objects.filter(pk=token.institution_id).first() if token.institution_id else None
    if room is None or (token.institution_id and institution is None):
        raise InvalidInput(_("The room or the institution is no longer there: check the file again."))
    return {
        "content": token.content,
        "room": room,
        "booked_by": user,
        "institution": institution,
        "override_reason": token.override_reason,
    }


def _check(request: HttpRequest, form: IcalUploadForm) -> HttpResponse:
    token = form.token()
    try:
        plan = ical_import_plan(**_options(token, request.user))
    except DomainPermissionDenied as error:
        raise PermissionDenied(error.message) from error
    except KampusError as error:
        add_domain_error(form, error)
        return _render(request, form, status=422)
    confirm = IcalConfirmForm(initial={"token": token.sign(request.user)}, user=request.user)
    return _render(request, form, plan=plan, token=token, confirm=confirm)


def _confirm(request: HttpRequest) -> HttpResponse:
    confirm = IcalConfirmForm(request.POST, user=request.user)
    upload = IcalUploadForm(user=request.user)
    if not confirm.is_valid():
        return _render(request, upload, confirm=confirm, status=422)
    token = confirm.cleaned_data["token"]
    try:
        plan = ical_import_commit(**_options(token, request.user))
    except DomainPermissionDenied as error:
        raise PermissionDenied(error.message) from error
    except IcalImportRefused as refused:
        confirm.add_error(None, refused.message)
        return _render(request, upload, plan=refused.plan, token=token, confirm=confirm, status=refused.http_status)
    except KampusError as error:
        add_domain_error(confirm, error)
        return _render(request, upload, confirm=confirm, status=422)
    messages.success(
        request,
        ngettext(
            "Imported %(file)s: %(count)d date booked in %(room)s.",
            "Imported %(file)s: %(count)d dates booked in %(room)s.",
            plan.occurrence_count,
        )
        % {"file": token.file_name or _("the file"), "count": plan.occurrence_count, "room": plan.room.label},
    )
    return redirect("bookings:mine")


def _render(
    request: HttpRequest,
    form: IcalUploadForm,
    *,
    plan: IcalImportPlan | None = None,
    token: ImportToken | None = None,
    confirm: IcalConfirmForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "plan": plan, "token": token, "confirm": confirm}
    return render(request, "manage/import_ical.html", context, status=status)
