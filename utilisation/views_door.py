"""The door display page: a tablet at a room's door, by the secret in its address, without signing in.

Refreshes itself by the HTTP ``Refresh`` header (no script, which the CSP forbids inline and old
tablets may not run); the check-in button is a plain POST form with Django's CSRF cookie.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from bookings.errors import BookingStateError
from campus.exceptions import NotFound
from utilisation.door_displays import door_board, door_check_in, door_display_for
from utilisation.models import DoorDisplay

REFRESH_SECONDS = 60
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _display_or_404(token: str) -> DoorDisplay:
    display = door_display_for(raw=token)
    if display is None:
        raise Http404  # unknown and revoked secrets answer alike
    return display


def _language(request: HttpRequest) -> str:
    """Return the page's language: ``?lang`` when it is one of Kampus's, else the installation's default."""
    asked = request.POST.get("lang") or request.GET.get("lang") or ""
    return asked if asked in LANGUAGE_CODES else settings.LANGUAGE_CODE


def _door_response(request: HttpRequest, display: DoorDisplay, *, language: str, **extra) -> HttpResponse:
    room = display.room
    with translation.override(language), timezone.override(room.building.campus.zone):
        board = door_board(display=display)
        context = {
            "board": board,
            "room": room,
            "language": language,
            "languages": [(code, name) for code, name in settings.LANGUAGES],
            "token": request.resolver_match.kwargs["token"],
            "fresh_minutes": settings.KAMPUS_SENSOR_FRESH_MINUTES,
            **extra,
        }
        response = render(request, "utilisation/door.html", context, status=extra.get("status", 200))
    response["Refresh"] = str(REFRESH_SECONDS)
    response["Cache-Control"] = "no-store"
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" and the CSRF check fails.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD"])
def door(request: HttpRequest, token: str) -> HttpResponse:
    """Render the door display of the room whose display holds ``token``."""
    display = _display_or_404(token)
    return _door_response(request, display, language=_language(request), checked_in=request.GET.get("done") == "1")


@require_http_methods(["POST"])
def door_check_in_view(request: HttpRequest, token: str) -> HttpResponse:
    """Check in the booking named in the form, then go back to the page with a confirmation."""
    display = _display_or_404(token)
    language = _language(request)
    booking_id = request.POST.get("booking", "")
    with translation.override(language):
        try:
            if not booking_id.isdigit():
                raise NotFound("")
            door_check_in(display=display, booking_id=int(booking_id))
        except NotFound:
            return _door_response(request, display, language=language, error=_no_such_booking(), status=404)
        except BookingStateError as error:
            return _door_response(request, display, language=language, error=error.message, status=409)
    url = reverse("door:display", args=[token])
    return redirect(f"{url}?{urlencode({'lang': language, 'done': '1'})}")


def _no_such_booking() -> str:
    return translation.gettext("This booking cannot be checked in here.")
