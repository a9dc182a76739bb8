"""Site pages: the front page, the accessibility statement and the privacy notice."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone, translation

from bookings.models import ACTIVE_STATUSES
from bookings.selectors import booking_list, requests_to_decide_count
from campus.models import Room
from campus.selectors import campus_list

# The statement and the notice are written out in full in each of these languages.
PAGE_LANGUAGES = ("fi", "sv", "en")
FALLBACK_LANGUAGE = "en"

# Update these when the texts under templates/pages/ change.
ACCESSIBILITY_STATEMENT_DATE = dt.date(2026, 11, 30)
PRIVACY_NOTICE_DATE = dt.date(2026, 12, 4)

DEFAULT_ACCESSIBILITY_CONTACT = "saavutettavuus@example.org"
DEFAULT_PRIVACY_CONTACT = "tietosuoja@example.org"

# How many of today's bookings the front page lists before pointing to "My bookings".
HOME_BOOKING_LIMIT = 8


def page_language() -> str:
    """Return the language of the active translation if a page is written in it, else English."""
    code = (translation.get_language() or "").split("-")[0].lower()
    return code if code in PAGE_LANGUAGES else FALLBACK_LANGUAGE


def page_templates(name: str) -> list[str]:
    """Return the templates of page ``name``: the one in the active language, then the English one."""
    return [f"pages/{name}_{page_language()}.html", f"pages/{name}_{FALLBACK_LANGUAGE}.html"]


def accessibility(request: HttpRequest) -> HttpResponse:
    """Render the accessibility statement (saavutettavuusseloste) in the active language."""
    context = {
        "contact": getattr(settings, "KAMPUS_ACCESSIBILITY_CONTACT", "") or DEFAULT_ACCESSIBILITY_CONTACT,
        "statement_date": ACCESSIBILITY_STATEMENT_DATE,
    }
    return render(request, page_templates("accessibility"), context)


def privacy_contact() -> str:
    """Return where people write about their personal data (``KAMPUS_PRIVACY_CONTACT``, or the default)."""
    return getattr(settings, "KAMPUS_PRIVACY_CONTACT", "") or DEFAULT_PRIVACY_CONTACT


def privacy(request: HttpRequest) -> HttpResponse:
    """Render the privacy notice (tietosuojaseloste) in the active language."""
    accessibility_contact = getattr(settings, "KAMPUS_ACCESSIBILITY_CONTACT", "") or DEFAULT_ACCESSIBILITY_CONTACT
    context = {
        # An empty name makes each language's page say "the operator of the campus".
        "controller_name": getattr(settings, "KAMPUS_CONTROLLER_NAME", ""),
        "contact": privacy_contact(),
        "accessibility_contact": accessibility_contact,
        "notice_date": PRIVACY_NOTICE_DATE,
    }
    return render(request, page_templates("privacy"), context)


def favicon(request: HttpRequest) -> HttpResponse:
    """Redirect ``/favicon.ico``, which browsers ask for whatever the page says, to Kampus's icon."""
    return HttpResponsePermanentRedirect(static("kampus/favicon.ico"))


def home(request: HttpRequest) -> HttpResponse:
    """Render the front page: quick links and the rest of today's bookings, or how to sign in."""
    context: dict[str, object] = {"campus": campus_list().first()}
    if request.user.is_authenticated:
        now = timezone.now()
        # The campus zone is active (CampusTimezoneMiddleware), so "today" is the campus's day.
        tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
        end_of_today = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time.min))
        upcoming = list(
            booking_list(
                booked_by=request.user,
                statuses=list(ACTIVE_STATUSES),
                overlapping_from=now,
                overlapping_to=end_of_today,
            )[: HOME_BOOKING_LIMIT + 1]
        )
        context.update(
            {
                "current_time": now,
                "todays_bookings": upcoming[:HOME_BOOKING_LIMIT],
                "more_today": len(upcoming) > HOME_BOOKING_LIMIT,
                "requests_waiting": requests_to_decide_count(user=request.user, now=now),
            }
        )
        campus = context["campus"]
        if campus is not None:
            rooms = Prefetch("rooms", queryset=Room.objects.filter(is_bookable=True).order_by("code"))
            context["buildings"] = campus.buildings.prefetch_related(rooms).order_by("code")
    return render(request, "campus/home.html", context)
