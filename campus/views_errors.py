"""Error pages: HTML for people, the API's JSON error body under /api/."""

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.views import defaults

from campus.database_outage import database_unavailable_response, is_database_outage


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer 404: the API's ``{detail, code}`` under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def request_too_large(request: HttpRequest) -> HttpResponse:
    """Answer 413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, naming the limit (JSON under /api/).

    Raised before the language middleware may have run: the browser's language is taken from the request.
    """
    with translation.override(translation.get_language_from_request(request)):
        limit = formats.number_format(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024), decimal_pos=1)
        detail = _(
            "The request is too large: Kampus accepts at most %(limit)s MB of form or JSON data. "
            "Send less, or send a file as a file upload."
        ) % {"limit": limit}
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": "too_large"}, status=413)
        return render(request, "400.html", {"detail": detail}, status=413)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer 400: the API's ``{detail, code}`` under /api/, the site's page elsewhere (413 for a too large body)."""
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request)
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
