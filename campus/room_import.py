"""Read and check a room-inventory CSV (docs/room-import.md) without writing anything.

``room_rows_parse`` turns the text of a file into validated ``RoomRow``s plus every ``RowError``
found, so the management command and an admin upload show the same messages; the write is
``campus.services.rooms_import``. The CSV helpers at the top (delimiter sniffing, line numbers,
yes/no values) are shared with the members import in ``campus.services``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from campus.exceptions import InvalidInput
from campus.models import Building, Campus, Equipment, Institution, Room, RoomKind

# How often (in rows) the progress callback is told how far the work has got.
PROGRESS_EVERY = 500

# Excel in a Finnish locale writes semicolons; tabs come from copying out of a spreadsheet.
_DELIMITERS = (";", ",", "\t")

_TRUE_WORDS = {"yes", "y", "true", "1", "kyllä", "kylla", "k", "ja", "x"}
_FALSE_WORDS = {"no", "n", "false", "0", "ei", "e", "nej"}

ProgressCallback = Callable[[int, int], None]


# --- Shared CSV helpers ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in an uploaded file: the line as an editor numbers it (header = 1) and the column."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("line %(line)s: %(column)s: %(message)s") % {
                "line": self.line,
                "column": self.column,
                "message": self.message,
            }
        return _("line %(line)s: %(message)s") % {"line": self.line, "message": self.message}

    def as_dict(self) -> dict[str, str]:
        """Return the error in the ``{field, message}`` shape of ``InvalidInput.errors``, plus its line."""
        return {"line": str(self.line), "field": self.column, "message": self.message}


class CsvImportRefused(InvalidInput):
    """A file with errors; nothing of it was written. ``row_errors`` lists every problem found."""

    code = "import_refused"

    def __init__(self, row_errors: list[RowError]) -> None:
        self.row_errors = sorted(row_errors, key=lambda error: error.line)
        super().__init__(
            _("The file has %(count)s error(s); nothing was imported.") % {"count": len(self.row_errors)},
            errors=[error.as_dict() for error in self.row_errors],
        )


@dataclass(frozen=True)
class CsvRecord:
    """One data row of a CSV file: its first line number and its cells by (lower-case) column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


def csv_text_from_bytes(raw: bytes) -> str:
    """Decode an uploaded file as UTF-8 (with or without a byte-order mark)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            _("The file is not UTF-8 text (byte %(position)s). In Excel choose “Save as → CSV UTF-8”, then try again.")
            % {"position": exc.start + 1},
            code="not_utf8",
        ) from exc


def sniff_delimiter(header_line: str) -> str:
    """Return the delimiter that the header line uses most: semicolon, comma or tab."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def csv_records(
    csv_text: str, *, required: Iterable[str], optional: Iterable[str]
) -> tuple[list[str], list[CsvRecord], list[RowError]]:
    """Split ``csv_text`` into (columns of the header, records, errors).

    Column names are matched case-insensitively. A header naming an unknown column, repeating one
    or lacking a required one is an error on line 1, and then no records are returned. Blank lines
    are skipped; a row with more non-empty cells than the header has columns is an error.
    """
    required = list(required)
    known = [*required, *optional]
    text = csv_text.lstrip("\ufeff")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    if not first_line:
        return [], [], [RowError(1, "", _("the file is empty; its first line must name the columns"))]

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    header: list[str] | None = None
    records: list[CsvRecord] = []
    errors: list[RowError] = []
    previous_end = 0
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip().lstrip("\ufeff").lower() for cell in cells]
                errors.extend(_header_errors(header, line=line, required=required, known=known))
                if errors:
                    return header, [], errors
                continue
            values = [cell.strip() for cell in cells]
            if len(values) > len(header) and any(values[len(header) :]):
                errors.append(
                    RowError(
                        line,
                        "",
                        _("has %(found)s values but the header names %(expected)s columns")
                        % {"found": len(values), "expected": len(header)},
                    )
                )
                continue
            records.append(CsvRecord(line, dict(zip(header, values, strict=False))))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num or 1, "", _("cannot read CSV: %(error)s") % {"error": exc}))
    return header or [], records, errors


def _header_errors(header: list[str], *, line: int, required: list[str], known: list[str]) -> list[RowError]:
    errors = []
    seen: set[str] = set()
    for name in header:
        if not name:
            errors.append(RowError(line, "", _("a column has no name; remove the empty column")))
        elif name not in known:
            errors.append(
                RowError(
                    line,
                    name,
                    _("unknown column; known columns are %(known)s") % {"known": ", ".join(known)},
                )
            )
        elif name in seen:
            errors.append(RowError(line, name, _("the column appears twice")))
        seen.add(name)
    missing = [name for name in required if name not in seen]
    if missing:
        errors.append(
            RowError(
                line,
                "",
                _("required column(s) missing: %(missing)s (the first line must name the columns)")
                % {"missing": ", ".join(missing)},
            )
        )
    return errors


class CellError(ValueError):
    """A cell's value is wrong; the message says why (the caller adds line and column)."""


def parse_yes_no(value: str, *, default: bool) -> bool:
    """Return the boolean a cell spells: yes/no, true/false, 1/0, kyllä/ei; ``default`` when empty."""
    word = value.strip().lower()
    if not word:
        return default
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise CellError(_('must be yes or no (also true/false, 1/0, kyllä/ei) (got "%(value)s")') % {"value": value})


def parse_whole_number(value: str, *, minimum: int, maximum: int, default: int | None = None) -> int:
    """Return the whole number in a cell, between ``minimum`` and ``maximum``; ``default`` when empty."""
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if not text and default is not None:
        return default
    try:
        number = int(text)
    except ValueError:
        number = None
    params = {"value": value, "minimum": minimum, "maximum": maximum}
    if number is None or number < minimum:
        if minimum == 1:
            raise CellError(_('must be a whole number greater than 0 (got "%(value)s")') % params)
        if minimum == 0:
            raise CellError(_('must be a whole number, 0 or more (got "%(value)s")') % params)
        raise CellError(_('must be a whole number from %(minimum)s to %(maximum)s (got "%(value)s")') % params)
    if number > maximum:
        raise CellError(_('must be at most %(maximum)s (got "%(value)s")') % params)
    return number


def parse_iso_or_finnish_date(value: str) -> dt.date | None:
    """Return the date in a cell, written 2025-08-01 (or 1.8.2025 as Finnish Excel saves it); None when empty."""
    text = value.strip()
    if not text:
        return None
    try:
        if "." in text:
            day, month, year = (int(part) for part in text.split("."))
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CellError(_('must be a date like 2025-08-01 (got "%(value)s")') % {"value": value}) from None


def split_codes(value: str) -> tuple[str, ...]:
    """Return the ``|``-separated codes of a cell, without blanks or repeats, in their order."""
    codes: dict[str, None] = {}
    for part in value.split("|"):
        if part.strip():
            codes.setdefault(part.strip(), None)
    return tuple(codes)


# --- Rooms ----------------------------------------------------------------------------------

ROOM_REQUIRED_COLUMNS = ("building", "code", "name", "kind", "capacity")
ROOM_OPTIONAL_COLUMNS = (
    "floor",
    "area_m2",
    "equipment",
    "step_free",
    "induction_loop",
    "accessible_toilet_nearby",
    "owner",
    "bookable",
    "public_feed",
    "buffer_minutes",
    "sections",
    "description",
)

_CODE_MAX = Room._meta.get_field("code").max_length
_NAME_MAX = Room._meta.get_field("name").max_length
_AREA_MAX = Decimal("9999999.9")
_BUFFER_MAX = 24 * 60
_CAPACITY_MAX = 100_000


@dataclass(frozen=True)
class RoomRow:
    """A checked row of a room file. Codes are as stored (building and owner codes canonical).

    ``given`` names the optional columns the file has: on update, only those (and the required
    ones) overwrite the room; on create, absent columns take the model's defaults.
    """

    line: int
    building: str
    code: str
    name: str
    kind: str
    capacity: int
    floor: int = 1
    area_m2: Decimal | None = None
    equipment: tuple[str, ...] = ()
    step_free: bool = False
    induction_loop: bool = False
    accessible_toilet_nearby: bool = False
    owner: str | None = None
    is_bookable: bool = True
    public_feed: bool = False
    buffer_minutes: int = 0
    sections: tuple[str, ...] = ()
    description: str = ""
    given: frozenset[str] = frozenset(ROOM_OPTIONAL_COLUMNS)

    @property
    def key(self) -> tuple[str, str]:
        return (self.building, self.code)


def room_rows_parse(
    csv_text: str, *, campus: Campus, progress: ProgressCallback | None = None
) -> tuple[list[RoomRow], list[RowError]]:
    """Return the rows of a room file for ``campus`` and every error in it; reads, never writes.

    Buildings, equipment and owners must already exist. Sections may name rooms of the same
    building anywhere in the file or already in the database. ``progress(done, total)`` is called
    every ``PROGRESS_EVERY`` rows.
    """
    header, records, errors = csv_records(csv_text, required=ROOM_REQUIRED_COLUMNS, optional=ROOM_OPTIONAL_COLUMNS)
    if errors and not records:
        return [], errors
    given = frozenset(column for column in header if column in ROOM_OPTIONAL_COLUMNS)
    catalogue = _Catalogue.load(campus)

    rows: list[RoomRow] = []
    # (building, code) → (line, sections) of each room's first row, valid or not, for the cross-row checks.
    rooms_in_file: dict[tuple[str, str], tuple[int, tuple[str, ...]]] = {}
    for done, record in enumerate(records, start=1):
        row = _room_row(record, given=given, catalogue=catalogue, errors=errors)
        building = catalogue.buildings.get(record.get("building").lower(), record.get("building"))
        key = (building, record.get("code"))
        if key in rooms_in_file:
            errors.append(
                RowError(
                    record.line,
                    "code",
                    _('room "%(code)s" of building %(building)s is already on line %(line)s')
                    % {"code": key[1], "building": building, "line": rooms_in_file[key][0]},
                )
            )
        elif key[1]:
            rooms_in_file[key] = (record.line, split_codes(record.get("sections")))
            if row is not None:
                rows.append(row)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == len(records)):
            progress(done, len(records))

    errors.extend(_section_errors(rooms_in_file, catalogue))
    errors.sort(key=lambda error: error.line)
    rejected = {error.line for error in errors}
    return [row for row in rows if row.line not in rejected], errors


@dataclass
class _Catalogue:
    """What a room file may refer to: lower-case code → stored code."""

    buildings: dict[str, str]
    equipment: dict[str, str]
    owners: dict[str, str]
    # (building code, room code) → whether that stored room is combined from sections
    rooms: dict[tuple[str, str], bool]

    @classmethod
    def load(cls, campus: Campus) -> _Catalogue:
        combined = set(
            Room.objects.filter(building__campus=campus, sections__isnull=False).values_list("pk", flat=True)
        )
        return cls(
            buildings={
                code.lower(): code for code in Building.objects.filter(campus=campus).values_list("code", flat=True)
            },
            equipment={code.lower(): code for code in Equipment.objects.values_list("code", flat=True)},
            owners={
                code.lower(): code
                for code in Institution.objects.filter(campus=campus).values_list("short_code", flat=True)
            },
            rooms={
                (building, code): pk in combined
                for pk, building, code in Room.objects.filter(building__campus=campus).values_list(
                    "pk", "building__code", "code"
                )
            },
        )


def _room_row(
    record: CsvRecord, *, given: frozenset[str], catalogue: _Catalogue, errors: list[RowError]
) -> RoomRow | None:
    """Return the checked row of ``record``, or None after adding its errors to ``errors``."""
    count_before = len(errors)
    values: dict[str, object] = {}

    def check(column: str, parse: Callable[[str], object]) -> None:
        try:
            values[column] = parse(record.get(column))
        except CellError as exc:
            errors.append(RowError(record.line, column, str(exc)))

    check("building", lambda value: _known_code(value, catalogue.buildings, _("building"), required=True))
    check("code", lambda value: _text(value, max_length=_CODE_MAX, required=True))
    check("name", lambda value: _text(value, max_length=_NAME_MAX, required=True))
    check("kind", _room_kind)
    check("capacity", lambda value: parse_whole_number(value, minimum=1, maximum=_CAPACITY_MAX))
    check("floor", lambda value: parse_whole_number(value, minimum=-20, maximum=200, default=1))
    check("area_m2", _area)
    check("equipment", lambda value: _known_codes(value, catalogue.equipment, _("equipment")))
    for column in ("step_free", "induction_loop", "accessible_toilet_nearby", "public_feed"):
        check(column, lambda value: parse_yes_no(value, default=False))
    check("bookable", lambda value: parse_yes_no(value, default=True))
    check("owner", lambda value: _known_code(value, catalogue.owners, _("institution"), required=False))
    check("buffer_minutes", lambda value: parse_whole_number(value, minimum=0, maximum=_BUFFER_MAX, default=0))
    check("sections", split_codes)
    values["description"] = record.get("description")
    if len(errors) > count_before:
        return None
    return RoomRow(
        line=record.line,
        building=values["building"],
        code=values["code"],
        name=values["name"],
        kind=values["kind"],
        capacity=values["capacity"],
        floor=values["floor"],
        area_m2=values["area_m2"],
        equipment=values["equipment"],
        step_free=values["step_free"],
        induction_loop=values["induction_loop"],
        accessible_toilet_nearby=values["accessible_toilet_nearby"],
        owner=values["owner"],
        is_bookable=values["bookable"],
        public_feed=values["public_feed"],
        buffer_minutes=values["buffer_minutes"],
        sections=values["sections"],
        description=values["description"],
        given=given,
    )


def _section_errors(
    rooms_in_file: dict[tuple[str, str], tuple[int, tuple[str, ...]]], catalogue: _Catalogue
) -> list[RowError]:
    """Check that sections are other, undivided rooms of the same building, in the file or stored."""
    errors = []
    for (building, code), (line, sections) in rooms_in_file.items():
        if building.lower() not in catalogue.buildings:
            continue  # the unknown building is reported already
        for section in sections:
            key = (building, section)
            if section == code:
                errors.append(RowError(line, "sections", _("a room cannot be a section of itself")))
            elif key in rooms_in_file:
                if rooms_in_file[key][1]:
                    errors.append(
                        RowError(
                            line,
                            "sections",
                            _('"%(code)s" is itself combined from sections (line %(line)s); name its sections instead')
                            % {"code": section, "line": rooms_in_file[key][0]},
                        )
                    )
            elif key in catalogue.rooms:
                if catalogue.rooms[key]:
                    errors.append(
                        RowError(
                            line,
                            "sections",
                            _('"%(code)s" is itself combined from sections; name its sections instead')
                            % {"code": section},
                        )
                    )
            else:
                errors.append(
                    RowError(
                        line,
                        "sections",
                        _('no room "%(code)s" in building %(building)s, neither in this file nor stored')
                        % {"code": section, "building": building},
                    )
                )
    return errors


def _text(value: str, *, max_length: int, required: bool) -> str:
    if required and not value:
        raise CellError(_("is required"))
    if len(value) > max_length:
        raise CellError(
            _("must be at most %(max)s characters (got %(length)s)") % {"max": max_length, "length": len(value)}
        )
    return value


def _room_kind(value: str) -> str:
    kind = value.strip().lower()
    if kind not in RoomKind.values:
        raise CellError(
            _('must be one of %(kinds)s (got "%(value)s")') % {"kinds": ", ".join(RoomKind.values), "value": value}
        )
    return kind


def _area(value: str) -> Decimal | None:
    text = value.strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not text:
        return None
    try:
        area = Decimal(text).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        area = None
    if area is None or not area.is_finite() or not Decimal("0") < area <= _AREA_MAX:
        raise CellError(
            _('must be a number of square metres greater than 0, e.g. 12,5 (got "%(value)s")') % {"value": value}
        )
    return area


def _known_code(value: str, known: dict[str, str], what: str, *, required: bool) -> str | None:
    code = value.strip()
    if not code:
        if required:
            raise CellError(_("is required"))
        return None
    if code.lower() not in known:
        raise CellError(
            _('no %(what)s "%(code)s" on this campus; known codes are %(known)s')
            % {"what": what, "code": code, "known": ", ".join(sorted(known.values())) or "—"}
        )
    return known[code.lower()]


def _known_codes(value: str, known: dict[str, str], what: str) -> tuple[str, ...]:
    unknown = [code for code in split_codes(value) if code.lower() not in known]
    if unknown:
        raise CellError(
            _("unknown %(what)s code(s) %(unknown)s; known codes are %(known)s")
            % {
                "what": what,
                "unknown": ", ".join(f'"{code}"' for code in unknown),
                "known": ", ".join(sorted(known.values())) or "—",
            }
        )
    return tuple(dict.fromkeys(known[code.lower()] for code in split_codes(value)))
