"""A person's API tokens in their data export (names and dates, never secrets), revoked on deletion."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.models import ApiToken
from campus.models import User
from campus.personal_data import iso


def export_api_tokens(user: User) -> list[dict[str, Any]]:
    """Return the person's API tokens: name, prefix and dates (only a hash of the secret is stored)."""
    return [
        {
            "name": token.name,
            "prefix": token.prefix,
            "created_at": iso(token.created_at),
            "last_used_at": iso(token.last_used_at),
            "expires_at": iso(token.expires_at),
            "revoked_at": iso(token.revoked_at),
        }
        for token in ApiToken.objects.filter(user=user).order_by("created_at", "pk")
    ]


def erase_api_tokens(*, user: User, actor: User | None, now: dt.datetime) -> dict[str, int]:
    """Revoke the person's active tokens (the rows go with the account)."""
    return {"api_tokens_revoked": ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)}
