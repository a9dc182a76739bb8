"""The signed-in user: who they are, their memberships, their language."""

from django.http import HttpRequest
from django.utils import translation
from ninja import Router

from api.schemas import READ_ERRORS, WRITE_ERRORS, LanguageIn, MeOut
from campus.models import User

router = Router(tags=["me"])


@router.get("/me", response={200: MeOut, **READ_ERRORS})
def get_me(request: HttpRequest) -> User:
    """Return the signed-in user with their memberships (past, present and future)."""
    return request.auth


@router.post("/me/language", response={200: MeOut, **WRITE_ERRORS})
def set_my_language(request: HttpRequest, payload: LanguageIn) -> User:
    """Set the language pages, e-mails and API messages use for the signed-in user."""
    user: User = request.auth
    user.preferred_language = payload.language
    user.save(update_fields=["preferred_language"])
    translation.activate(user.preferred_language)
    request.LANGUAGE_CODE = translation.get_language()
    return user
