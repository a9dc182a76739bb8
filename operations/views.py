"""``/healthz`` and ``/metrics`` (answered by ``operations.middleware.OperationsEndpointsMiddleware``)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from operations import health
from operations.metrics import CONTENT_TYPE, exposition

ALLOWED_METHODS = {"GET", "HEAD"}


def carries_metrics_token(request: HttpRequest) -> bool:
    """Return whether the request sends ``Authorization: Bearer <KAMPUS_METRICS_TOKEN>`` (when one is set)."""
    expected = settings.KAMPUS_METRICS_TOKEN
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip(), expected)


def _method_not_allowed() -> HttpResponse:
    response = JsonResponse({"detail": _("Use GET."), "code": "method_not_allowed"}, status=405)
    response["Allow"] = "GET, HEAD"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    """Answer the health of every part (operations.health): 200, or 503 while the database is down."""
    if request.method not in ALLOWED_METHODS:
        with translation.override(translation.get_language_from_request(request)):
            return _method_not_allowed()
    report = health.health_report()
    response = JsonResponse(report.as_dict(with_detail=carries_metrics_token(request)), status=report.http_status)
    response["Cache-Control"] = "no-store"
    # A down database is told by every poll's answer; Django would log each 503 as an error too.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Answer the Prometheus metrics to a caller with the metrics token; 404 when no token is set."""
    with translation.override(translation.get_language_from_request(request)):
        if not settings.KAMPUS_METRICS_TOKEN:
            detail = _("Metrics are off: set KAMPUS_METRICS_TOKEN to turn them on.")
            return JsonResponse({"detail": detail, "code": "not_found"}, status=404)
        if not carries_metrics_token(request):
            detail = _("Send the metrics token: Authorization: Bearer <token>.")
            response = JsonResponse({"detail": detail, "code": "not_authenticated"}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        if request.method not in ALLOWED_METHODS:
            return _method_not_allowed()
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
