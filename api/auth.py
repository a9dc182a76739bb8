"""How API callers prove who they are: a personal token (Bearer) or the browser's session with CSRF."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from api.models import ApiToken
from api.tokens import token_authenticate
from campus.middleware import campus_zone_left_to_token, requested_api_language
from campus.models import User
from campus.selectors import user_campus_zone_name


class TokenRefused(AuthenticationError):
    """A bearer token was sent but is unknown, revoked or belongs to an inactive user."""

    def __init__(self) -> None:
        super().__init__(401, str(_("The API token is invalid or has been revoked.")))


class CsrfRefused(HttpError):
    """A session-authenticated unsafe request came without a valid CSRF token."""

    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(403, str(_("CSRF check failed: send the csrftoken cookie's value in X-CSRFToken.")))


def request_zone(request: HttpRequest) -> zoneinfo.ZoneInfo | dt.tzinfo:
    """Return the campus zone the request's answers use: the signed-in user's campus's, as pages do.

    For a session the middleware has activated it already; for a token (which the middleware does
    not see) it is looked up once, when an answer first needs it.
    """
    zone = getattr(request, "_kampus_zone", None)
    if zone is None:
        name = user_campus_zone_name(request.auth) if getattr(request, "api_token", None) is not None else None
        zone = zoneinfo.ZoneInfo(name) if name else timezone.get_current_timezone()
        request._kampus_zone = zone  # type: ignore[attr-defined]
    return zone


def _use_user_language(request: HttpRequest, user: User) -> None:
    """Answer in ``user``'s preferred language, as pages do (the middleware saw no user).

    An explicit Accept-Language header on the request still wins over the profile's language.
    """
    if requested_api_language(request) is None and (
        user.preferred_language and translation.check_for_language(user.preferred_language)
    ):
        translation.activate(user.preferred_language)
        request.LANGUAGE_CODE = translation.get_language()


def _use_zones(request: HttpRequest, api_token: ApiToken) -> None:
    """Activate the zone the middleware left to the token (the installation's campus's, as for anyone not
    signed in) and note the user's campus's for the answers (``request_zone``); both came with the token."""
    if campus_zone_left_to_token(request):
        timezone.activate(api_token.default_zone or settings.TIME_ZONE)
    user_zone = api_token.user_zone
    request._kampus_zone = zoneinfo.ZoneInfo(user_zone) if user_zone else timezone.get_current_timezone()  # type: ignore[attr-defined]


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        api_token = token_authenticate(raw=token.strip())
        if api_token is None:
            # A wrong token is refused outright rather than falling through to the session.
            raise TokenRefused()
        user = api_token.user
        request.user = user
        request.api_token = api_token  # type: ignore[attr-defined]
        _use_user_language(request, user)
        _use_zones(request, api_token)
        return user


class SessionAuth(NinjaSessionAuth):
    """Django's session cookie; unsafe methods need the CSRF token (ninja checks it like Django's middleware).

    Anonymous requests are not CSRF-checked so that they get the 401 they deserve rather than a 403.
    """

    def _get_key(self, request: HttpRequest) -> Any:
        if not request.user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise CsrfRefused() from exc


api_auth = [BearerTokenAuth(), SessionAuth()]
