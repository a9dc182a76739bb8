"""Admin of sensors (facility managers of the rooms), readings and dead letters (read-only), gateway tokens.

Rights follow campus.permissions like the rest of the admin (``ScopedAdminMixin``): a facility
manager registers and changes the sensors of the rooms they manage, reads those sensors' readings
and dead letters; the campus's facility managers also read the dead letters naming no registered
sensor and revoke the campus's gateway tokens. Saves go through ``sensors.services``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from campus import permissions
from campus.admin import (
    ADD,
    CHANGE,
    DELETE,
    ROOM_AUTOCOMPLETE_MANAGED_ONLY,
    VIEW,
    AdminScope,
    ScopedAdminMixin,
    rights_when,
)
from campus.exceptions import KampusError
from campus.models import Room
from sensors import services
from sensors.models import DeadLetter, IngestToken, Reading, Sensor

SENSOR_FORM_FIELDS = ["external_id", "kind", "room", "vendor", "model", "is_active", "installed_at"]


def _keeps(scope: AdminScope, room: Room) -> bool:
    """Return whether the admin user manages ``room`` (its owner's or its campus's facility manager)."""
    return room.building.campus_id in scope.managed_campus_ids or (
        room.owner_id is not None and room.owner_id in scope.managed_institution_ids
    )


def _managed_rooms_q(scope: AdminScope, prefix: str) -> Q:
    return Q(**{f"{prefix}building__campus_id__in": scope.managed_campus_ids}) | Q(
        **{f"{prefix}owner_id__in": scope.managed_institution_ids}
    )


def _is_manager(scope: AdminScope) -> bool:
    return bool(scope.managed_campus_ids or scope.managed_institution_ids)


class SensorForm(forms.ModelForm):
    """Register or change a sensor through ``sensor_register`` / ``sensor_update`` (they check the rooms)."""

    request: HttpRequest

    class Meta:
        model = Sensor
        fields = SENSOR_FORM_FIELDS

    def _post_clean(self) -> None:
        pass  # the service validates and saves, in clean()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        values = {name: data[name] for name in SENSOR_FORM_FIELDS if name in data}
        try:
            if self.instance.pk:
                sensor = Sensor.objects.select_related("room__building").get(pk=self.instance.pk)
                self.instance = services.sensor_update(actor=self.request.user, sensor=sensor, changes=values)
            else:
                self.instance = services.sensor_register(actor=self.request.user, **values)
        except KampusError as error:
            for field_error in error.extra.get("errors") or []:
                name = str(field_error.get("field", ""))
                self.add_error(name if name in self.fields else None, str(field_error.get("message", "")))
            if not error.extra.get("errors"):
                self.add_error(None, error.message)
        return data


@admin.register(Sensor)
class SensorAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = SensorForm
    list_display = ["external_id", "kind", "room", "status", "last_seen", "is_active"]
    list_filter = ["kind", "status", "is_active"]
    list_select_related = ["room__building"]
    search_fields = ["external_id", "room__code", "room__name", "vendor", "model"]
    autocomplete_fields = ["room"]
    readonly_fields = ["status", "status_changed_at", "last_seen", "created_at"]

    def rights(self, scope: AdminScope, obj: Sensor | None) -> frozenset[str]:
        if obj is None:
            return rights_when((_is_manager(scope), {VIEW, ADD, CHANGE}))
        return rights_when((_keeps(scope, obj.room), {VIEW, CHANGE}))

    def scope_queryset(self, queryset: QuerySet[Sensor], scope: AdminScope) -> QuerySet[Sensor]:
        return queryset.filter(_managed_rooms_q(scope, "room__"))

    def get_form(self, request: HttpRequest, obj: Sensor | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "room":
            kwargs["queryset"] = permissions.managed_rooms(request.user).select_related("building")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Sensor, form: forms.ModelForm, change: bool) -> None:
        pass  # saved by the service in SensorForm.clean()


ROOM_AUTOCOMPLETE_MANAGED_ONLY.add(("sensors", "sensor", "room"))


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(Reading)
class ReadingAdmin(ReadOnlyScopedAdmin):
    """Raw readings, read-only: they change only through ingest (and retention)."""

    list_display = ["ts", "sensor", "room", "count", "present", "received_at"]
    list_select_related = ["sensor", "room__building"]
    search_fields = ["=sensor__external_id"]
    show_full_result_count = False

    def rights(self, scope: AdminScope, obj: Reading | None) -> frozenset[str]:
        if obj is None:
            return rights_when((_is_manager(scope), {VIEW}))
        return rights_when((_keeps(scope, obj.room), {VIEW}))

    def scope_queryset(self, queryset: QuerySet[Reading], scope: AdminScope) -> QuerySet[Reading]:
        return queryset.filter(_managed_rooms_q(scope, "room__"))


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyScopedAdmin):
    """Refused sensor messages with their reasons: read them, fix the sender, delete them."""

    list_display = ["received_at", "reason", "source", "topic", "sensor", "detail"]
    list_filter = ["reason", "source"]
    list_select_related = ["sensor"]
    search_fields = ["topic", "detail"]
    show_full_result_count = False

    def rights(self, scope: AdminScope, obj: DeadLetter | None) -> frozenset[str]:
        if obj is None:
            return rights_when((_is_manager(scope), {VIEW, DELETE}))
        visible = self.scope_queryset(DeadLetter.objects.filter(pk=obj.pk), scope).exists()
        return rights_when((visible, {VIEW, DELETE}))

    def scope_queryset(self, queryset: QuerySet[DeadLetter], scope: AdminScope) -> QuerySet[DeadLetter]:
        visible = Q(sensor__isnull=False) & _managed_rooms_q(scope, "sensor__room__")
        visible |= Q(sensor__isnull=True, campus_id__in=scope.managed_campus_ids)
        if scope.managed_campus_ids:
            visible |= Q(sensor__isnull=True, campus__isnull=True)
        return queryset.filter(visible)


@admin.register(IngestToken)
class IngestTokenAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Gateway tokens: see and revoke them; new ones come from the API or ``manage.py create_gateway_token``."""

    list_display = ["prefix", "name", "campus", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["campus"]
    search_fields = ["prefix", "name"]
    fields = ["name", "campus", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def rights(self, scope: AdminScope, obj: IngestToken | None) -> frozenset[str]:
        if obj is None:
            return rights_when((bool(scope.managed_campus_ids), {VIEW, CHANGE}))
        return rights_when((obj.campus_id in scope.managed_campus_ids, {VIEW, CHANGE}))

    def scope_queryset(self, queryset: QuerySet[IngestToken], scope: AdminScope) -> QuerySet[IngestToken]:
        return queryset.filter(campus_id__in=scope.managed_campus_ids)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret is shown once, by the API or the command that creates it

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[IngestToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("campus"))
        for token in tokens:
            services.gateway_token_revoke(actor=request.user, token=token)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)) % {"count": len(tokens)},
            messages.SUCCESS,
        )
