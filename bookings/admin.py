"""Admin for bookings, their rules, closures and the audit log.

Every write goes through ``bookings.services`` (the same functions as the API and pages): the
forms call the service in ``clean()`` inside the admin's transaction and turn domain errors into
form errors, so the admin can never write a booking that the rules or the database would refuse.
Who may do what is ``bookings.permissions``'s answer, asked of the request's role scope; the admins
turn the answers into view, add, change and delete rights.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bookings import permissions, policies, recurrence, services
from bookings.forms.errors import add_domain_error
from bookings.models import (
    Booking,
    BookingEvent,
    BookingPolicy,
    BookingSeries,
    BookingStatus,
    Closure,
    Notification,
)
from bookings.permissions import Viewer, viewer_for
from bookings.rules import POLICY_FIELDS
from campus.admin import (
    ADD,
    CHANGE,
    DELETE,
    ROOM_AUTOCOMPLETE_MANAGED_ONLY,
    VIEW,
    AdminScope,
    ScopedAdminMixin,
    admin_scope,
    rights_when,
)
from campus.exceptions import KampusError
from campus.permissions import managed_rooms


class ServiceForm(forms.ModelForm):
    """A model form whose save is a service call, made in ``clean()`` inside the admin's transaction.

    The service validates (the model's own ``full_clean`` is skipped); its refusals become form
    errors. Subclasses implement ``call_service`` and return the object the service wrote.
    """

    request: HttpRequest
    # The admin lists a refusal's message above the form, its field errors at the fields.
    message_for_form: ClassVar[bool] = True

    def _post_clean(self) -> None:
        pass

    def call_service(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            written = self.call_service(data)
        except KampusError as error:
            add_domain_error(self, error)
            return data
        if written is not None:
            self.instance = written
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), help_text=_("The requester reads this.")
    )


class BookingAddForm(ServiceForm):
    """Book a room through ``booking_create`` (one-off or recurring)."""

    rrule = forms.CharField(
        label=_("repeat rule (RRULE)"),
        required=False,
        help_text=_("e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270520 — leave empty for a one-off booking."),
    )
    skip_conflicts = forms.BooleanField(label=_("book the free occurrences, skip clashes"), required=False)
    override_reason = forms.CharField(label=_("reason to override soft rules"), required=False)

    class Meta:
        model = Booking
        fields = [
            "room",
            "title",
            "description",
            "purpose",
            "institution",
            "start",
            "end",
            "attendees",
            "visibility",
            "on_behalf_of_name",
            "on_behalf_of_contact",
            "on_behalf_of_organisation",
        ]

    def call_service(self, data: dict[str, Any]) -> Booking:
        self.result = services.booking_create(
            room=data["room"],
            booked_by=self.request.user,
            title=data["title"],
            start=data["start"],
            end=data["end"],
            institution=data.get("institution"),
            rrule=data.get("rrule") or None,
            attendees=data.get("attendees"),
            description=data.get("description", ""),
            purpose=data["purpose"],
            visibility=data["visibility"],
            on_behalf_of_name=data.get("on_behalf_of_name", ""),
            on_behalf_of_contact=data.get("on_behalf_of_contact", ""),
            on_behalf_of_organisation=data.get("on_behalf_of_organisation", ""),
            skip_conflicts=data.get("skip_conflicts", False),
            override_reason=data.get("override_reason", ""),
        )
        return self.result.first


class BookingChangeForm(ServiceForm):
    """Change a booking through ``booking_update`` (with a scope for series)."""

    scope = forms.ChoiceField(
        label=_("apply to"),
        choices=[
            (services.Scope.OCCURRENCE, _("this occurrence")),
            (services.Scope.FOLLOWING, _("this and the following")),
            (services.Scope.SERIES, _("the whole series")),
        ],
        initial=services.Scope.OCCURRENCE,
    )
    override_reason = forms.CharField(label=_("reason to override soft rules"), required=False)

    class Meta:
        model = Booking
        fields = [
            "room",
            "title",
            "description",
            "purpose",
            "start",
            "end",
            "attendees",
            "visibility",
            "on_behalf_of_name",
            "on_behalf_of_contact",
            "on_behalf_of_organisation",
        ]

    def call_service(self, data: dict[str, Any]) -> Booking | None:
        booking = Booking.objects.select_related("room__building__campus", "series").get(pk=self.instance.pk)
        changes = {name: data[name] for name in services.EDITABLE_FIELDS if name in data and name in self.changed_data}
        moving = {name: data[name] for name in ("start", "end") if name in self.changed_data}
        room = data["room"] if "room" in self.changed_data else None
        if not changes and not moving and room is None:
            return None
        services.booking_update(
            booking=booking,
            actor=self.request.user,
            scope=data["scope"],
            room=room,
            override_reason=data.get("override_reason", ""),
            **moving,
            **changes,
        )
        return Booking.objects.get(pk=booking.pk)


@admin.register(Booking)
class BookingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["start", "end", "room", "title", "institution", "booked_by", "status", "series"]
    list_filter = [
        "status",
        "room__building",
        "institution",
        "purpose",
        "visibility",
        ("series", admin.EmptyFieldListFilter),
    ]
    search_fields = [
        "title",
        "room__code",
        "room__name",
        "booked_by__username",
        "on_behalf_of_name",
        "on_behalf_of_organisation",
    ]
    date_hierarchy = "start"
    list_select_related = ["room", "room__building", "institution", "booked_by", "series", "campus", "series__campus"]
    autocomplete_fields = ["room"]
    readonly_fields = [
        "status",
        "series",
        "booked_by",
        "institution_name",
        "expires_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "released_at",
        "created_at",
        "updated_at",
        "more_actions",
        "history",
    ]
    actions = ["cancel_bookings", "approve_requests", "reject_requests"]

    def rights(self, scope: AdminScope, obj: Booking | None) -> frozenset[str]:
        # Facility managers work with the bookings in their scope; others reach no booking in the admin.
        works = permissions.works_with_booking(scope, obj)
        return rights_when((works, {VIEW, CHANGE}), (works and obj is None, {ADD}))

    def scope_queryset(self, queryset: QuerySet[Booking], scope: AdminScope) -> QuerySet[Booking]:
        return queryset.filter(permissions.bookings_in_scope(scope))

    def get_form(self, request: HttpRequest, obj: Booking | None = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = BookingChangeForm if obj is not None else BookingAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Booking | None = None):
        what = ["room", "title", "description", "purpose"]
        if obj is None:
            what.append("institution")
        when = ["start", "end", "rrule", "skip_conflicts"] if obj is None else ["start", "end", "scope"]
        return [
            (None, {"fields": what}),
            (_("When"), {"fields": when}),
            (
                _("Who and how many"),
                {
                    "fields": [
                        "attendees",
                        "visibility",
                        "on_behalf_of_name",
                        "on_behalf_of_contact",
                        "on_behalf_of_organisation",
                    ]
                },
            ),
            (_("Rules"), {"fields": ["override_reason"]}),
            *([(_("State"), {"fields": self.readonly_fields})] if obj is not None else []),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Booking | None = None) -> list[str]:
        return list(self.readonly_fields) if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Booking, form: forms.ModelForm, change: bool) -> None:
        """Nothing to save: the form's service call already wrote the booking (or refused it)."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        pass

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # bookings are cancelled, never deleted: the audit log keeps their story

    @admin.display(description=_("for institution"))
    def institution_name(self, obj: Booking) -> str:
        return str(obj.institution or _("the campus"))

    @admin.display(description=_("history"))
    def history(self, obj: Booking) -> str:
        events = obj.events.order_by("at", "pk")
        return format_html_join(
            "\n",
            "<div>{} · {} · {} {}</div>",
            (
                (
                    timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
                    e.get_action_display(),
                    e.actor_id or "-",
                    e.reason,
                )
                for e in events
            ),
        )

    @admin.action(description=_("Cancel the selected bookings"))
    def cancel_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        cancelled, refused = 0, []
        for booking in queryset.select_related("room__building__campus", "series"):
            try:
                cancelled += len(services.booking_cancel(booking=booking, actor=request.user))
            except KampusError as error:
                refused.append(f"{booking}: {error.message}")
        self.message_user(request, ngettext("%d booking cancelled.", "%d bookings cancelled.", cancelled) % cancelled)
        for line in refused:
            self.message_user(request, line, level=messages.WARNING)

    @admin.display(description=_("more actions"))
    def more_actions(self, obj: Booking) -> str:
        """Link the pages that cancel with a scope, release early and hand a series over."""
        links = [
            (reverse("bookings:cancel", args=[obj.pk]), _("Cancel (one, following or the whole series)")),
            (reverse("bookings:release", args=[obj.pk]), _("Release early")),
            (reverse("bookings:detail", args=[obj.pk]), _("Open the booking page")),
        ]
        if obj.series_id:
            links.insert(1, (reverse("bookings:handover", args=[obj.pk]), _("Hand the series over")))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.action(description=_("Reject the selected requests (asks for a reason)"))
    def reject_requests(self, request: HttpRequest, queryset: QuerySet[Booking]) -> HttpResponse | None:
        """Ask for the reason on an intermediate page, then reject every selected pending request."""
        pending = queryset.filter(status=BookingStatus.PENDING).select_related("room__building__campus")
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            rejected, refused = 0, []
            for booking in pending:
                try:
                    rejected += len(
                        services.booking_reject(booking=booking, actor=request.user, reason=form.cleaned_data["reason"])
                    )
                except KampusError as error:
                    refused.append(f"{booking}: {error.message}")
            self.message_user(request, ngettext("%d request rejected.", "%d requests rejected.", rejected) % rejected)
            for line in refused:
                self.message_user(request, line, level=messages.WARNING)
            return None
        return TemplateResponse(
            request,
            "admin/bookings/booking/reject_requests.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Reject requests"),
                "bookings": pending,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Approve the selected requests"))
    def approve_requests(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        approved, refused = 0, []
        for booking in queryset.filter(status=BookingStatus.PENDING).select_related("room__building__campus"):
            try:
                approved += len(services.booking_approve(booking=booking, actor=request.user))
            except KampusError as error:
                refused.append(f"{booking}: {error.message}")
        self.message_user(request, ngettext("%d request approved.", "%d requests approved.", approved) % approved)
        for line in refused:
            self.message_user(request, line, level=messages.WARNING)


class OccurrenceInline(admin.TabularInline):
    model = Booking
    fields = ["start", "end", "room", "title", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BookingSeries)
class BookingSeriesAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "repeats", "rrule", "dtstart", "owner", "created_at"]
    search_fields = ["rrule", "owner__username", "occurrences__title"]
    readonly_fields = ["campus", "repeats", "rrule", "dtstart", "dtend", "time_zone", "exdates", "owner", "created_at"]

    @admin.display(description=_("repeats"))
    def repeats(self, obj: BookingSeries) -> str:
        return recurrence.repeat_label(obj.rrule)

    inlines = [OccurrenceInline]

    def rights(self, scope: AdminScope, obj: BookingSeries | None) -> frozenset[str]:
        if obj is None:
            return rights_when((permissions.works_with_booking(scope, None), {VIEW}))
        return rights_when((permissions.sees_series(scope, obj), {VIEW}))

    def scope_queryset(self, queryset: QuerySet[BookingSeries], scope: AdminScope) -> QuerySet[BookingSeries]:
        return queryset.filter(pk__in=Booking.objects.filter(permissions.bookings_in_scope(scope)).values("series_id"))


class BookingPolicyForm(forms.ModelForm):
    """Rules for one room, building or campus; the target must be one where the user sets rules."""

    actor: Any
    message_for_form: ClassVar[bool] = True

    class Meta:
        model = BookingPolicy
        fields = ["campus", "building", "room"]  # the admin's fieldsets decide the rest

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            policies.require_policy_permission(
                self.actor, room=data.get("room"), building=data.get("building"), campus=data.get("campus")
            )
            values = {name: data.get(name) for name in POLICY_FIELDS if name in data}
            policies.policy_values_check(BookingPolicy(room=data.get("room"), **values))
        except KampusError as error:
            add_domain_error(self, error)
        return data


@admin.register(BookingPolicy)
class BookingPolicyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Rules per room, with defaults per building and campus; an empty field is inherited.

    Institution facility managers set the rules of their institution's rooms; building- and
    campus-wide rules are the campus's facility managers'. Saves go through ``bookings.policies``.
    """

    form = BookingPolicyForm
    list_display = [
        "__str__",
        "owner_access",
        "other_access",
        "owner_window_days",
        "other_window_days",
        "min_duration_minutes",
        "max_duration_minutes",
        "max_active_bookings",
    ]
    list_select_related = ["campus", "building", "room", "room__building"]
    autocomplete_fields = ["room"]
    fieldsets = [
        (_("Applies to (choose one)"), {"fields": ["campus", "building", "room"]}),
        (_("Who may book"), {"fields": ["owner_access", "other_access", "owner_window_days", "other_window_days"]}),
        (
            _("Limits"),
            {
                "fields": [
                    "min_duration_minutes",
                    "max_duration_minutes",
                    "min_notice_minutes",
                    "max_advance_days",
                    "max_active_bookings",
                    "request_expiry_hours",
                ]
            },
        ),
        (_("Check-in and no-shows"), {"fields": ["check_in", "no_show_minutes"]}),
    ]

    def rights(self, scope: AdminScope, obj: BookingPolicy | None) -> frozenset[str]:
        sets = permissions.sets_policy(scope, obj)
        return rights_when(
            (permissions.sees_policy(scope, obj), {VIEW}), (sets, {CHANGE, DELETE}), (sets and obj is None, {ADD})
        )

    def scope_queryset(self, queryset: QuerySet[BookingPolicy], scope: AdminScope) -> QuerySet[BookingPolicy]:
        return queryset.filter(permissions.policies_in_scope(scope))

    def get_form(self, request: HttpRequest, obj: BookingPolicy | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        scope = admin_scope(request)
        if db_field.name == "room":
            kwargs["queryset"] = managed_rooms(request.user).select_related("building")
        elif db_field.name == "building" and not scope.is_superuser:
            kwargs["queryset"] = scope.kept_buildings()
        elif db_field.name == "campus" and not scope.is_superuser:
            kwargs["queryset"] = scope.kept_campuses()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: BookingPolicy, form: forms.ModelForm, change: bool) -> None:
        policies.policy_save(policy=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: BookingPolicy) -> None:
        policies.policy_delete(policy=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BookingPolicy]) -> None:
        for policy in queryset.select_related("room__building", "building", "campus"):
            policies.policy_delete(policy=policy, actor=request.user)


ROOM_AUTOCOMPLETE_MANAGED_ONLY.add(("bookings", "bookingpolicy", "room"))


class ClosureForm(ServiceForm):
    """Close a room or a building through ``closure_create`` (its bookers are told)."""

    class Meta:
        model = Closure
        fields = ["room", "building", "start", "end", "reason"]

    def call_service(self, data: dict[str, Any]) -> Closure | None:
        if self.instance.pk:
            return None  # a closure is not edited once made: it has told people already
        closure, self.affected = services.closure_create(
            actor=self.request.user,
            room=data.get("room"),
            building=data.get("building"),
            start=data["start"],
            end=data["end"],
            reason=data.get("reason", ""),
        )
        return closure


@admin.register(Closure)
class ClosureAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = ClosureForm
    list_display = ["start", "end", "room", "building", "reason", "created_by"]
    list_filter = ["building"]
    search_fields = ["reason", "room__code", "building__code"]
    autocomplete_fields = ["room"]
    readonly_fields = ["affected_bookings", "created_by", "created_at"]
    actions = ["cancel_affected_bookings"]

    def rights(self, scope: AdminScope, obj: Closure | None) -> frozenset[str]:
        changes = permissions.changes_closure(scope, obj)
        return rights_when(
            (permissions.sees_closure(scope, obj), {VIEW}), (changes, {CHANGE}), (changes and obj is None, {ADD})
        )

    def scope_queryset(self, queryset: QuerySet[Closure], scope: AdminScope) -> QuerySet[Closure]:
        return queryset.filter(campus_id__in=scope.campus_ids)

    def get_form(self, request: HttpRequest, obj: Closure | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        # Offer what the user may close (``services.closure_create`` refuses the rest).
        scope = admin_scope(request)
        if db_field.name == "room":
            kwargs["queryset"] = managed_rooms(request.user).select_related("building")
        elif db_field.name == "building" and not scope.is_superuser:
            kwargs["queryset"] = scope.kept_buildings()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Closure | None = None) -> list[str]:
        if obj is not None:
            obj._kampus_viewer = viewer_for(request.user)  # titles below follow their visibility
            return ["room", "building", "start", "end", "reason", *self.readonly_fields]
        return []

    def save_model(self, request: HttpRequest, obj: Closure, form: forms.ModelForm, change: bool) -> None:
        affected = getattr(form, "affected", None)
        if affected:
            self.message_user(
                request,
                ngettext(
                    "%d booking falls into the closure; its booker was told. Cancel it with the list action.",
                    "%d bookings fall into the closure; their bookers were told. Cancel them with the list action.",
                    len(affected),
                )
                % len(affected),
                level=messages.WARNING,
            )

    @admin.display(description=_("bookings in the closure"))
    def affected_bookings(self, obj: Closure) -> str:
        viewer = getattr(obj, "_kampus_viewer", None) or Viewer()
        return format_html_join(
            "\n",
            "<div>{} {} – {}</div>",
            (
                (timezone.localtime(b.start).strftime("%Y-%m-%d %H:%M"), b.room.label, viewer.display_title(b))
                for b in services.closure_affected_bookings(obj)
            ),
        ) or _("none")

    @admin.action(description=_("Cancel the bookings that fall into the selected closures"))
    def cancel_affected_bookings(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        cancelled = 0
        for closure in queryset.select_related("room__building", "building"):
            try:
                cancelled += len(services.closure_cancel_bookings(closure=closure, actor=request.user))
            except KampusError as error:
                self.message_user(request, f"{closure}: {error.message}", level=messages.ERROR)
        self.message_user(request, ngettext("%d booking cancelled.", "%d bookings cancelled.", cancelled) % cancelled)


ROOM_AUTOCOMPLETE_MANAGED_ONLY.add(("bookings", "closure", "room"))


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Rows about one booking (audit events, notifications): readable where the booking is."""

    def rights(self, scope: AdminScope, obj: Any) -> frozenset[str]:
        if obj is None:
            return rights_when((permissions.works_with_booking(scope, None), {VIEW}))
        booking = Booking.objects.select_related("room").filter(pk=obj.booking_id).first()
        return rights_when((booking is not None and permissions.works_with_booking(scope, booking), {VIEW}))

    def scope_queryset(self, queryset: QuerySet, scope: AdminScope) -> QuerySet:
        return queryset.filter(permissions.bookings_in_scope(scope, "booking__"))


@admin.register(BookingEvent)
class BookingEventAdmin(ReadOnlyAdmin):
    """The append-only audit log: readable, never editable."""

    list_display = ["at", "action", "booking", "actor_id", "reason"]
    list_select_related = ["booking__room__building", "booking__campus"]
    list_filter = ["action"]
    search_fields = ["booking__title", "reason"]
    date_hierarchy = "at"
    readonly_fields = ["at", "action", "booking", "actor_id", "before", "after", "reason"]
    fields = readonly_fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "recipient", "booking", "sent_at", "language"]
    list_select_related = ["recipient", "booking__room__building", "booking__campus"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["created_at", "kind", "recipient", "booking", "reason", "sent_at", "language", "subject"]
    fields = readonly_fields
