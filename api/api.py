"""The Kampus REST API (/api/v1/): one NinjaAPI, one router per area, errors mapped once.

Every operation needs a personal token or the browser session (with CSRF for unsafe methods);
the OpenAPI document and the interactive docs are public.
"""

from ninja import NinjaAPI

from api.auth import api_auth
from api.errors import install_error_handlers
from api.parser import ObjectBodyParser
from api.routers import bookings, campus, imports, me, reports, rooms, sensors, terms, workflow

api = NinjaAPI(
    title="Kampus API",
    version="1",
    description=(
        "Rooms and bookings of a joint campus. Authenticate with `Authorization: Bearer <token>` "
        "(`manage.py create_token USERNAME`) or, from the browser, the session cookie plus `X-CSRFToken`. "
        "Lists take `limit`/`offset` and answer `{items, count, next}`; errors answer `{detail, code}`."
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    auth=api_auth,
    parser=ObjectBodyParser(),
)
install_error_handlers(api)

api.add_router("", me.router)
api.add_router("", campus.router)
api.add_router("", rooms.router)
api.add_router("", bookings.router)
api.add_router("", workflow.router)
api.add_router("", terms.router)
api.add_router("", imports.router)
api.add_router("", sensors.router)
api.add_router("", reports.router)
