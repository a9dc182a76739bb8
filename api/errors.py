"""One mapping from every exception to the API's error body ``{"detail", "code", ...}``.

Invalid input adds ``errors: [{field, message}]``; domain errors (``KampusError``) add their
``extra`` keys as they are (``conflicts`` on 409, ``rule``/``allowed`` for a broken rule).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from campus.exceptions import KampusError

logger = logging.getLogger(__name__)

# Where ninja says a parameter came from; a field path names the body but not the others.
_PARAM_SOURCES = {"query", "path", "header", "cookie", "form", "file"}

_CODE_FOR_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid",
    429: "throttled",
}


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    """Return the error body every API error answers with; ``extra`` cannot replace detail or code."""
    return {"detail": str(detail), "code": code, **{k: v for k, v in extra.items() if k not in {"detail", "code"}}}


def field_path(loc: Iterable[Any]) -> str:
    """Return the dotted field path of a ninja error location.

    ``("query", "limit")`` → ``"limit"``; ``("body", "payload", "start")`` → ``"body.start"``
    (the view's parameter name is an implementation detail); list indexes stay, ``"body.items.0"``.
    """
    loc = list(loc)
    parts = [str(part) for part in loc]
    if not parts:
        return ""
    source, rest = parts[0], parts[1:]
    if source == "body":
        # ninja puts the view's argument name after "body" unless the body was flattened into it.
        return ".".join(["body", *rest[1:]]) if len(rest) > 1 else "body"
    if source in _PARAM_SOURCES:
        if len(rest) >= 3 and isinstance(loc[-1], int):
            # A list field of a query schema: ninja names the view's schema argument first; drop it.
            rest = rest[1:]
        return ".".join(rest) or source
    return ".".join(parts)


def _validation_errors(exc: NinjaValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors:
        if "loc" in error:
            errors.append({"field": field_path(error["loc"]), "message": str(error.get("msg", ""))})
        else:  # ninja's cursor pagination raises {"name": "message"} dicts
            errors.extend({"field": str(name), "message": str(message)} for name, message in error.items())
    return errors


def _django_validation_errors(exc: DjangoValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": "" if name == "__all__" else name, "message": message}
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in exc.messages]


def install_error_handlers(api: NinjaAPI) -> None:
    """Make ``api`` answer every exception with the Kampus error body (never an HTML page)."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        body = error_body(_("The request has invalid fields."), "invalid", errors=_validation_errors(exc))
        return respond(request, 422, body)

    @api.exception_handler(DjangoValidationError)
    def invalid_model(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        body = error_body(_("The request has invalid fields."), "invalid", errors=_django_validation_errors(exc))
        return respond(request, 422, body)

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        # ninja's own AuthenticationError says only "Unauthorized"; ours carry a message for people.
        detail = exc.message if type(exc) is not AuthenticationError else _("Authentication required.")
        response = respond(request, 401, error_body(detail, "not_authenticated"))
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = getattr(exc, "code", None) or _CODE_FOR_STATUS.get(exc.status_code, "error")
        return respond(request, exc.status_code, error_body(exc.message, code))

    @api.exception_handler(Http404)
    def http_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body(_("Not found."), "not_found"))

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return respond(request, 404, error_body(_("Not found."), "not_found"))

    @api.exception_handler(DjangoPermissionDenied)
    def permission_denied(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        detail = str(exc) or _("You do not have permission to do this.")
        return respond(request, 403, error_body(detail, "permission_denied"))

    @api.exception_handler(KampusError)
    def domain_error(request: HttpRequest, exc: KampusError) -> HttpResponse:
        return respond(request, exc.http_status, error_body(exc.message, exc.code, **exc.extra))

    @api.exception_handler(Exception)
    def internal_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return respond(request, 500, error_body(_("Internal error"), "internal_error"))
