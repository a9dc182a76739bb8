"""Limit/offset pagination answering ``{"items": [...], "count": N, "next": URL or null}``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

# The documented page sizes; settings.KAMPUS_API_MAX_LIMIT mirrors MAX_LIMIT (a test keeps them equal).
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far beyond any list, and small enough for every database's OFFSET.
MAX_OFFSET = 10**9


class KampusPagination(PaginationBase):
    """Slice a queryset by ``limit``/``offset``; ``next`` is the absolute URL of the following page."""

    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (1–1000).")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")

    class Output(Schema):
        items: list[Any]
        count: int
        next: str | None = Field(None, description="URL of the next page; null on the last page.")

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any) -> Any:
        limit, offset = pagination.limit, pagination.offset
        count = self._items_count(queryset)
        return {
            "items": queryset[offset : offset + limit],
            "count": count,
            "next": next_page_url(request, limit=limit, offset=offset + limit) if offset + limit < count else None,
        }


def next_page_url(request: HttpRequest, *, limit: int, offset: int) -> str:
    """Return the absolute URL of this request with ``limit``/``offset`` replaced, other parameters kept."""
    query = request.GET.copy()
    query["limit"] = str(limit)
    query["offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
