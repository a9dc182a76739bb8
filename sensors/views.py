"""Pages for facility managers: the sensors of the rooms they manage, and the messages refused as dead letters.

Thin views over ``sensors.selectors``, which scope everything to the rooms the person manages;
the pages only decide who may open them (``campus.permissions.manages_facilities``, as the
navigation does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.permissions import manages_facilities
from sensors import selectors
from sensors.forms import DeadLetterFilterForm, SensorFilterForm

PAGE_SIZE = 50


def facility_manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let signed-in facility managers in; others see the 403 page."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not manages_facilities(request.user):
            raise PermissionDenied(_("This page is for facility managers."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@facility_manager_required
def sensor_list(request: HttpRequest) -> HttpResponse:
    """Render the sensors of the rooms the person manages: status, last seen, latest reading; offline first."""
    form = SensorFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    sensors = selectors.sensor_overview(user=request.user, status=status)
    page = Paginator(sensors, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "counts": selectors.sensor_status_counts(user=request.user),
        "status": status,
        "query": _query_without_page(request),
        "now": timezone.now(),
        "offline_after_minutes": settings.KAMPUS_SENSOR_OFFLINE_AFTER_MINUTES,
    }
    return render(request, "sensors/sensor_list.html", context)


@facility_manager_required
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    """Render the refused sensor messages the person may read, with their reasons, newest first."""
    form = DeadLetterFilterForm(request.GET or None)
    letters = selectors.dead_letter_list(user=request.user)
    if form.is_valid() and form.cleaned_data["reason"]:
        letters = letters.filter(reason=form.cleaned_data["reason"])
    page = Paginator(letters, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "query": _query_without_page(request), "now": timezone.now()}
    return render(request, "sensors/dead_letter_list.html", context)
