"""Create, revoke and check personal API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.models import ApiToken
from campus.models import Campus, Membership, User

TOKEN_PREFIX = "kmp_"
PREFIX_LENGTH = 12  # "kmp_" and 8 random characters: enough to tell tokens apart, useless to an attacker.
# Writing last_used_at on every request would take SQLite's write lock each time; a minute is precise enough.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    """Return the hex SHA-256 of ``raw``, the form in which tokens are stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it with the raw secret, which is never shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:PREFIX_LENGTH], hashed_key=hash_token(raw))
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token`` from now on; revoking a revoked token keeps its first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(*, raw: str) -> ApiToken | None:
    """Return the active token whose secret is ``raw`` (with its active user), noting its use; else None.

    Read with it, so that a token request needs no other query for its time zones: ``user_zone``,
    the zone of the campus of the user's first membership (None without one), and ``default_zone``,
    the installation's first campus's (None without a campus) — ``campus.selectors``'
    ``user_campus_zone_name`` and ``default_campus_zone_name``.
    """
    if not raw.startswith(TOKEN_PREFIX):
        return None
    first_membership = (
        Membership.objects.filter(user_id=OuterRef("user_id"))
        .order_by("pk")
        .annotate(zone=Coalesce("campus__time_zone", "institution__campus__time_zone"))
        .values("zone")[:1]
    )
    token = (
        ApiToken.objects.select_related("user")
        .filter(hashed_key=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .annotate(
            user_zone=Subquery(first_membership),
            default_zone=Subquery(Campus.objects.order_by("pk").values("time_zone")[:1]),
        )
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
