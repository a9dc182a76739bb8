"""Admin of door displays: those who manage a room set up its displays and revoke them.

A new display's address (with its secret) is shown once, on the page that answers the save; only
the secret's SHA-256 is stored, like the API and gateway tokens. Saves go through
``utilisation.door_displays``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from campus import permissions
from campus.admin import ADD, CHANGE, ROOM_AUTOCOMPLETE_MANAGED_ONLY, VIEW, AdminScope, ScopedAdminMixin, rights_when
from campus.exceptions import KampusError
from utilisation import door_displays
from utilisation.models import DoorDisplay


class DoorDisplayForm(forms.ModelForm):
    """Set up a display through ``door_display_create`` (it checks that the user manages the room)."""

    request: HttpRequest

    class Meta:
        model = DoorDisplay
        fields = ["room", "name"]

    def _post_clean(self) -> None:
        pass  # the service validates and saves, in clean()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors or self.instance.pk:
            return data
        try:
            self.instance, raw = door_displays.door_display_create(
                actor=self.request.user, room=data["room"], name=data["name"]
            )
            self.instance.raw_token = raw  # shown once by DoorDisplayAdmin.response_add, never stored
        except KampusError as error:
            self.add_error("room", error.message)
        return data


@admin.register(DoorDisplay)
class DoorDisplayAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Door displays of the rooms the user manages: add one (its address is shown once), revoke it."""

    form = DoorDisplayForm
    list_display = ["prefix", "name", "room", "created_at", "last_seen_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["room__building"]
    search_fields = ["prefix", "name", "room__code", "room__name"]
    autocomplete_fields = ["room"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: DoorDisplay | None = None) -> list[str]:
        if obj is None:
            return ["room", "name"]
        return ["name", "room", "prefix", "created_by", "created_at", "last_seen_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: DoorDisplay | None = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def rights(self, scope: AdminScope, obj: DoorDisplay | None) -> frozenset[str]:
        if obj is None:
            return rights_when((scope.keeps_room(None), {VIEW, ADD, CHANGE}))
        return rights_when((scope.keeps_room(obj.room), {VIEW, CHANGE}))

    def scope_queryset(self, queryset: QuerySet[DoorDisplay], scope: AdminScope) -> QuerySet[DoorDisplay]:
        return queryset.filter(
            Q(room__building__campus_id__in=scope.managed_campus_ids)
            | Q(room__owner_id__in=scope.managed_institution_ids)
        )

    def get_form(self, request: HttpRequest, obj: DoorDisplay | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "room":
            kwargs["queryset"] = permissions.managed_rooms(request.user).select_related("building")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: DoorDisplay, form: forms.ModelForm, change: bool) -> None:
        pass  # created by the service in DoorDisplayForm.clean(); an existing display is never edited

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        pass

    def response_add(
        self, request: HttpRequest, obj: DoorDisplay, post_url_continue: str | None = None
    ) -> HttpResponse:
        """Show the new display's address once: it holds the secret, which is stored only as a hash."""
        raw = getattr(obj, "raw_token", "")
        address = f"{settings.KAMPUS_BASE_URL}{reverse('door:display', args=[raw])}" if raw else ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "display": obj,
            "address": address,
            "title": _("Door display set up"),
        }
        return TemplateResponse(request, "admin/utilisation/doordisplay/created.html", context)

    @admin.action(description=_("Revoke selected door displays"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[DoorDisplay]) -> None:
        displays = list(queryset.filter(revoked_at__isnull=True).select_related("room__building"))
        for display in displays:
            door_displays.door_display_revoke(actor=request.user, display=display)
        self.message_user(
            request,
            ngettext("%(count)d door display revoked.", "%(count)d door displays revoked.", len(displays))
            % {"count": len(displays)},
            messages.SUCCESS,
        )


ROOM_AUTOCOMPLETE_MANAGED_ONLY.add(("utilisation", "doordisplay", "room"))
