"""The Kampus REST API (/api/v1/): one NinjaAPI, one router per area, errors mapped once."""

from ninja import NinjaAPI

api = NinjaAPI(title="Kampus API", version="1", urls_namespace="api-v1", docs_url="/docs")
