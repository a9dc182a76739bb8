"""When the database cannot be reached: answer 503 with a clear message, never a traceback or a 500.

One decision (``is_database_outage``) and one answer (``database_unavailable_response``), used by
every path an outage can take through a request:

- ``campus.middleware.DatabaseOutageMiddleware`` opens (or health-checks) the connection before any
  middleware that reads the database (sessions, the user's language, the campus zone) and answers
  503 at once when it fails; it also turns an outage raised by a view into the same answer;
- ``campus.views_errors.server_error`` (``handler500``) catches an outage that began later, inside a
  middleware;
- the API's exception handler (``api.errors``) catches one inside an API operation.

Only a lost or refused *connection* is an outage. A statement timeout, a deadlock, a lock timeout
or a constraint violation comes from a database that answers: those stay errors (500 or the
domain's own answer), so real faults are not hidden behind "try again later".

Recovery needs nothing: Django checks a kept connection before a request uses it
(``CONN_HEALTH_CHECKS``) and opens a new one when it is gone, so the first request after the
database is back is served normally.
"""

from __future__ import annotations

import logging
import sqlite3

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger("kampus.database")

# Seconds a client is asked to wait before trying again (the Retry-After header).
RETRY_AFTER_SECONDS = 30

# SQLSTATEs of a server that is going away or not letting us in: connection exceptions (class 08),
# admin or crash shutdown and "the database system is starting up" (57P01–57P03), too many clients.
_OUTAGE_SQLSTATE_PREFIXES = ("08",)
_OUTAGE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}
# SQLite: the file cannot be opened, or stays locked past the busy timeout.
_SQLITE_OUTAGE_CODES = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY}


def is_database_outage(error: BaseException) -> bool:
    """Return whether ``error`` means the database cannot be reached (not that a statement failed).

    psycopg2 gives no SQLSTATE when the connection itself failed (refused, closed by the server,
    "database is not currently accepting connections"), and raises InterfaceError on a connection
    already closed; a statement the server refused carries its SQLSTATE (57014 for a statement
    timeout, 40P01 for a deadlock), and is not an outage.
    """
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    cause = error.__cause__ or error
    if isinstance(error, InterfaceError):
        return True
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorcode", None) in _SQLITE_OUTAGE_CODES
    state = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    if state is None:
        return True
    return state.startswith(_OUTAGE_SQLSTATE_PREFIXES) or state in _OUTAGE_SQLSTATES


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def database_unavailable_response(request: HttpRequest, error: BaseException | None = None) -> HttpResponse:
    """Return the 503 answer: ``{detail, code}`` under /api/, a page in the visitor's language elsewhere.

    Reads nothing from the database: the language comes from the cookie or Accept-Language (the
    profile's language would need the database).
    """
    if error is not None:
        logger.warning(
            "database unavailable during %s %s: %s",
            request.method,
            request.path_info,
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
        )
    language = translation.get_language_from_request(request)
    with translation.override(language):
        detail = _("Kampus cannot reach its database at the moment. Try again in a minute or two.")
        if is_api_request(request):
            response: HttpResponse = JsonResponse({"detail": detail, "code": "database_unavailable"}, status=503)
        else:
            content = loader.render_to_string("503.html", {"detail": detail, "request_path": request.get_full_path()})
            response = HttpResponse(content, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # Logged above as one warning: Django's own "Service Unavailable" error line would only repeat it.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
