"""Request middleware: the user's language and the campus time zone."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation

from campus.selectors import default_campus_zone_name, user_campus_zone_name


class UserLocaleMiddleware(LocaleMiddleware):
    """Pick the language from the user's profile, then the language cookie, then Accept-Language."""

    def process_request(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        preferred = getattr(user, "preferred_language", "") if user is not None and user.is_authenticated else ""
        if preferred and translation.check_for_language(preferred):
            translation.activate(preferred)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)


class CampusTimezoneMiddleware:
    """Activate the campus's time zone so pages and forms show campus-local times."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone = user_campus_zone_name(user) if user is not None and user.is_authenticated else None
        timezone.activate(zone or default_campus_zone_name())
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
