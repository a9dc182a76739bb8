"""The room-use dashboard: facility managers see their rooms (or the campus), institution admins their institution.

A thin view: the form reads the choices, ``utilisation.permissions`` decides what the person may
see, ``utilisation.reports`` computes (or runs in the background) the report, and
``utilisation.dashboard`` puts its figures into words and pictures. The CSV download is the API's
(``/api/v1/reports/utilisation?format=csv``), which takes the signed-in session as well as tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.exceptions import PermissionDenied as DomainPermissionDenied
from campus.models import Building, Campus, Institution, Room, User
from campus.permissions import role_scope
from utilisation import dashboard, reports
from utilisation.charts import kind_label
from utilisation.forms import SEASON_CHOICES, DashboardForm, QuickPeriod, Selection
from utilisation.permissions import require_report_access
from utilisation.reports import PendingReport
from utilisation.results import Heatmap, UtilisationReport

PROGRESS_RELOAD_SECONDS = 2

# --- what the person may choose ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """The campuses, buildings, institutions and rooms a person may report on, from their roles today."""

    campuses: QuerySet[Campus]
    buildings: QuerySet[Building]
    institutions: QuerySet[Institution]
    rooms: QuerySet[Room]
    institution_required: bool

    @property
    def any(self) -> bool:
        return self.campuses.exists()


def report_choices(user: User, *, campus: Campus | None) -> Choices:
    """Return what ``user`` may choose on the dashboard (``campus``: the one chosen, else their first).

    A campus's facility managers choose anything on it. A facility manager of an institution chooses
    among the rooms they keep; an institution admin reports on their own institution's bookings (so the
    institution is required for both). ``utilisation.permissions.require_report_access`` checks the final
    choice again, so these lists only spare people choices they would be refused.
    """
    scope = role_scope(user)
    if scope.is_superuser:
        campuses = Campus.objects.order_by("name")
    else:
        campuses = (
            Campus.objects.filter(
                Q(pk__in=scope.managed_campus_ids)
                | Q(institutions__pk__in=scope.managed_institution_ids | scope.administered_institution_ids)
            )
            .distinct()
            .order_by("name")
        )
    if campus is None:
        campus = campuses.first()
    if campus is None:
        none = Choices(
            Campus.objects.none(), Building.objects.none(), Institution.objects.none(), Room.objects.none(), True
        )
        return none
    campus_level = scope.is_superuser or campus.pk in scope.managed_campus_ids
    institutions = Institution.objects.filter(campus=campus).order_by("name")
    rooms = Room.objects.filter(building__campus=campus).order_by("building__code", "code")
    buildings = Building.objects.filter(campus=campus).order_by("code")
    if not campus_level:
        own = scope.managed_institution_ids | scope.administered_institution_ids
        institutions = institutions.filter(pk__in=own)
        rooms = rooms.filter(owner_id__in=scope.managed_institution_ids)
        buildings = buildings.filter(rooms__in=rooms).distinct() if rooms.exists() else Building.objects.none()
    return Choices(campuses, buildings, institutions, rooms, institution_required=not campus_level)


def dashboard_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let signed-in people who may see some report in; others see the 403 page."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_active or not report_choices(request.user, campus=None).any:
            raise PermissionDenied(_("This page is for facility managers and institution admins."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- the page --------------------------------------------------------------------------------------


def _chosen_campus(request: HttpRequest, campuses: QuerySet[Campus]) -> Campus | None:
    raw = request.GET.get("campus", "")
    if raw.isdigit():
        return campuses.filter(pk=int(raw)).first()
    return None


def report_query(selection: Selection) -> dict[str, str]:
    """Return the API's query parameters for ``selection`` (the CSV link)."""
    query = {
        "campus": str(selection.campus.pk),
        "from": selection.period.first_day.isoformat(),
        "to": selection.period.last_day.isoformat(),
        "season": selection.period.season.value,
    }
    for name in ("building", "institution", "room"):
        place = getattr(selection, name)
        if place is not None:
            query[name] = str(place.pk)
    return query


@dashboard_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """Render the dashboard: the filters and, once they are valid, the report or its progress."""
    first = report_choices(request.user, campus=None)
    choices = report_choices(request.user, campus=_chosen_campus(request, first.campuses))
    initial_campus = choices.campuses.first()
    today = timezone.localdate(timezone=initial_campus.zone) if initial_campus else timezone.localdate()
    data = request.GET.copy()
    if "campus" not in data:
        # The first visit shows the last 30 days of the person's first campus (and own institution) at once.
        data.update({"campus": str(initial_campus.pk), "quick": QuickPeriod.LAST_30_DAYS, "season": "term"})
        if choices.institution_required and choices.institutions.exists():
            data["institution"] = str(choices.institutions.first().pk)
    form = DashboardForm(
        data,
        campuses=choices.campuses,
        buildings=choices.buildings,
        institutions=choices.institutions,
        rooms=choices.rooms,
        institution_required=choices.institution_required,
        today=today,
    )
    sort_key, descending = dashboard.parse_sort(request.GET.get("sort"))
    context: dict[str, Any] = {
        "form": form,
        "sort_key": request.GET.get("sort") and sort_key,
        "sort_param": f"-{sort_key}" if descending else sort_key,
    }
    if form.is_valid():
        selection = form.selection()
        try:
            require_report_access(
                request.user,
                campus=selection.campus,
                building=selection.building,
                institution=selection.institution,
                room=selection.room,
            )
        except DomainPermissionDenied as error:
            raise PermissionDenied(error.message) from error
        context.update(_report_context(request, selection, sort_key=sort_key, descending=descending))
    response = render(request, "utilisation/dashboard.html", context)
    if context.get("job", {}).get("reloads"):
        # The progress page reloads itself without a script. The Refresh header does what a <meta> refresh
        # would; the page offers to stop it (WCAG 2.2.1: a time limit the person can turn off).
        response["Refresh"] = str(PROGRESS_RELOAD_SECONDS)
    return response


def load_report(user: User, selection: Selection) -> tuple[UtilisationReport, Heatmap] | PendingReport:
    """Return the report and heatmap of ``selection`` (cached), or the background job computing them."""
    arguments = {
        "user": user,
        "campus": selection.campus,
        "period": selection.period,
        "building": selection.building,
        "institution": selection.institution,
        "room": selection.room,
    }
    report = reports.report_or_job(**arguments)
    if isinstance(report, PendingReport):
        return report
    heatmap = reports.heatmap_or_job(**arguments)
    if isinstance(heatmap, PendingReport):
        return heatmap
    return report, heatmap


def _report_context(request: HttpRequest, selection: Selection, *, sort_key: str, descending: bool) -> dict[str, Any]:
    """Return the report's part of the page, or the progress of the background job computing it."""
    loaded = load_report(request.user, selection)
    if isinstance(loaded, PendingReport):
        query = request.GET.copy()
        query.pop("reload", None)
        return {
            "job": {
                "percent": loaded.progress,
                "reloads": request.GET.get("reload") != "off",
                "reload_url": f"?{query.urlencode()}",
                "stop_url": f"?{query.urlencode()}&reload=off" if query else "?reload=off",
            }
        }
    report, heatmap = loaded
    query = {key: value for key, value in request.GET.items() if key != "sort"}
    if "campus" not in query:
        query = {**report_query(selection), "quick": QuickPeriod.DATES}
        query["first_day"], query["last_day"] = query.pop("from"), query.pop("to")
    fair, good = settings.KAMPUS_RATING_BANDS
    return {
        "report": report,
        "headlines": dashboard.headline_figures(report.totals),
        "charts": dashboard.dashboard_charts(report, heatmap),
        "room_lines": dashboard.room_lines(dashboard.sorted_rooms(report.rooms, key=sort_key, descending=descending)),
        "sort_links": dashboard.sort_links(query, key=sort_key, descending=descending),
        "concurrency": [
            {
                "label": kind_label(kind.kind),
                "rooms": kind.rooms,
                "peak_in_use": kind.peak_in_use,
                "peak_at": kind.peak_at,
            }
            for kind in report.concurrency
        ],
        "season_label": dict(SEASON_CHOICES)[selection.period.season.value],
        "rating_fair": f"{round(fair * 100)} %",
        "rating_good": f"{round(good * 100)} %",
        "query": urlencode(query),
        # The path the issue fixes for the API; the API root is reversed so a moved prefix follows.
        "csv_url": f"{reverse('api-v1:api-root')}reports/utilisation?"
        + urlencode({**report_query(selection), "format": "csv"}),
    }
