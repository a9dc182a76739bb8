"""The language switch: the cookie for everyone, and the profile for signed-in users."""

import contextlib

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from campus.exceptions import InvalidInput
from campus.services import user_set_language


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language; a signed-in user's choice is saved, since the profile comes before the cookie."""
    response = django_set_language(request)
    if request.user.is_authenticated:
        with contextlib.suppress(InvalidInput):  # Django's view has already ignored an unknown language.
            user_set_language(user=request.user, language=request.POST.get("language", ""))
    return response
