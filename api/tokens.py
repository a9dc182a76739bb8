"""Create, revoke and check personal API tokens."""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from campus.exceptions import InvalidInput
from campus.models import Campus, Institution, Membership, User
from campus.sql_rows import columns, execute, from_row
from campus.tokens import hash_token, new_secret

TOKEN_PREFIX = "kmp_"
PREFIX_LENGTH = 12  # "kmp_" and 8 random characters: enough to tell tokens apart, useless to an attacker.
# The longest validity a token may be given when it is made (about ten years).
MAX_VALID_DAYS = 3650
# Writing last_used_at on every request would take SQLite's write lock each time; a minute is precise enough.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


@transaction.atomic
def token_create(*, user: User, name: str, valid_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``, valid for ``valid_days`` (None: until revoked); return it with the raw secret,
    which is never shown again."""
    if valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        message = _("A token is valid for 1 to %(days)s days.") % {"days": MAX_VALID_DAYS}
        raise InvalidInput(message, errors=[{"field": "valid_days", "message": message}])
    expires_at = timezone.now() + dt.timedelta(days=valid_days) if valid_days is not None else None
    raw = new_secret(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:PREFIX_LENGTH], hashed_key=hash_token(raw), expires_at=expires_at
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token`` from now on; revoking a revoked token keeps its first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@cache
def _token_sql(vendor: str) -> str:
    """The token check's statement (``vendor``: the database it was written for, the cache's key)."""
    campus, membership, institution = Campus._meta.db_table, Membership._meta.db_table, Institution._meta.db_table
    return (
        f"SELECT {columns(ApiToken, 't')}, {columns(User, 'u')},"
        f" (SELECT COALESCE(c.time_zone, ic.time_zone) FROM {membership} m"
        f" LEFT JOIN {campus} c ON c.id = m.campus_id LEFT JOIN {institution} i ON i.id = m.institution_id"
        f" LEFT JOIN {campus} ic ON ic.id = i.campus_id WHERE m.user_id = u.id ORDER BY m.id LIMIT 1),"
        f" (SELECT time_zone FROM {campus} ORDER BY id LIMIT 1)"
        f" FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id"
        " WHERE t.hashed_key = %s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s)"
        " AND u.is_active"
    )


def token_authenticate(*, raw: str) -> ApiToken | None:
    """Return the active token whose secret is ``raw`` (with its active user), noting its use; else None.

    Read with it, so that a token request needs no other query for its time zones: ``user_zone``,
    the zone of the campus of the user's first membership (None without one), and ``default_zone``,
    the installation's first campus's (None without a campus) — as ``campus.selectors``'
    ``user_campus_zone_name`` and ``default_campus_zone_name`` answer. Every API request runs this
    statement: it is written as SQL once (``campus.sql_rows``), not built with the ORM each time.
    """
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    with connection.cursor() as cursor:
        execute(cursor, _token_sql(connection.vendor), [hash_token(raw), now], label="token")
        row = cursor.fetchone()
    if row is None:
        return None
    token, user = from_row(row[:-2], ApiToken, User)
    token.user = user
    token.user_zone, token.default_zone = row[-2:]
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
