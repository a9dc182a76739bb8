"""Middleware for running Kampus: the request log and counters, and the /healthz and /metrics endpoints."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from operations import views
from operations.log_format import current_request_id
from operations.metrics import observe_request

logger = logging.getLogger("kampus.request")

# A request id sent by the proxy (X-Request-ID) is kept when it looks like one; otherwise Kampus makes one.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# URL parameters that are secrets (a calendar feed's key): never written to the log.
SECRET_URL_PARAMETERS = {"key", "token", "secret"}

OPERATIONS_PATHS = {"/healthz", "/metrics"}


def loggable_path(request: HttpRequest) -> str:
    """Return the request's path with secret URL parameters (a feed's key) replaced by ``…``."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if name in SECRET_URL_PARAMETERS and value:
                path = path.replace(str(value), "…")
    return path


class RequestLogMiddleware:
    """Give each request an id (``X-Request-ID``), log one line when it is answered, count it for /metrics.

    Put it first after the static files, so that every answer is counted, 503s and /healthz included.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Request-ID", "")
        request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            path = loggable_path(request)
            logger.info(
                "%s %s %s %.1f ms",
                request.method,
                path,
                response.status_code,
                duration * 1000,
                extra={
                    "method": request.method,
                    "path": path,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 1),
                },
            )
            observe_request(method=request.method or "", status=response.status_code, duration=duration)
            return response
        finally:
            current_request_id.reset(token)


class OperationsEndpointsMiddleware:
    """Answer ``/healthz`` and ``/metrics`` before any middleware that needs the database or a session.

    They must answer while the database is down (saying so), to any host name a load balancer or
    Prometheus uses, and without a session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in OPERATIONS_PATHS:
            return self.get_response(request)
        return views.healthz(request) if request.path_info == "/healthz" else views.metrics(request)
