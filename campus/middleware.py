"""Request middleware: input no database can hold refused, the user's language, the campus time zone,
503 while the database is unreachable."""

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from campus.database_outage import database_unavailable_response, is_database_outage
from campus.selectors import default_campus_zone_name, user_campus_zone_name
from campus.views_errors import request_too_large


def requested_api_language(request: HttpRequest) -> str | None:
    """Return the language an API request asks for in its own Accept-Language header, if Kampus has it.

    Pages follow the profile first (a browser always sends the header); an API client that sends
    the header means it, so for /api/ the header wins over the profile for that request.
    """
    if not request.path.startswith("/api/"):
        return None
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


class UserLocaleMiddleware(LocaleMiddleware):
    """Pick the language from the user's profile, then the language cookie, then Accept-Language.

    An API request's own Accept-Language header comes first (``requested_api_language``).
    """

    def process_request(self, request: HttpRequest) -> None:
        asked = requested_api_language(request)
        if asked:
            translation.activate(asked)
            request.LANGUAGE_CODE = translation.get_language()
            return
        user = getattr(request, "user", None)
        preferred = getattr(user, "preferred_language", "") if user is not None and user.is_authenticated else ""
        if preferred and translation.check_for_language(preferred):
            translation.activate(preferred)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)


class CampusTimezoneMiddleware:
    """Activate the campus's time zone so pages and forms show campus-local times.

    An API request that carries a token and no signed-in session leaves it to the token's check,
    which reads the same zone with the token (``api.auth``): one query fewer per API request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user_campus_zone_name(user) or default_campus_zone_name())
        elif request.path.startswith("/api/") and request.headers.get("Authorization", "").lower().startswith(
            "bearer "
        ):
            request._campus_zone_left_to_token = True  # type: ignore[attr-defined]
        else:
            timezone.activate(default_campus_zone_name())
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def campus_zone_left_to_token(request: HttpRequest) -> bool:
    """Return whether ``CampusTimezoneMiddleware`` left activating the zone to the request's token."""
    return getattr(request, "_campus_zone_left_to_token", False)


# Where a NUL came from, for the message; field names are the API's (query parameter, "body.title").
NUL = "\x00"


def _nul_path(value: Any, path: str) -> str | None:
    """Return the dotted path of the first string (or key) holding a NUL inside a parsed JSON value."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}"
            if NUL in str(key):
                return child
            found = _nul_path(item, child)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}.{index}")
            if found is not None:
                return found
    return None


def _nul_field(data: QueryDict) -> str | None:
    """Return the name of the first field of a query or form whose name or values hold a NUL."""
    for name, values in data.lists():
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "\\x00")
    return None


class RequestInputGuardMiddleware:
    """Refuse input no database column may hold, and form bodies that cannot be read, before any view.

    PostgreSQL refuses NUL (``\\x00``) in text, and psycopg2 raises ``ValueError`` for it wherever it
    reaches a query (a filter, a title, a token name, a session key): such a request is answered
    422 with the field named under /api/ and 400 with an error page elsewhere. A multipart body
    without a boundary (or otherwise unreadable) is answered 400; a form or JSON body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` 413 naming the limit. Put it before the session
    middleware, so that a NUL in the session cookie never reaches the session store.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            field = self._nul_field(request)
        except RequestDataTooBig:
            return request_too_large(request)
        except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent, UnreadablePostError):
            return self._refuse(request, 400, None)
        if field is not None:
            return self._refuse(request, 422, field)
        return self.get_response(request)

    @staticmethod
    def _nul_field(request: HttpRequest) -> str | None:
        """Return where the request holds a NUL ("path", a field name, "body.…"); read its form body."""
        if NUL in request.path:
            return "path"
        if any(NUL in name or NUL in value for name, value in request.COOKIES.items()):
            return "cookie"
        field = _nul_field(request.GET)
        if field is not None:
            return field
        if request.method == "POST" and request.content_type in {
            "multipart/form-data",
            "application/x-www-form-urlencoded",
        }:
            field = _nul_field(request.POST)  # parses the body; an unreadable one raises here
            if field is None:
                field = next((name for name in request.FILES if NUL in name), None)
            return field
        if request.content_type == "application/json" and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                return None  # not JSON at all: the view answers that
            return _nul_path(body, "body")
        return None

    @staticmethod
    def _refuse(request: HttpRequest, status: int, field: str | None) -> HttpResponse:
        # The language middleware has not run yet: take the browser's language (cookie, Accept-Language).
        with translation.override(translation.get_language_from_request(request)):
            if field is None:
                detail = _("The form data could not be read. Send it again from the page, or check its Content-Type.")
            else:
                detail = _("Text may not contain NUL characters (\\x00): remove them and try again.")
            if request.path.startswith("/api/"):
                body: dict[str, Any] = {"detail": detail, "code": "bad_request" if field is None else "invalid"}
                if field is not None:
                    body["errors"] = [{"field": field, "message": detail}]
                return JsonResponse(body, status=status)
            return render(request, "400.html", {"detail": detail}, status=400)


class DatabaseOutageMiddleware:
    """Answer 503 (``campus.database_outage``) while the database cannot be reached.

    Put it before every middleware that reads the database (sessions, the user's language, the
    campus zone): it makes sure the connection is usable first — Django's own health check of a
    kept connection (``CONN_HEALTH_CHECKS``), or a new connection — which the request would
    do a moment later anyway. An outage raised by the view itself is answered the same way.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except (OperationalError, InterfaceError) as error:
            if not is_database_outage(error):
                raise
            return database_unavailable_response(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_outage(exception):
            return database_unavailable_response(request, exception)
        return None
