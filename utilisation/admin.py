"""Admin of room slots (read-only: only the rollup writes them) and of each campus's core hours.

Rights follow campus.permissions like the rest of the admin (``ScopedAdminMixin``): whoever manages a
room (its owner's or its campus's facility manager) reads its slots; the campus's facility managers
set the campus's core hours.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from campus.admin import ADD, CHANGE, DELETE, VIEW, AdminScope, ScopedAdminMixin, admin_scope, rights_when
from utilisation.models import CoreHours, RoomSlot

# The slots table grows by a row per room every 15 minutes: the change list counts no further than this.
COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):
    """A paginator that counts at most ``COUNT_LIMIT`` rows (``COUNT(*)`` over millions of rows is slow)."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: COUNT_LIMIT + 1].count()


def _managed_rooms_q(scope: AdminScope) -> Q:
    return Q(room__building__campus_id__in=scope.managed_campus_ids) | Q(
        room__owner_id__in=scope.managed_institution_ids
    )


@admin.register(RoomSlot)
class RoomSlotAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Rolled-up slots, read-only: re-roll them with ``manage.py rollup_readings``, never edit them."""

    list_display = [
        "start",
        "room",
        "local_date",
        "local_minute",
        "covered_seconds",
        "occupied_seconds",
        "mean_count",
        "peak_count",
        "booked_seconds",
        "booked_institution",
    ]
    list_select_related = ["room__building", "booked_institution"]
    search_fields = ["=room__code"]
    paginator = CappedCountPaginator
    show_full_result_count = False

    def rights(self, scope: AdminScope, obj: RoomSlot | None) -> frozenset[str]:
        if obj is None:
            return rights_when((scope.keeps_room(None), {VIEW}))
        return rights_when((scope.keeps_room(obj.room), {VIEW}))

    def scope_queryset(self, queryset: QuerySet[RoomSlot], scope: AdminScope) -> QuerySet[RoomSlot]:
        return queryset.filter(_managed_rooms_q(scope))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(CoreHours)
class CoreHoursAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A campus's core hours for utilisation figures (without a row: Monday to Friday 08:00–16:00)."""

    list_display = ["campus", "weekdays", "start", "end"]
    list_select_related = ["campus"]
    fields = ["campus", "weekdays", "start", "end"]

    def rights(self, scope: AdminScope, obj: CoreHours | None) -> frozenset[str]:
        campus_id = None if obj is None else obj.campus_id
        return rights_when((scope.keeps_campus(campus_id), {VIEW, ADD, CHANGE, DELETE}))

    def scope_queryset(self, queryset: QuerySet[CoreHours], scope: AdminScope) -> QuerySet[CoreHours]:
        return queryset.filter(campus_id__in=scope.managed_campus_ids)

    def get_readonly_fields(self, request: HttpRequest, obj: CoreHours | None = None) -> list[str]:
        return ["campus"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "campus":
            kwargs["queryset"] = admin_scope(request).kept_campuses()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


from utilisation import admin_door  # noqa: E402, F401  (door displays: registers its admin)
