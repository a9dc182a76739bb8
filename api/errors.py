"""One mapping from every exception to the API's error body ``{"detail", "code", ...}``.

Invalid input adds ``errors: [{field, message}]``; domain errors (``KampusError``) add their
``extra`` keys as they are (``conflicts`` on 409, ``rule``/``allowed`` for a broken rule).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from api.auth import request_zone
from campus.database_outage import database_unavailable_response, is_database_outage
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


def _limit(ctx: dict[str, Any], name: str) -> Any:
    value = ctx.get(name)
    return value.isoformat() if hasattr(value, "isoformat") else value


def field_message(error: dict[str, Any]) -> str:
    """Return pydantic's error ``error`` as a message in the active language.

    Pydantic writes its messages in English only; Kampus's own validators (PydanticCustomError)
    already speak the request's language and keep theirs.
    """
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return str(_MESSAGES[kind]())
    if kind in {"string_too_short", "too_short"}:
        count = ctx.get("min_length", 1)
        return ngettext("Give at least %(count)d character.", "Give at least %(count)d characters.", count) % {
            "count": count
        }
    if kind == "string_too_long":
        count = ctx.get("max_length", 0)
        return ngettext("Give at most %(count)d character.", "Give at most %(count)d characters.", count) % {
            "count": count
        }
    if kind == "too_long":
        count = ctx.get("max_length", 0)
        return ngettext("Give at most %(count)d item.", "Give at most %(count)d items.", count) % {"count": count}
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        templates = {
            "greater_than_equal": _("Give a value of at least %(limit)s."),
            "greater_than": _("Give a value greater than %(limit)s."),
            "less_than_equal": _("Give a value of at most %(limit)s."),
            "less_than": _("Give a value less than %(limit)s."),
        }
        limit = _limit(ctx, {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le"}.get(kind, "lt"))
        return templates[kind] % {"limit": limit}
    if kind in {"enum", "literal_error"}:
        return _("Give one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind.startswith(("datetime_", "timezone_")):
        return _("Give the time in ISO 8601 with its UTC offset, e.g. 2026-03-10T10:00:00+02:00.")
    if kind.startswith("date_"):
        return _("Give a date as YYYY-MM-DD.")
    if kind.startswith("int_"):
        return _("Give a whole number.")
    if kind.startswith(("float_", "decimal_")):
        return _("Give a number.")
    if kind.startswith("bool_"):
        return _("Give true or false.")
    if not _is_pydantic_kind(kind):
        # Kampus's own validators raise PydanticCustomError with a message already translated.
        return str(error.get("msg", "")) or _("This value is not valid.")
    return _("This value is not valid.")


_MESSAGES = {
    "missing": lambda: _("This field is required."),
    "string_type": lambda: _("Give a text."),
    "string_unicode": lambda: _("Give a text."),
    "list_type": lambda: _("Give a list."),
    "dict_type": lambda: _("Give an object."),
    "model_type": lambda: _("Give an object."),
    "model_attributes_type": lambda: _("Give an object."),
    "json_invalid": lambda: _("The body is not valid JSON."),
    "json_type": lambda: _("The body is not valid JSON."),
    "extra_forbidden": lambda: _("This field is not known."),
    "none_required": lambda: _("Give null."),
}

# Error kinds of pydantic itself (anything else came from a Kampus validator with its own message).
_PYDANTIC_TYPES = set(_MESSAGES) | {
    "string_too_short",
    "string_too_long",
    "string_pattern_mismatch",
    "too_short",
    "too_long",
    "greater_than_equal",
    "greater_than",
    "less_than_equal",
    "less_than",
    "enum",
    "literal_error",
    "value_error",
    "assertion_error",
    "union_tag_invalid",
    "url_parsing",
    "uuid_parsing",
}


def _is_pydantic_kind(kind: str) -> bool:
    return kind in _PYDANTIC_TYPES or kind.startswith(
        ("datetime_", "date_", "time_", "timezone_", "int_", "float_", "decimal_", "bool_", "bytes_")
    )


def _validation_errors(exc: NinjaValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors:
        if "loc" in error:
            errors.append({"field": field_path(error["loc"]), "message": field_message(error)})
        else:  # ninja's cursor pagination raises {"name": "message"} dicts
            errors.extend({"field": str(name), "message": str(message)} for name, message in error.items())
    return errors


def in_campus_zone(value: Any, zone: dt.tzinfo) -> Any:
    """Return ``value`` with every datetime in it in ``zone`` (``allowed``, ``conflicts``).

    Services give some times in UTC (``now``, a series' own clashes); the API answers every time in
    the campus's zone.
    """
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {key: in_campus_zone(item, zone) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [in_campus_zone(item, zone) for item in value]
    return value


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
        zone = request_zone(request)
        extra = {name: in_campus_zone(value, zone) for name, value in exc.extra.items()}
        return respond(request, exc.http_status, error_body(exc.message, exc.code, **extra))

    @api.exception_handler(Exception)
    def internal_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        if is_database_outage(exc):
            # 503 {detail, code: "database_unavailable"} with Retry-After, as every page answers then.
            return database_unavailable_response(request, exc)
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return respond(request, 500, error_body(_("Internal error"), "internal_error"))
