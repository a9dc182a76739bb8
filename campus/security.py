"""Security headers for Kampus pages: a strict Content-Security-Policy and its companions.

Kampus pages load scripts, styles, fonts and images only from their own origin and never inline
(templates/ carry no inline scripts, ``style=`` attributes or ``on…=`` handlers; a test guards
that). The Django admin and the Swagger UI of the API docs use inline code of their own, so they
are left without the policy.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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


def is_csp_exempt(path_info: str) -> bool:
    """Return whether the page at ``path_info`` goes without the Content-Security-Policy."""
    return path_info.startswith(CSP_EXEMPT_PREFIXES)


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy on Kampus pages, and Permissions-Policy and COOP everywhere.

    A header a view has set itself is left as it is.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_csp_exempt(request.path_info):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", CROSS_ORIGIN_OPENER_POLICY)
        return response
