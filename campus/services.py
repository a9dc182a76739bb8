"""Writes of the campus domain: room inventory, memberships, holidays.

Every function here is the one place its rule lives; the management commands, the admin and the
API call these instead of saving models themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import holidays
from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.dates import date_out_of_range_message, within_years
from campus.exceptions import InvalidInput, PermissionDenied
from campus.models import (
    Building,
    Campus,
    Equipment,
    Heartbeat,
    HeartbeatKind,
    Holiday,
    Institution,
    Language,
    Membership,
    Role,
    Room,
    TermKind,
    TermPeriod,
    User,
)
from campus.permissions import (
    ADMIN_ROLES,
    may_edit_term_calendar,
    may_import_members,
    may_manage_memberships_of,
    may_manage_room,
)
from campus.room_import import (
    PROGRESS_EVERY,
    CellError,
    CsvImportRefused,
    CsvRecord,
    ProgressCallback,
    RoomRow,
    RowError,
    csv_records,
    parse_iso_or_finnish_date,
)


@dataclass
class ImportResult:
    """How many rows of an import created, changed or left alone a record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def __str__(self) -> str:
        return _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass
class MembershipImportResult(ImportResult):
    """Counts of memberships, plus how many users the import created."""

    users_created: int = 0

    def __str__(self) -> str:
        return _("%(counts)s; %(users)s new user(s)") % {"counts": super().__str__(), "users": self.users_created}


# --- Rooms ----------------------------------------------------------------------------------

# Optional CSV column → Room field it sets (required columns always set name, kind and capacity).
_ROOM_FIELD_OF_COLUMN = {
    "floor": "floor",
    "area_m2": "area_m2",
    "step_free": "step_free",
    "induction_loop": "induction_loop",
    "accessible_toilet_nearby": "accessible_toilet_nearby",
    "bookable": "is_bookable",
    "public_feed": "public_feed",
    "buffer_minutes": "buffer_minutes",
    "description": "description",
}


@transaction.atomic
def rooms_import(*, campus: Campus, rows: Sequence[RoomRow], progress: ProgressCallback | None = None) -> ImportResult:
    """Create or update the rooms of ``rows`` on ``campus``, all or nothing; raise CsvImportRefused.

    ``rows`` come from ``campus.room_import.room_rows_parse``. A room is matched by building and
    code; optional columns the file lacks keep their stored values, and a listed ``equipment`` or
    ``sections`` column replaces the room's whole set. ``progress(done, total)`` is called every
    ``PROGRESS_EVERY`` rows.
    """
    buildings = {building.code: building for building in Building.objects.filter(campus=campus)}
    owners = {institution.short_code: institution for institution in Institution.objects.filter(campus=campus)}
    equipment = {item.code: item for item in Equipment.objects.all()}
    rooms = {
        (room.building.code, room.code): room
        for room in Room.objects.filter(building__campus=campus)
        .select_related("building")
        .prefetch_related("equipment", "sections")
    }
    result = ImportResult()
    status: dict[tuple[str, str], str] = {}
    errors: list[RowError] = []

    for done, row in enumerate(rows, start=1):
        building = buildings.get(row.building)
        if building is None:
            errors.append(RowError(row.line, "building", _("no such building on this campus")))
            continue
        wanted: dict[str, object] = {"name": row.name, "kind": row.kind, "capacity": row.capacity}
        for column, field in _ROOM_FIELD_OF_COLUMN.items():
            if column in row.given:
                wanted[field] = getattr(row, field)
        if "owner" in row.given:
            if row.owner is not None and row.owner not in owners:
                errors.append(RowError(row.line, "owner", _("no such institution on this campus")))
                continue
            wanted["owner_id"] = owners[row.owner].pk if row.owner else None
        wanted_equipment = None
        if "equipment" in row.given:
            missing = [code for code in row.equipment if code not in equipment]
            if missing:
                errors.append(RowError(row.line, "equipment", _("unknown code(s) %s") % ", ".join(missing)))
                continue
            wanted_equipment = {equipment[code].pk for code in row.equipment}

        room = rooms.get(row.key)
        if room is None:
            room = Room.objects.create(building=building, code=row.code, **wanted)
            rooms[row.key] = room
            status[row.key] = "created"
            if wanted_equipment:
                room.equipment.set(wanted_equipment)
        else:
            changed = [field for field, value in wanted.items() if getattr(room, field) != value]
            for field in changed:
                setattr(room, field, wanted[field])
            if changed:
                room.save(update_fields=[field.removesuffix("_id") for field in changed])
            if wanted_equipment is not None and wanted_equipment != {item.pk for item in room.equipment.all()}:
                room.equipment.set(wanted_equipment)
                changed.append("equipment")
            status[row.key] = "updated" if changed else "unchanged"
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(rows)):
            progress(done, len(rows))

    for row in rows:
        if "sections" not in row.given or row.key not in status:
            continue
        room = rooms[row.key]
        missing = [code for code in row.sections if (row.building, code) not in rooms]
        if missing:
            errors.append(RowError(row.line, "sections", _("no such room(s) %s") % ", ".join(missing)))
            continue
        wanted_sections = {rooms[(row.building, code)].pk for code in row.sections}
        current = set() if status[row.key] == "created" else {section.pk for section in room.sections.all()}
        if wanted_sections != current:
            room.sections.set(wanted_sections)
            if status[row.key] == "unchanged":
                status[row.key] = "updated"

    if errors:
        raise CsvImportRefused(errors)
    for value in status.values():
        result.count(value)
    return result


def room_sections_check(*, room: Room, sections: Iterable[Room], actor: User) -> None:
    """Refuse ``sections`` for ``room`` unless they are other, undivided rooms of its building that ``actor`` keeps.

    Only sections being added need ``actor``'s say (``permissions.may_manage_room``): a section the
    room already has may stay. Raise PermissionDenied or InvalidInput naming the rooms.
    """
    sections = list(sections)
    current = set(room.sections.values_list("pk", flat=True)) if room.pk else set()
    foreign = [s for s in sections if s.pk not in current and not may_manage_room(actor, s)]
    if foreign:
        message = _("You may combine only rooms you manage; not %(rooms)s.") % {
            "rooms": ", ".join(str(s) for s in foreign)
        }
        raise PermissionDenied(message, errors=[{"field": "sections", "message": message}])
    problems = []
    for section in sections:
        if room.pk is not None and section.pk == room.pk:
            problems.append(_("a room cannot be a section of itself"))
        elif section.building_id != room.building_id:
            problems.append(_("%(room)s is in another building") % {"room": section})
        elif section.sections.exists():
            problems.append(
                _("%(room)s is itself combined from sections; name its sections instead") % {"room": section}
            )
    if problems:
        message = _("Sections must be other, undivided rooms of the same building: %(problems)s.") % {
            "problems": "; ".join(problems)
        }
        raise InvalidInput(message, errors=[{"field": "sections", "message": message}])


@transaction.atomic
def room_sections_set(*, room: Room, sections: Iterable[Room], actor: User) -> Room:
    """Make ``sections`` the parts of the divisible ``room``, as ``actor`` (see ``room_sections_check``)."""
    sections = list(sections)
    room_sections_check(room=room, sections=sections, actor=actor)
    room.sections.set(sections)
    return room


# --- Memberships ----------------------------------------------------------------------------

MEMBER_REQUIRED_COLUMNS = ("username", "role")
MEMBER_OPTIONAL_COLUMNS = ("email", "first_name", "last_name", "valid_from", "valid_until", "language")

_username_validator = UnicodeUsernameValidator()
_USERNAME_MAX = User._meta.get_field("username").max_length
_NAME_MAX = User._meta.get_field("first_name").max_length
_EMAIL_MAX = User._meta.get_field("email").max_length


@dataclass(frozen=True)
class _MemberRow:
    line: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    language: str
    given: frozenset[str]


def _membership_upsert(
    *,
    user: User,
    role: str,
    institution: Institution | None,
    campus: Campus | None,
    validity: tuple[dt.date | None, dt.date | None] | None,
) -> tuple[Membership, str]:
    """Create or update the membership; ``validity`` None keeps a stored one's dates. Return it and its status."""
    if role not in Role.values:
        raise InvalidInput(
            _("Unknown role %(role)s.") % {"role": role}, errors=[{"field": "role", "message": _("unknown role")}]
        )
    if (institution is None) == (campus is None):
        raise InvalidInput(_("A membership is at an institution or at the campus, not both or neither."))
    if validity is not None and validity[0] and validity[1] and validity[0] > validity[1]:
        raise InvalidInput(
            _("Valid until must not be before valid from."),
            errors=[{"field": "valid_until", "message": _("must not be before valid from")}],
        )
    membership = Membership.objects.filter(user=user, role=role, institution=institution, campus=campus).first()
    if membership is None:
        valid_from, valid_until = validity or (None, None)
        membership = Membership.objects.create(
            user=user,
            role=role,
            institution=institution,
            campus=campus,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        status = "created"
    elif validity is not None and (membership.valid_from, membership.valid_until) != validity:
        membership.valid_from, membership.valid_until = validity
        membership.save(update_fields=["valid_from", "valid_until"])
        status = "updated"
    else:
        status = "unchanged"
    if role in ADMIN_ROLES and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return membership, status


@transaction.atomic
def membership_grant(
    *,
    user: User,
    role: str,
    institution: Institution | None = None,
    campus: Campus | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> Membership:
    """Give ``user`` ``role`` at an institution or the campus (exactly one) for the inclusive dates given.

    A membership with the same user, role and place is updated to the dates given. Facility
    managers and institution admins get ``is_staff`` so that they can sign in to the admin.
    """
    membership, _status = _membership_upsert(
        user=user, role=role, institution=institution, campus=campus, validity=(valid_from, valid_until)
    )
    return membership


@transaction.atomic
def membership_end(*, membership: Membership, on: dt.date) -> Membership:
    """End ``membership`` so that ``on`` is its last valid day; an earlier end stays as it is.

    Raise InvalidInput when the membership only starts after ``on`` (delete it instead).
    """
    if membership.valid_from is not None and membership.valid_from > on:
        raise InvalidInput(
            _("The membership starts on %(start)s, after %(end)s; delete it instead of ending it.")
            % {"start": membership.valid_from.isoformat(), "end": on.isoformat()}
        )
    if membership.valid_until is None or membership.valid_until > on:
        membership.valid_until = on
        membership.save(update_fields=["valid_until"])
    return membership


@transaction.atomic
def memberships_import_csv(*, institution: Institution, csv_text: str, actor: User) -> MembershipImportResult:
    """Create or update ``institution``'s memberships from a members CSV, all or nothing.

    Columns: username, role (required); email, first_name, last_name, valid_from, valid_until,
    language. Missing users are created without a usable password (they set one through password
    reset), so a new user needs an e-mail address. Existing users keep their details (only empty
    names and language are filled in); an e-mail address differing from theirs is an error. Raise
    PermissionDenied unless ``actor`` is an active superuser or an admin of ``institution``, and
    CsvImportRefused listing every line-numbered error.
    """
    if not may_import_members(actor, institution_id=institution.pk):
        raise PermissionDenied(
            _("Only the admins of %(institution)s may import its members.") % {"institution": institution}
        )

    header, records, errors = csv_records(csv_text, required=MEMBER_REQUIRED_COLUMNS, optional=MEMBER_OPTIONAL_COLUMNS)
    given = frozenset(column for column in header if column in MEMBER_OPTIONAL_COLUMNS)
    rows = []
    for record in records:
        row = _member_row(record, given=given, errors=errors)
        if row is not None:
            rows.append(row)
    errors.extend(_member_rows_check(rows))
    errors.extend(
        RowError(row.line, "username", _("is you: nobody changes their own memberships; ask another admin"))
        for row in rows
        if not may_manage_memberships_of(actor, username=row.username)
    )
    if errors:
        raise CsvImportRefused(errors)

    users = {user.username: user for user in User.objects.filter(username__in={row.username for row in rows})}
    result = MembershipImportResult()
    for row in rows:
        user = users.get(row.username)
        user_changed = False
        if user is None:
            user = User(
                username=row.username,
                email=row.email,
                first_name=row.first_name,
                last_name=row.last_name,
                preferred_language=row.language,
            )
            user.set_unusable_password()
            user.save()
            users[row.username] = user
            result.users_created += 1
        else:
            for field in ("first_name", "last_name"):
                if not getattr(user, field) and getattr(row, field):
                    setattr(user, field, getattr(row, field))
                    user_changed = True
            if not user.preferred_language and row.language:
                user.preferred_language = row.language
                user_changed = True
            if user_changed:
                user.save(update_fields=["first_name", "last_name", "preferred_language"])
        validity = None
        if {"valid_from", "valid_until"} & row.given:
            validity = (row.valid_from, row.valid_until)
        _membership, status = _membership_upsert(
            user=user, role=row.role, institution=institution, campus=None, validity=validity
        )
        result.count("updated" if status == "unchanged" and user_changed else status)
    return result


def _member_row(record: CsvRecord, *, given: frozenset[str], errors: list[RowError]) -> _MemberRow | None:
    """Return the checked row of ``record``, or None after adding its errors to ``errors``."""
    count_before = len(errors)

    def error(column: str, message: str) -> None:
        errors.append(RowError(record.line, column, message))

    username = record.get("username")
    if not username:
        error("username", _("is required"))
    elif len(username) > _USERNAME_MAX:
        error("username", _("must be at most %(max)s characters") % {"max": _USERNAME_MAX})
    else:
        try:
            _username_validator(username)
        except ValidationError:
            error(
                "username", _('may contain only letters, digits and @ . + - _ (got "%(value)s")') % {"value": username}
            )
    email = record.get("email")
    if email:
        try:
            if len(email) > _EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            error("email", _('is not an e-mail address (got "%(value)s")') % {"value": email})
    for column in ("first_name", "last_name"):
        if len(record.get(column)) > _NAME_MAX:
            error(column, _("must be at most %(max)s characters") % {"max": _NAME_MAX})
    role = record.get("role").lower()
    if role not in Role.values:
        error(
            "role",
            _('must be one of %(roles)s (got "%(value)s")')
            % {"roles": ", ".join(Role.values), "value": record.get("role")},
        )
    dates = {}
    for column in ("valid_from", "valid_until"):
        try:
            dates[column] = parse_iso_or_finnish_date(record.get(column))
        except CellError as exc:
            error(column, str(exc))
    if dates.get("valid_from") and dates.get("valid_until") and dates["valid_from"] > dates["valid_until"]:
        error(
            "valid_until",
            _("must not be before valid_from (%(start)s)") % {"start": dates["valid_from"].isoformat()},
        )
    language = record.get("language").lower()
    if language and language not in Language.values:
        error(
            "language",
            _('must be one of %(languages)s or empty (got "%(value)s")')
            % {"languages": ", ".join(Language.values), "value": record.get("language")},
        )
    if len(errors) > count_before:
        return None
    return _MemberRow(
        line=record.line,
        username=username,
        email=email,
        first_name=record.get("first_name"),
        last_name=record.get("last_name"),
        role=role,
        valid_from=dates["valid_from"],
        valid_until=dates["valid_until"],
        language=language,
        given=given,
    )


def _member_rows_check(rows: list[_MemberRow]) -> list[RowError]:
    """Check the rows against each other and the stored users: repeats, e-mail addresses."""
    errors = []
    first_line: dict[tuple[str, str], int] = {}
    username_of_email: dict[str, str] = {}
    for row in rows:
        if row.email and username_of_email.setdefault(row.email.lower(), row.username) != row.username:
            errors.append(
                RowError(
                    row.line,
                    "email",
                    _("is also given for user %(username)s in this file")
                    % {"username": username_of_email[row.email.lower()]},
                )
            )
        key = (row.username, row.role)
        if key in first_line:
            errors.append(
                RowError(
                    row.line,
                    "role",
                    _("%(username)s already has this role on line %(line)s")
                    % {"username": row.username, "line": first_line[key]},
                )
            )
        first_line.setdefault(key, row.line)

    stored = {user.username: user.email for user in User.objects.filter(username__in={row.username for row in rows})}
    emails = {row.email.lower() for row in rows if row.email}
    email_owner = dict(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email_lower", "username")
    )
    for row in rows:
        if row.username in stored:
            if row.email and stored[row.username] and row.email.lower() != stored[row.username].lower():
                errors.append(
                    RowError(
                        row.line,
                        "email",
                        _(
                            "user %(username)s already exists with another e-mail address; "
                            "check the username or leave the e-mail empty"
                        )
                        % {"username": row.username},
                    )
                )
        elif not row.email:
            errors.append(
                RowError(
                    row.line,
                    "email",
                    _("is required for a new user (they set their password through password reset)"),
                )
            )
        elif email_owner.get(row.email.lower(), row.username) != row.username:
            errors.append(RowError(row.line, "email", _("already belongs to another user; use that user's username")))
    return errors


# --- Holidays -------------------------------------------------------------------------------


@transaction.atomic
def campus_sync_holidays(*, campus: Campus, years: Iterable[int], keep_names: bool = False) -> ImportResult:
    """Store the public holidays of ``campus.holiday_country`` for ``years`` as Holiday rows.

    Each holiday gets its name in every site language the calendar has (``name_fi``, ``name_sv``,
    ``name_en``); the default language's column gets the country's own name when the calendar lacks
    it. Existing rows on those dates get the calendar's names, or with ``keep_names`` only the
    names they lack; other rows (campus closing days) are left alone. A campus without a holiday
    calendar gets nothing.
    """
    result = ImportResult()
    if not campus.holiday_country:
        return result
    try:
        calendars = _holiday_calendars(campus.holiday_country, years=sorted(set(years)))
    except NotImplementedError as exc:
        raise InvalidInput(
            _("No public-holiday calendar for country %(country)s.") % {"country": campus.holiday_country},
            errors=[{"field": "holiday_country", "message": _("unknown country code")}],
        ) from exc
    dates = sorted(next(iter(calendars.values())))
    stored = {holiday.date: holiday for holiday in Holiday.objects.filter(campus=campus, date__in=dates)}
    for date in dates:
        names = {f"name_{language}": calendar.get(date) for language, calendar in calendars.items()}
        holiday = stored.get(date)
        if holiday is None:
            Holiday.objects.create(campus=campus, date=date, **names)
            result.created += 1
            continue
        changed = [
            column
            for column, name in names.items()
            if name and getattr(holiday, column) != name and not (keep_names and getattr(holiday, column))
        ]
        for column in changed:
            setattr(holiday, column, names[column])
        if changed:
            holiday.save(update_fields=changed)
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def _holiday_calendars(country: str, *, years: list[int]) -> dict[str, holidays.HolidayBase]:
    """Return the holiday calendar of ``country`` in each site language it has, by language code.

    The default language always gets a calendar (in the country's own language when it lacks that
    one); ``sv`` matches the calendar's ``sv_FI``, ``en`` its ``en_US``.
    """
    country_calendar = holidays.country_holidays(country)
    supported = country_calendar.supported_languages
    calendars = {}
    for language, _name in settings.LANGUAGES:
        match = next(
            (code for code in supported if code.lower() == language or code.lower().split("_")[0] == language),
            None,
        )
        if match is None and language == settings.MODELTRANSLATION_DEFAULT_LANGUAGE:
            match = country_calendar.default_language  # the country's own language
        if match is not None or language == settings.MODELTRANSLATION_DEFAULT_LANGUAGE:
            calendars[language] = holidays.country_holidays(country, years=years, language=match)
    return calendars


def user_set_language(*, user: User, language: str) -> User:
    """Make ``language`` (fi, sv or en) the language of ``user``'s pages and e-mails."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(
            _("Choose one of the languages: %(languages)s.") % {"languages": ", ".join(dict(settings.LANGUAGES))},
            errors=[{"field": "language", "message": _("Unknown language.")}],
        )
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    return user


# --- term calendars --------------------------------------------------------------------------

TERM_COLUMNS = ("kind", "name", "start", "end")


def _require_term_calendar_permission(actor: User, *, institution: Institution | None, campus: Campus | None) -> None:
    if (institution is None) == (campus is None):
        message = _("Give the institution or the campus whose calendar this is.")
        raise InvalidInput(message, errors=[{"field": "institution", "message": message}])
    if not may_edit_term_calendar(
        actor, institution_id=institution.pk if institution else None, campus_id=campus.pk if campus else None
    ):
        raise PermissionDenied(
            _(
                "Only an institution's admins and facility managers edit its term calendar, "
                "and only the campus's facility managers the campus's."
            )
        )


def _check_term_period(*, kind: str, name: str, start: dt.date | None, end: dt.date | None) -> list[tuple[str, str]]:
    """Return (field, message) for each thing wrong with a term or break."""
    problems = []
    if kind not in TermKind.values:
        problems.append(("kind", _("must be “term” or “break”")))
    if not name.strip():
        problems.append(("name", _("is required")))
    elif len(name) > 200:
        problems.append(("name", _("must be at most %(max)s characters") % {"max": 200}))
    if start is None:
        problems.append(("start", _("is required")))
    if end is None:
        problems.append(("end", _("is required")))
    if start and end and start > end:
        problems.append(("end", _("must not be before the first day")))
    problems.extend(
        (field, date_out_of_range_message())
        for field, day in (("start", start), ("end", end))
        if day and not within_years(day)
    )
    return problems


@transaction.atomic
def term_period_create(
    *,
    actor: User,
    kind: str,
    name: str,
    start: dt.date,
    end: dt.date,
    institution: Institution | None = None,
    campus: Campus | None = None,
) -> TermPeriod:
    """Add a term or a break (dates included) to the calendar of ``institution`` or ``campus``."""
    _require_term_calendar_permission(actor, institution=institution, campus=campus)
    problems = _check_term_period(kind=kind, name=name, start=start, end=end)
    if problems:
        raise InvalidInput(
            "; ".join(f"{field}: {message}" for field, message in problems),
            errors=[{"field": field, "message": message} for field, message in problems],
        )
    return TermPeriod.objects.create(
        institution=institution, campus=campus, kind=kind, name=name.strip(), start=start, end=end
    )


@transaction.atomic
def term_periods_import_csv(
    *, actor: User, csv_text: str, institution: Institution | None = None, campus: Campus | None = None
) -> ImportResult:
    """Load terms and breaks (columns kind, name, start, end) into a calendar, all or nothing.

    A row equal to an existing period (same kind, name and dates) is left alone, so a file can be
    loaded again. Raise CsvImportRefused listing every line-numbered error.
    """
    _require_term_calendar_permission(actor, institution=institution, campus=campus)
    _header, records, errors = csv_records(csv_text, required=TERM_COLUMNS, optional=())
    rows = []
    for record in records:
        dates = {}
        for column in ("start", "end"):
            try:
                dates[column] = parse_iso_or_finnish_date(record.get(column) or "")
            except CellError as error:
                errors.append(RowError(record.line, column, str(error)))
                dates[column] = None
        kind = (record.get("kind") or "").strip().lower()
        name = (record.get("name") or "").strip()
        problems = _check_term_period(kind=kind, name=name, start=dates["start"], end=dates["end"])
        errors.extend(
            RowError(record.line, field, message)
            for field, message in problems
            if not (field in dates and dates[field] is None and record.get(field))
        )
        if not problems:
            rows.append((kind, name, dates["start"], dates["end"]))
    if errors:
        raise CsvImportRefused(errors)
    result = ImportResult()
    existing = {
        (p.kind, p.name, p.start, p.end) for p in TermPeriod.objects.filter(institution=institution, campus=campus)
    }
    for kind, name, start, end in rows:
        if (kind, name, start, end) in existing:
            result.count("unchanged")
            continue
        TermPeriod.objects.create(institution=institution, campus=campus, kind=kind, name=name, start=start, end=end)
        existing.add((kind, name, start, end))
        result.count("created")
    return result


def heartbeat_record(
    *,
    name: str,
    kind: HeartbeatKind,
    started_at: dt.datetime | None = None,
    state: dict | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Record that the background process ``name`` is alive now, with its ``state`` (no personal data)."""
    Heartbeat.objects.update_or_create(
        name=name,
        defaults={"kind": kind, "beat_at": now or timezone.now(), "started_at": started_at, "state": state or {}},
    )
