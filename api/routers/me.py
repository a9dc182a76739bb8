"""The signed-in user: who they are, their memberships, their language, their API tokens, their data."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import translation
from ninja import Field, Router, Schema, Status

from api.auth import request_zone
from api.booking_schemas import local
from api.models import ApiToken
from api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, LanguageIn, MeOut
from api.tokens import token_create, token_revoke
from campus.models import User
from campus.personal_data import person_data_export
from campus.services import user_set_language

router = Router(tags=["me"])


@router.get("/me", response={200: MeOut, **READ_ERRORS})
def get_me(request: HttpRequest) -> User:
    """Return the signed-in user with their memberships (past, present and future)."""
    return request.auth


@router.post("/me/language", response={200: MeOut, **WRITE_ERRORS})
def set_my_language(request: HttpRequest, payload: LanguageIn) -> User:
    """Set the language pages, e-mails and API messages use for the signed-in user."""
    user: User = user_set_language(user=request.auth, language=payload.language)
    translation.activate(user.preferred_language)
    request.LANGUAGE_CODE = translation.get_language()
    return user


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100, description="What the token is for.")
    valid_days: int | None = Field(
        None, ge=1, le=3650, description="Days the token stays valid; leave it out for a token valid until revoked."
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None = Field(description="When the token stops working; null: when revoked.")

    @staticmethod
    def resolve_created_at(token: ApiToken, context: dict[str, Any]) -> dt.datetime:
        return local(token.created_at, request_zone(context["request"]))

    @staticmethod
    def resolve_last_used_at(token: ApiToken, context: dict[str, Any]) -> dt.datetime | None:
        return local(token.last_used_at, request_zone(context["request"]))

    @staticmethod
    def resolve_revoked_at(token: ApiToken, context: dict[str, Any]) -> dt.datetime | None:
        return local(token.revoked_at, request_zone(context["request"]))

    @staticmethod
    def resolve_expires_at(token: ApiToken, context: dict[str, Any]) -> dt.datetime | None:
        return local(token.expires_at, request_zone(context["request"]))


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself: shown only now, store it safely.")


@router.get("/me/tokens", response={200: list[TokenOut], **READ_ERRORS})
def list_my_tokens(request: HttpRequest) -> list[ApiToken]:
    """List my personal API tokens (never the tokens themselves, only their prefixes)."""
    return list(ApiToken.objects.filter(user=request.auth).order_by("-created_at"))


@router.post("/me/tokens", response={201: TokenCreatedOut, **WRITE_ERRORS})
def create_my_token(request: HttpRequest, payload: TokenIn) -> Status:
    """Create a personal API token; the answer is the only time the token is shown."""
    token, raw = token_create(user=request.auth, name=payload.name, valid_days=payload.valid_days)
    token.token = raw  # type: ignore[attr-defined]  # shown only in this answer, never stored
    return Status(201, token)


@router.post("/me/tokens/{token_id}/revoke", response={200: TokenOut, 404: ErrorOut, **WRITE_ERRORS})
def revoke_my_token(request: HttpRequest, token_id: int) -> ApiToken:
    """Revoke one of my tokens; it never authenticates again."""
    return token_revoke(token=get_object_or_404(ApiToken, pk=token_id, user=request.auth))


class PersonExportOut(Schema):
    """Everything Kampus holds about the signed-in person (times in UTC, ISO 8601; no secrets)."""

    format: str = Field(description="kampus-person-export/1")
    exported_at: str
    profile: dict[str, Any]
    memberships: list[dict[str, Any]]
    sign_ins: dict[str, Any] = Field(description="successful sign-ins (time, address, browser) and failed ones (time)")
    bookings: dict[str, Any] = Field(
        description="bookings made by or for you, audit events about them or by you, notifications, calendar feeds"
    )
    api_tokens: list[dict[str, Any]] = Field(description="name, prefix and dates; never the token")
    sensors: dict[str, Any]
    utilisation: dict[str, Any]


@router.get("/me/export", response={200: PersonExportOut, **READ_ERRORS})
def export_my_data(request: HttpRequest) -> dict[str, Any]:
    """Return everything Kampus holds about me (GDPR access and portability), as the profile page's download."""
    return person_data_export(user=request.auth)
