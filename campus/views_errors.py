"""Error pages: HTML for people, the API's JSON error body under /api/."""

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from campus.database_outage import database_unavailable_response, is_database_outage


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer 404: the API's ``{detail, code}`` under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer 400: the API's ``{detail, code}`` under /api/, the site's page elsewhere."""
    detail = _("The request could not be read. Check what was sent and try again.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "code": "bad_request"}, status=400)
    return render(request, "400.html", {"detail": detail}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an unhandled error: 503 when the database cannot be reached, otherwise 500 without details.

    Reached for errors raised in a middleware (a view's outage is answered by
    ``DatabaseOutageMiddleware``); the error being handled is the one in ``sys.exc_info()``.
    """
    error = sys.exc_info()[1]
    if error is not None and is_database_outage(error):
        return database_unavailable_response(request, error)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Internal error"), "code": "internal_error"}, status=500)
    return defaults.server_error(request)
