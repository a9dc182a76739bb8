"""Security headers for Kampus pages: a strict Content-Security-Policy and its companions.

Kampus pages load scripts, styles, fonts and images only from their own origin and never inline
(templates/ carry no inline scripts, ``style=`` attributes or ``on…=`` handlers; a test guards
that). The Django admin and the Swagger UI of the API docs use inline code of their own, so they
are left without the policy.

Answers to a signed-in person (a session or an API token) are kept by no cache: front-desk
computers are shared, and the next person must not find the last one's bookings in a cache.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = "geolocation=(), camera=(), microphone=()"
CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Paths (below the script prefix) whose pages are not ours and use inline scripts and styles.
CSP_EXEMPT_PREFIXES = ("/admin/", "/api/v1/docs")


def is_personal(request: HttpRequest) -> bool:
    """Return whether ``request`` comes from a signed-in person or carries API credentials."""
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)  # absent when a middleware answered before authentication
    return user is not None and user.is_authenticated


def is_static(path: str) -> bool:
    """Return whether ``path`` (with the script prefix) is a static file; WhiteNoise sets their caching."""
    static_url = settings.STATIC_URL or ""
    return static_url.startswith("/") and path.startswith(static_url)


def is_csp_exempt(path_info: str) -> bool:
    """Return whether the page at ``path_info`` goes without the Content-Security-Policy."""
    return path_info.startswith(CSP_EXEMPT_PREFIXES)


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy on Kampus pages, and Permissions-Policy and COOP everywhere.

    Answers to a signed-in person get ``Cache-Control: private, no-store``. A header a view has set
    itself is left as it is.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_csp_exempt(request.path_info):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", CROSS_ORIGIN_OPENER_POLICY)
        if "Cache-Control" not in response and not is_static(request.path) and is_personal(request):
            patch_cache_control(response, private=True, no_store=True)
        return response
