"""One person's data across Kampus: export it (GDPR Art. 15 and 20) and delete the person (Art. 17).

Campus holds the person and their memberships; the other apps own the rest (bookings, API
tokens, sensor notices, report jobs) and register a section here from their ``AppConfig.ready``,
because a lower layer never imports a higher one. Each section exports what it holds about the
person as JSON-ready values (no secrets: tokens by name, prefix and dates) and, on deletion,
erases or anonymises it before the account row goes. Every entry point — the profile page, the
API, the admin and the management commands — calls ``person_data_export`` and ``user_delete``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from campus.models import Membership, User

EXPORT_FORMAT = "kampus-person-export/1"
# What the admin's history calls a deleted person (it named them by their full name or username).
ERASED_NAME = "—"

PersonExport = Callable[[User], Any]
# Erase what the section holds about ``user`` (acting: ``actor``, None for a command); return counts by name.
PersonErase = Callable[..., dict[str, int]]


@dataclass(frozen=True)
class PersonalDataSection:
    name: str
    export: PersonExport
    erase: PersonErase | None
    order: int


_sections: dict[str, PersonalDataSection] = {}


def register_personal_data(
    name: str, *, export: PersonExport, erase: PersonErase | None = None, order: int = 50
) -> None:
    """Register the section ``name`` of a person's data; erasers run by ``order`` before the account goes."""
    _sections[name] = PersonalDataSection(name=name, export=export, erase=erase, order=order)


def _sorted_sections() -> list[PersonalDataSection]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.name))


def iso(moment: dt.datetime | dt.date | None) -> str | None:
    """Return ``moment`` in ISO 8601 (datetimes in UTC), or None."""
    if moment is None:
        return None
    if isinstance(moment, dt.datetime):
        return moment.astimezone(dt.UTC).isoformat()
    return moment.isoformat()


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "preferred_language": user.preferred_language,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
    }


def _memberships(user: User) -> list[dict[str, Any]]:
    memberships = Membership.objects.filter(user=user).select_related("institution", "campus").order_by("pk")
    return [
        {
            "id": membership.pk,
            "role": membership.role,
            "institution": membership.institution.name if membership.institution else None,
            "campus": membership.campus.name if membership.campus else None,
            "valid_from": iso(membership.valid_from),
            "valid_until": iso(membership.valid_until),
        }
        for membership in memberships
    ]


def _sign_ins(user: User) -> dict[str, Any]:
    """Return the sign-ins recorded under the person's username (django-axes): when, from where, with what."""
    return {
        "successful": [
            {
                "at": iso(entry.attempt_time),
                "signed_out_at": iso(entry.logout_time),
                "ip_address": entry.ip_address,
                "user_agent": entry.user_agent,
            }
            for entry in AccessLog.objects.filter(username=user.username).order_by("attempt_time", "pk")
        ],
        # Wrong passwords typed for the username, counted for the throttle: when and how many. Where they came
        # from is left out: whoever typed them need not be the person.
        "failed": [
            {"at": iso(attempt.attempt_time), "failures": attempt.failures_since_start}
            for attempt in AccessAttempt.objects.filter(username=user.username).order_by("attempt_time", "pk")
        ],
    }


def person_data_export(*, user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return everything Kampus holds about ``user`` as one JSON-ready dict (times in UTC, no secrets)."""
    export: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": iso(now or timezone.now()),
        "profile": _profile(user),
        "memberships": _memberships(user),
        "sign_ins": _sign_ins(user),
    }
    for section in _sorted_sections():
        export[section.name] = section.export(user)
    return export


@dataclass
class UserDeletion:
    username: str
    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        done = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in self.counts.items())
        return f"{self.username} deleted: {done}"


@transaction.atomic
def user_delete(*, user: User, actor: User | None, now: dt.datetime | None = None) -> UserDeletion:
    """Delete ``user`` without losing what their bookings count for in the utilisation history.

    Each registered section runs first (by its order): their own future bookings are cancelled (those
    made for someone else stay), the other bookings they made are anonymised (those made for them
    lose the on-behalf fields), they are taken out of the audit log, tokens are revoked. Then the
    memberships end, the sign-in records under their username go and the account row is deleted;
    what still points at it is deleted with it (notifications, feed keys, tokens) or loses the
    reference.
    """
    now = now or timezone.now()
    # Serialise with anything else that locks this person (their booking requests).
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk").first()
    result = UserDeletion(username=user.username)
    for section in _sorted_sections():
        if section.erase is not None:
            result.counts.update(section.erase(user=user, actor=actor, now=now))
    # The memberships go with the account (a membership without its person means nothing).
    result.counts["memberships_ended"] = Membership.objects.filter(user=user).delete()[0]
    # The sign-in records name the person by username and hold their addresses (no database reference).
    result.counts["sign_in_records_deleted"] = (
        AccessLog.objects.filter(username=user.username).delete()[0]
        + AccessAttempt.objects.filter(username=user.username).delete()[0]
    )
    # The admin's history of the account (its changes and this deletion, logged before it) keeps what was
    # done and by whom, not the person's name.
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_repr=ERASED_NAME
    )
    user.delete()
    return result
