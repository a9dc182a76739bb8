"""Sign-in throttling with django-axes: by account and by address, with a page people can read.

Axes counts failed sign-ins in the database (``axes.models.AccessAttempt``) for each username and
for each client address. An account is refused after ``AXES_FAILURE_LIMIT`` failures, an address
after ``KAMPUS_SIGN_IN_ADDRESS_LIMIT`` (higher: a whole school may sign in from one NAT address),
until ``AXES_COOLOFF_TIME`` has passed since the last failure. Personal API tokens are not
passwords and are not throttled here.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class SignInThrottleBackend(AxesStandaloneBackend):
    """Refuse a sign-in while its account or address is locked out; signs nobody in by itself.

    Put it first in ``AUTHENTICATION_BACKENDS``; ``ModelBackend`` after it checks the password.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            # A check without a request (a management command, a script) is no sign-in from an address.
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class SignInThrottleHandler(AxesDatabaseHandler):
    """Axes's database handler with a limit of its own for an address.

    Axes compares one number with one limit (``AXES_FAILURE_LIMIT``); this handler reports the
    address's failures scaled to that limit, so the account and the address each reach it at their
    own limit: ``failures * account_limit // address_limit >= account_limit`` exactly when
    ``failures >= address_limit``.
    """

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        # One queryset per entry of AXES_LOCKOUT_PARAMETERS, in its order: username, ip_address.
        by_account, by_address = (
            attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        account_limit = int(settings.AXES_FAILURE_LIMIT)
        address_limit = max(int(settings.KAMPUS_SIGN_IN_ADDRESS_LIMIT), 1)
        return max(by_account, by_address * account_limit // address_limit)


def client_ip_address(request: HttpRequest) -> str | None:
    """Return the address the request came from; behind a trusted proxy, the one the proxy saw.

    With ``TRUST_X_FORWARDED_FOR`` the right-most ``X-Forwarded-For`` entry counts: the proxy
    (nginx's ``$proxy_add_x_forwarded_for``) appends the address it saw, while anything to its left
    came from the client and could be made up to dodge the throttle.
    """
    if settings.KAMPUS_TRUST_X_FORWARDED_FOR:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")


def locked_out(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """Answer a refused sign-in (on the site's or the admin's sign-in page) with the lockout page."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"cool_off_minutes": minutes, "sign_in_url": request.path},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
