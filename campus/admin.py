"""Admin for facility managers and institution admins.

Who may do what is answered from memberships through campus.permissions (``RoleScope``), not from
Django's model permissions: facility managers and institution admins hold none. The admin keeps only
the glue: ``ScopedAdminMixin`` turns each admin's ``rights()`` (the scope's answers as view, add,
change and delete) and ``scope_queryset()`` into Django's permission hooks; superusers may do
everything. The rules, in short:

- a campus facility manager views, adds and changes the campus, its buildings, rooms, opening hours,
  exceptions, holidays and the equipment catalogue, and views the campus's memberships;
- an institution facility manager changes the rooms its institution owns and views the rest; a
  room's sections, booking rules and closures only ever name rooms the user manages
  (``permissions.managed_rooms``), checked again by the service that saves them;
- an institution admin views, adds, changes and deletes the memberships of their institution(s),
  except their own (``permissions.may_manage_memberships_of``);
- everyone who may use the admin views the campus's institutions, buildings, rooms and people.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core import exceptions as exceptions_django
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from campus import exceptions, permissions, services
from campus.dates import date_out_of_range_message, within_years
from campus.forms import add_domain_error
from campus.models import (
    Building,
    Campus,
    Equipment,
    Holiday,
    Institution,
    Membership,
    OpeningHours,
    OpeningHoursException,
    Room,
    TermPeriod,
    User,
)
from campus.permissions import RoleScope
from campus.personal_data import UserDeletion, person_data_export, user_delete

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL_RIGHTS = frozenset({VIEW, ADD, CHANGE, DELETE})

# Room fields of other apps' admins, as (app label, model name, field name), whose room autocomplete
# lists only the rooms the user manages (``permissions.managed_rooms``); apps add theirs at import.
ROOM_AUTOCOMPLETE_MANAGED_ONLY: set[tuple[str, str, str]] = set()


# --- Who may do what ---------------------------------------------------------------------------

AdminScope = RoleScope  # what the admin's ``rights()`` and ``scope_queryset()`` are given


def admin_scope(request: HttpRequest) -> RoleScope:
    """Return the user's role scope (``permissions.role_scope``), computed once per request."""
    scope = getattr(request, "_kampus_admin_scope", None)
    if scope is None:
        scope = permissions.role_scope(request.user)
        request._kampus_admin_scope = scope  # type: ignore[attr-defined]
    return scope


class _TolerantAutocompleteMixin:
    """Redraw a form whose search field got a value that is no id (``user=abc``) instead of failing.

    Django's autocomplete widgets look the submitted value up to show it again; a value the key
    cannot hold raised ValueError (a 500) before the form could say "Select a valid choice".
    """

    def optgroups(self, name: str, value: list[str], attr: dict | None = None):
        key = self.field.target_field  # type: ignore[attr-defined]
        kept = []
        for item in value:
            try:
                key.to_python(item)
            except exceptions_django.ValidationError:
                continue
            kept.append(item)
        return super().optgroups(name, kept, attr)  # type: ignore[misc]


class TolerantAutocompleteSelect(_TolerantAutocompleteMixin, AutocompleteSelect):
    pass


class TolerantAutocompleteSelectMultiple(_TolerantAutocompleteMixin, AutocompleteSelectMultiple):
    pass


def _tolerant(formfield: Any) -> Any:
    if formfield is not None:
        widget = formfield.widget
        if type(widget) is AutocompleteSelect:
            widget.__class__ = TolerantAutocompleteSelect
        elif type(widget) is AutocompleteSelectMultiple:
            widget.__class__ = TolerantAutocompleteSelectMultiple
    return formfield


class ScopedAdminMixin:
    """Answer the admin's permission questions from ``rights()`` and limit rows by ``scope_queryset()``.

    ``rights(scope, obj)`` returns what the user may do with ``obj`` (for inlines: with the rows of
    the parent ``obj``), or, when ``obj`` is None, with objects of the kind in general.
    """

    def rights(self, scope: AdminScope, obj: Any) -> frozenset[str]:
        raise NotImplementedError

    def scope_queryset(self, queryset: QuerySet, scope: AdminScope) -> QuerySet:
        return queryset

    def _may(self, request: HttpRequest, right: str, obj: Any = None) -> bool:
        scope = admin_scope(request)
        return scope.is_superuser or right in self.rights(scope, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        scope = admin_scope(request)
        return scope.is_superuser or bool(self.rights(scope, None))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, VIEW, obj) or self._may(request, CHANGE, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, ADD, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, CHANGE, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, DELETE, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        scope = admin_scope(request)
        return queryset if scope.is_superuser else self.scope_queryset(queryset, scope)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return _tolerant(super().formfield_for_foreignkey(db_field, request, **kwargs))  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return _tolerant(super().formfield_for_manytomany(db_field, request, **kwargs))  # type: ignore[misc]


def rights_when(*granted: tuple[bool, frozenset[str] | set[str]]) -> frozenset[str]:
    """Return the union of the rights whose condition holds."""
    result: set[str] = set()
    for condition, rights in granted:
        if condition:
            result |= rights
    return frozenset(result)


class ParentRightsInline(ScopedAdminMixin):
    """An inline whose rows the user may edit when they may change the parent, and view when they may view it."""

    rights_with_changeable_parent: ClassVar[frozenset[str]] = ALL_RIGHTS

    def rights(self, scope: AdminScope, obj: Any) -> frozenset[str]:
        parent_admin = self.admin_site.get_model_admin(self.parent_model)  # type: ignore[attr-defined]
        parent_rights = parent_admin.rights(scope, obj)
        return rights_when(
            (VIEW in parent_rights, {VIEW}), (CHANGE in parent_rights, self.rights_with_changeable_parent)
        )


# --- Campus and institutions -----------------------------------------------------------------


class HolidayInline(ParentRightsInline, TranslationTabularInline):
    """The campus's holidays with a name column per language (campus/translation.py)."""

    model = Holiday
    extra = 0
    fields = ["date", "name"]


@admin.register(Campus)
class CampusAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "time_zone", "holiday_country", "address"]
    search_fields = ["name"]
    inlines = [HolidayInline]

    def rights(self, scope: AdminScope, obj: Campus | None) -> frozenset[str]:
        campus_id = None if obj is None else obj.pk
        return rights_when((scope.sees_campus(campus_id), {VIEW}), (scope.keeps_campus(campus_id), {CHANGE}))

    def scope_queryset(self, queryset: QuerySet[Campus], scope: AdminScope) -> QuerySet[Campus]:
        return queryset.filter(pk__in=scope.campus_ids)


@admin.register(Institution)
class InstitutionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "short_code", "kind", "campus", "cost_centre"]
    list_filter = ["kind", ("campus", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["campus"]
    search_fields = ["name", "short_code"]

    def rights(self, scope: AdminScope, obj: Institution | None) -> frozenset[str]:
        return rights_when((scope.sees_campus(None if obj is None else obj.campus_id), {VIEW}))

    def scope_queryset(self, queryset: QuerySet[Institution], scope: AdminScope) -> QuerySet[Institution]:
        return queryset.filter(campus_id__in=scope.campus_ids)


# --- Buildings, rooms and equipment ----------------------------------------------------------


class RoomInline(ParentRightsInline, admin.TabularInline):
    """The building's rooms in brief; each links to its full page."""

    model = Room
    extra = 0
    fields = ["code", "name", "kind", "capacity", "owner", "is_bookable"]
    show_change_link = True
    # Rooms carry bookings: deleting one is a superuser's decision, made on the room's own page.
    rights_with_changeable_parent = frozenset({VIEW, ADD, CHANGE})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        return super().get_queryset(request).select_related("owner", "building")

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "owner":
            kwargs["queryset"] = admin_scope(request).visible_institutions()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BuildingOpeningHoursInline(ParentRightsInline, admin.TabularInline):
    model = OpeningHours
    fk_name = "building"
    extra = 0
    fields = ["weekday", "opens", "closes"]
    verbose_name = _("weekly opening hours")
    verbose_name_plural = _("weekly opening hours (a weekday without a row is closed)")


class OpeningHoursExceptionInline(ParentRightsInline, TranslationTabularInline):
    model = OpeningHoursException
    extra = 0
    fields = ["date", "closed", "opens", "closes", "reason"]


@admin.register(Building)
class BuildingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "campus", "room_count"]
    list_filter = [("campus", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["campus"]
    search_fields = ["code", "name", "address"]
    inlines = [RoomInline, BuildingOpeningHoursInline, OpeningHoursExceptionInline]

    def rights(self, scope: AdminScope, obj: Building | None) -> frozenset[str]:
        campus_id = None if obj is None else obj.campus_id
        return rights_when((scope.sees_campus(campus_id), {VIEW}), (scope.keeps_campus(campus_id), {ADD, CHANGE}))

    def scope_queryset(self, queryset: QuerySet[Building], scope: AdminScope) -> QuerySet[Building]:
        return queryset.filter(campus_id__in=scope.campus_ids)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Building]:
        return super().get_queryset(request).annotate(room_count=Count("rooms"))

    @admin.display(description=_("rooms"), ordering="room_count")
    def room_count(self, obj: Building) -> int:
        return obj.room_count

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "campus" and not admin_scope(request).is_superuser:
            kwargs["queryset"] = admin_scope(request).kept_campuses()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CapacityFilter(admin.SimpleListFilter):
    """Rooms by size class."""

    title = _("capacity")
    parameter_name = "capacity_range"
    ranges: ClassVar[dict[str, tuple[int | None, int | None]]] = {
        "1-10": (None, 10),
        "11-30": (11, 30),
        "31-60": (31, 60),
        "61-": (61, None),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [
            ("1-10", _("up to 10")),
            ("11-30", "11–30"),
            ("31-60", "31–60"),
            ("61-", _("over 60")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Room]) -> QuerySet[Room]:
        if self.value() not in self.ranges:
            return queryset
        low, high = self.ranges[self.value()]
        if low is not None:
            queryset = queryset.filter(capacity__gte=low)
        if high is not None:
            queryset = queryset.filter(capacity__lte=high)
        return queryset


class OwnerFilter(admin.SimpleListFilter):
    """Rooms by owner institution, or the campus's shared rooms."""

    title = _("owner")
    parameter_name = "owner"
    shared = "shared"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        owners = Institution.objects.filter(pk__in=model_admin.get_queryset(request).values("owner_id"))
        return [(self.shared, _("Shared (no owner)")), *((str(i.pk), i.name) for i in owners.order_by("name"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Room]) -> QuerySet[Room]:
        value = self.value()
        if value == self.shared:
            return queryset.filter(owner__isnull=True)
        if value and value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset


class RoomOpeningHoursInline(ParentRightsInline, admin.TabularInline):
    model = OpeningHours
    fk_name = "room"
    extra = 0
    fields = ["weekday", "opens", "closes"]
    verbose_name = _("room's own opening hours")
    verbose_name_plural = _("room's own opening hours (any row here replaces the building's hours for this room)")


class RoomAdminForm(forms.ModelForm):
    """The room form: sections are other rooms of the building that the user keeps, unchanged under bookings.

    ``actor`` (set by ``RoomAdmin.get_form``) is the signed-in user; the sections it may choose are
    the rooms it manages (``permissions.managed_rooms``) plus the room's current sections, and the
    save goes through ``services.room_sections_set``, which checks the same rule again.
    """

    actor: User

    class Meta:
        model = Room
        fields = ["building", "code", "name", "sections"]  # the admin's fieldsets decide the rest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("sections")
        if field is not None:
            current = list(self.instance.sections.values_list("pk", flat=True)) if self.instance.pk else []
            field.queryset = (
                Room.objects.filter(Q(pk__in=permissions.managed_rooms(self.actor).values("pk")) | Q(pk__in=current))
                .exclude(pk=self.instance.pk)
                .select_related("building")
            )

    def _post_clean(self) -> None:
        super()._post_clean()  # the instance now carries the form's building
        if "sections" not in self.cleaned_data or self.errors.get("sections"):
            return
        try:
            services.room_sections_check(room=self.instance, sections=self.cleaned_data["sections"], actor=self.actor)
        except exceptions.KampusError as error:
            add_domain_error(self, error, field="sections")
            return
        if self.instance.pk and "sections" in self.changed_data:
            from bookings.signals import refuse_section_change_under_bookings  # the bookings app's guard

            wanted = {section.pk for section in self.cleaned_data["sections"]}
            try:
                refuse_section_change_under_bookings(Room, self.instance, "pre_add", wanted)
            except exceptions.KampusError as error:
                add_domain_error(self, error, field="sections")

    def _save_m2m(self) -> None:
        sections = self.cleaned_data.pop("sections", None)
        super()._save_m2m()
        if sections is not None:
            services.room_sections_set(room=self.instance, sections=sections, actor=self.actor)


@admin.register(Room)
class RoomAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = RoomAdminForm
    list_display = ["code", "name", "building", "kind", "capacity", "owner_or_shared", "is_bookable", "step_free"]
    list_display_links = ["code", "name"]
    list_filter = [
        ("building", admin.RelatedOnlyFieldListFilter),
        "kind",
        OwnerFilter,
        CapacityFilter,
        "equipment",
        "step_free",
        "is_bookable",
    ]
    list_select_related = ["building", "owner"]
    search_fields = ["code", "name", "building__code", "description"]
    filter_horizontal = ["equipment", "sections"]
    inlines = [RoomOpeningHoursInline]
    fieldsets = [
        (None, {"fields": ["building", "floor", "code", "name", "kind", "capacity", "area_m2", "equipment"]}),
        (_("Description"), {"fields": ["description"]}),
        (_("Accessibility"), {"fields": ["step_free", "induction_loop", "accessible_toilet_nearby"]}),
        (_("Booking settings"), {"fields": ["owner", "is_bookable", "public_feed", "buffer_minutes", "sections"]}),
    ]

    def rights(self, scope: AdminScope, obj: Room | None) -> frozenset[str]:
        # The campus's facility services keep its whole room inventory and add rooms; an institution's
        # facility managers keep the rooms it owns (whose bookings they also decide).
        campus_id = None if obj is None else obj.building.campus_id
        return rights_when(
            (scope.sees_campus(campus_id), {VIEW}),
            (scope.keeps_campus(campus_id), {ADD, CHANGE}),
            (scope.keeps_room(obj), {CHANGE}),
        )

    def scope_queryset(self, queryset: QuerySet[Room], scope: AdminScope) -> QuerySet[Room]:
        return queryset.filter(building__campus_id__in=scope.campus_ids)

    @admin.display(description=_("owner"), ordering="owner__name")
    def owner_or_shared(self, obj: Room) -> str:
        return obj.owner.name if obj.owner else _("Shared")

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> list[str]:
        scope = admin_scope(request)
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not scope.keeps_campus(obj.building.campus_id):
            # An institution's facility manager runs its rooms but cannot move or give them away.
            readonly += ["building", "owner"]
        return readonly

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        scope = admin_scope(request)
        if db_field.name == "building" and not scope.is_superuser:
            kwargs["queryset"] = scope.kept_buildings()
        elif db_field.name == "owner":
            kwargs["queryset"] = admin_scope(request).visible_institutions()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Room | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Room], search_term: str
    ) -> tuple[QuerySet[Room], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        asked_for = (request.GET.get("app_label"), request.GET.get("model_name"), request.GET.get("field_name"))
        if asked_for in ROOM_AUTOCOMPLETE_MANAGED_ONLY:
            # Autocomplete for a field that only takes rooms the user manages (rules, closures).
            queryset = queryset.filter(pk__in=permissions.managed_rooms(request.user).values("pk"))
        return queryset, may_have_duplicates


@admin.register(Equipment)
class EquipmentAdmin(ScopedAdminMixin, TranslationAdmin):
    """The equipment catalogue, shared by all campuses of the installation; a name per language."""

    list_display = ["name", "code", "room_count"]
    search_fields = ["name_fi", "name_sv", "name_en", "code"]
    prepopulated_fields = {"code": ["name"]}

    def rights(self, scope: AdminScope, obj: Equipment | None) -> frozenset[str]:
        # One catalogue for every campus: any campus's facility managers add to it.
        return rights_when((scope.sees_campus(None), {VIEW}), (scope.keeps_campus(None), {ADD, CHANGE}))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Equipment]:
        return super().get_queryset(request).annotate(room_count=Count("rooms"))

    @admin.display(description=_("rooms"), ordering="room_count")
    def room_count(self, obj: Equipment) -> int:
        return obj.room_count


# --- People ------------------------------------------------------------------------------------


class ValidTodayFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("current", _("Valid today")), ("expired", _("Expired")), ("future", _("Not yet valid"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> QuerySet[Membership]:
        today = timezone.localdate()
        if self.value() == "current":
            return queryset.valid_on(today)
        if self.value() == "expired":
            return queryset.filter(valid_until__lt=today)
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        return queryset


# About 30,000 members: more than any institution has; a larger upload is refused before it is read.
MEMBER_FILE_MAX_BYTES = 2 * 1024 * 1024


class MembershipImportForm(forms.Form):
    """Upload of a CSV file of members for one institution."""

    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), label=_("Institution"))
    file = forms.FileField(
        label=_("CSV file"), help_text=_("UTF-8 text with a header row; see the columns described on this page.")
    )

    def __init__(self, *args: Any, institutions: QuerySet[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        if institutions.count() == 1:
            self.fields["institution"].initial = institutions.first()

    def clean_file(self) -> str:
        """Return the uploaded file's text; refuse a file over ``MEMBER_FILE_MAX_BYTES``."""
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MEMBER_FILE_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB: import the members in several smaller files.")
                % {"size": MEMBER_FILE_MAX_BYTES // (1024 * 1024)}
            )
        try:
            return upload.read(MEMBER_FILE_MAX_BYTES + 1).decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise forms.ValidationError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
            ) from error


class MembershipAdminForm(forms.ModelForm):
    """A membership; nobody but a superuser grants or changes their own."""

    actor: User

    class Meta:
        model = Membership
        fields = ["user"]  # the admin's get_fields decides the rest

    def clean_user(self) -> User:
        user = self.cleaned_data["user"]
        if not permissions.may_manage_memberships_of(self.actor, username=user.get_username()):
            raise forms.ValidationError(
                _("You cannot grant or change your own memberships; ask another admin of the institution.")
            )
        return user


@admin.register(Membership)
class MembershipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "role", "where", "valid_from", "valid_until", "valid_today"]
    list_filter = [
        "role",
        ("institution", admin.RelatedOnlyFieldListFilter),
        ("campus", admin.RelatedOnlyFieldListFilter),
        ValidTodayFilter,
    ]
    list_select_related = ["user", "institution", "campus"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    autocomplete_fields = ["user"]
    ordering = ["user__username", "role"]

    def rights(self, scope: AdminScope, obj: Membership | None) -> frozenset[str]:
        return rights_when((scope.sees_membership(obj), {VIEW}), (scope.runs_membership(obj), ALL_RIGHTS))

    def scope_queryset(self, queryset: QuerySet[Membership], scope: AdminScope) -> QuerySet[Membership]:
        return queryset.filter(scope.memberships())

    @admin.display(description=_("institution or campus"))
    def where(self, obj: Membership) -> str:
        return str(obj.institution or obj.campus)

    @admin.display(description=_("valid today"), boolean=True)
    def valid_today(self, obj: Membership) -> bool:
        return obj.is_valid_on(timezone.localdate())

    def get_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        scope = admin_scope(request)
        fields = ["user", "institution", "campus", "role", "valid_from", "valid_until"]
        if not scope.keeps_campus(None):
            # Institution admins grant roles at their institutions only, never at the campus.
            fields.remove("campus")
        return fields

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        scope = admin_scope(request)
        if not scope.is_superuser:
            if db_field.name == "institution":
                kwargs["queryset"] = scope.administered_institutions()
                kwargs["required"] = True
            elif db_field.name == "user":
                kwargs["queryset"] = self.admin_site.get_model_admin(User).get_queryset(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Membership | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_urls(self) -> list:
        import_view = self.admin_site.admin_view(self.import_csv_view)
        return [path("import/", import_view, name="campus_membership_import"), *super().get_urls()]

    def import_csv_view(self, request: HttpRequest) -> HttpResponse:
        """Render and handle the page that imports an institution's members from a CSV file."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        institutions = admin_scope(request).administered_institutions()
        errors: list[dict[str, Any]] = []
        if request.method == "POST":
            form = MembershipImportForm(request.POST, request.FILES, institutions=institutions)
            if form.is_valid():
                institution = form.cleaned_data["institution"]
                try:
                    result = services.memberships_import_csv(
                        institution=institution, csv_text=form.cleaned_data["file"], actor=request.user
                    )
                except exceptions.InvalidInput as error:
                    errors = list(error.extra.get("errors", []))
                    form.add_error(None, error.message)
                except exceptions.PermissionDenied as error:
                    add_domain_error(form, error, field="institution")
                else:
                    messages.success(request, _import_summary(result, institution))
                    changelist = reverse("admin:campus_membership_changelist")
                    return HttpResponseRedirect(f"{changelist}?institution__id__exact={institution.pk}")
        else:
            form = MembershipImportForm(institutions=institutions)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import members from CSV"),
            "opts": self.opts,
            "form": form,
            "errors": errors,
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/campus/membership/import_csv.html", context)


def _import_summary(result: services.MembershipImportResult, institution: Institution) -> str:
    """Return the message that reports a finished import."""
    return _("Members of %(institution)s imported: %(counts)s.") % {"institution": institution, "counts": result}


class MembershipInline(ScopedAdminMixin, admin.TabularInline):
    """A user's memberships, as far as the viewer may see them."""

    model = Membership
    fk_name = "user"
    extra = 0
    fields = ["institution", "campus", "role", "valid_from", "valid_until"]

    def rights(self, scope: AdminScope, obj: User | None) -> frozenset[str]:
        # Memberships are granted on their own pages (or by import); here they are listed.
        return rights_when((scope.sees_membership(None), {VIEW}))

    def scope_queryset(self, queryset: QuerySet[Membership], scope: AdminScope) -> QuerySet[Membership]:
        return queryset.filter(scope.memberships())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("institution", "campus")


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    """Accounts, with their language and memberships; only superusers change them here."""

    fieldsets = [
        (name, {**options, "fields": [*options["fields"], "preferred_language"]})
        if "email" in options["fields"]
        else (name, options)
        for name, options in DjangoUserAdmin.fieldsets
    ]
    list_display = ["username", "email", "first_name", "last_name", "preferred_language", "is_active"]
    list_filter = [*DjangoUserAdmin.list_filter, "preferred_language"]
    inlines = [MembershipInline]
    actions = ["export_personal_data"]

    def rights(self, scope: AdminScope, obj: User | None) -> frozenset[str]:
        return rights_when((scope.sees_campus(None), {VIEW}))

    def scope_queryset(self, queryset: QuerySet[User], scope: AdminScope) -> QuerySet[User]:
        """Return the people of the user's campuses, and accounts that have no membership yet."""
        return queryset.filter(scope.people())

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> list:
        if obj is not None and not admin_scope(request).is_superuser:
            # Viewers see who the person is, not their password hash or Django permissions.
            return [
                (None, {"fields": ["username"]}),
                (self.fieldsets[1][0], {"fields": ["first_name", "last_name", "email", "preferred_language"]}),
            ]
        return super().get_fieldsets(request, obj)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.action(description=_("Export personal data (JSON)"), permissions=["export"])
    def export_personal_data(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse:
        """Answer a JSON file with the personal data of the chosen people (superusers only)."""
        people = [person_data_export(user=user) for user in queryset.order_by("username")]
        response = JsonResponse(people, safe=False, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = 'attachment; filename="kampus-personal-data.json"'
        response["Cache-Control"] = "no-store"
        return response

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        """Delete the person through the service that keeps the utilisation history, and say what it did."""
        _tell_deletion(request, user_delete(user=obj, actor=request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        with transaction.atomic():
            deletions = [user_delete(user=user, actor=request.user) for user in queryset]
        for deletion in deletions:
            _tell_deletion(request, deletion)


def _tell_deletion(request: HttpRequest, deletion: UserDeletion) -> None:
    """Tell the admin what deleting a person did to their bookings (the admin's own message names the account)."""
    messages.info(
        request,
        _(
            "%(user)s: %(cancelled)s future bookings cancelled, %(kept)s future bookings made for others kept, "
            "%(anonymised)s bookings anonymised; the room use figures stay as they were."
        )
        % {
            "user": deletion.username,
            "cancelled": deletion.counts.get("future_bookings_cancelled", 0),
            "kept": deletion.counts.get("future_bookings_kept_for_others", 0),
            "anonymised": deletion.counts.get("bookings_anonymised", 0),
        },
    )


# --- Term calendars ----------------------------------------------------------------------------


class TermPeriodAdminForm(forms.ModelForm):
    """A term or a break; the calendar's owner must be one whose calendar the person edits."""

    class Meta:
        model = TermPeriod
        fields = ["institution", "campus", "kind", "name", "start", "end"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        institution, campus = data.get("institution"), data.get("campus")
        for name in ("start", "end"):
            if data.get(name) and not within_years(data[name]):
                self.add_error(name, date_out_of_range_message())
        if (institution is None) == (campus is None):
            raise forms.ValidationError(_("Choose the institution or the campus whose calendar this is, not both."))
        if self.user is not None and not permissions.may_edit_term_calendar(
            self.user,
            institution_id=institution.pk if institution else None,
            campus_id=campus.pk if campus else None,
        ):
            raise forms.ValidationError(
                _(
                    _(
                        "You may edit only the term calendar of your own institution "
                        "(or, as its facility manager, the campus's)."
                    )
                )
            )
        return data


@admin.register(TermPeriod)
class TermPeriodAdmin(ScopedAdminMixin, TranslationAdmin):
    """Terms and breaks: institution admins and facility managers edit their own, the campus's FMs the campus's."""

    form = TermPeriodAdminForm
    list_display = ["name", "kind", "start", "end", "institution", "campus"]
    list_filter = ["kind", "institution", "campus"]
    search_fields = ["name"]
    date_hierarchy = "start"

    def rights(self, scope: AdminScope, obj: Any) -> frozenset[str]:
        if obj is None:
            return rights_when((scope.keeps_term_calendar(), ALL_RIGHTS))
        if obj.institution_id:
            return rights_when((scope.keeps_term_calendar(institution_id=obj.institution_id), ALL_RIGHTS))
        return rights_when((scope.keeps_term_calendar(campus_id=obj.campus_id), ALL_RIGHTS))

    def scope_queryset(self, queryset: QuerySet, scope: AdminScope) -> QuerySet:
        return queryset.filter(scope.term_calendars())

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any):
        form_class = super().get_form(request, obj, **kwargs)
        user = request.user

        class BoundToUser(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **form_kwargs: Any) -> None:
                super().__init__(*args, user=user, **form_kwargs)

        return BoundToUser

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        scope = admin_scope(request)
        if not scope.is_superuser and db_field.name == "institution":
            kwargs["queryset"] = Institution.objects.filter(pk__in=scope.term_calendar_institution_ids)
        if not scope.is_superuser and db_field.name == "campus":
            kwargs["queryset"] = scope.kept_campuses()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
