"""Demo data: Kampus Koskipuisto, a Finnish joint campus in Tampere (``manage.py seed_demo``).

``seed_demo_campus()`` creates the campus, its three institutions, buildings and opening hours,
equipment, 66 rooms, public holidays and one login for every role. Every record is found by its
natural key (campus name, short code, building and room code, username) and created only when it
is missing: running it again duplicates nothing and changes nothing that exists, also what people
changed since (a user's language, a room's name). It only fills in translations that are still
empty. Later demo data (bookings) is added by functions that take the returned ``DemoCampus``,
e.g. ``seed_demo_bookings(demo)``, called after this one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from campus.models import (
    Building,
    Campus,
    Equipment,
    Institution,
    InstitutionKind,
    Language,
    Membership,
    OpeningHours,
    OpeningHoursException,
    Role,
    Room,
    RoomKind,
    TermPeriod,
    User,
    Weekday,
)
from campus.room_import import ROOM_OPTIONAL_COLUMNS, RoomRow
from campus.services import ImportResult, campus_sync_holidays, membership_grant, rooms_import

CAMPUS_NAME = "Kampus Koskipuisto"
DEMO_PASSWORD = "kampus-demo"
DEMO_EMAIL_DOMAIN = "koskipuisto.example"


@dataclass(frozen=True)
class DemoLogin:
    """One line of the demo-logins table (docs/demo.md)."""

    username: str
    name: str
    role: str
    where: str


@dataclass
class DemoCampus:
    """The seeded demo world, for later seed functions and for tests."""

    campus: Campus
    institutions: dict[str, Institution]
    buildings: dict[str, Building]
    equipment: dict[str, Equipment]
    rooms: dict[str, Room]
    users: dict[str, User]
    logins: list[DemoLogin] = field(default_factory=list)
    rooms_result: ImportResult = field(default_factory=ImportResult)
    holidays_result: ImportResult = field(default_factory=ImportResult)


@transaction.atomic
def seed_demo_campus(*, today: dt.date | None = None, reset_passwords: bool = False) -> DemoCampus:
    """Create what is missing of the demo campus; ``today`` (campus-local) dates the substitute and holidays.

    Demo users get the password ``DEMO_PASSWORD`` when they are created, or every time with
    ``reset_passwords``; nothing else that exists is changed.
    """
    campus = seed_campus()
    today = today or timezone.localdate(timezone=campus.zone)
    institutions = seed_institutions(campus)
    buildings = seed_buildings(campus, years=(today.year, today.year + 1))
    equipment = seed_equipment()
    existing_rooms = set(Room.objects.filter(building__campus=campus).values_list("building__code", "code"))
    rooms_result = rooms_import(campus=campus, rows=[row for row in demo_room_rows() if row.key not in existing_rooms])
    rooms_result.unchanged += len(existing_rooms & {row.key for row in demo_room_rows()})
    rooms = {room.code: room for room in Room.objects.filter(building__campus=campus).select_related("building")}
    holidays_result = campus_sync_holidays(campus=campus, years=range(today.year, today.year + 3), keep_names=True)
    users, logins = seed_people(campus, institutions, today=today, reset_passwords=reset_passwords)
    seed_term_calendars(campus, institutions, today=today)
    return DemoCampus(
        campus=campus,
        institutions=institutions,
        buildings=buildings,
        equipment=equipment,
        rooms=rooms,
        users=users,
        logins=logins,
        rooms_result=rooms_result,
        holidays_result=holidays_result,
    )


def seed_campus() -> Campus:
    campus, _created = Campus.objects.get_or_create(
        name=CAMPUS_NAME,
        defaults={"time_zone": "Europe/Helsinki", "address": "Opinahjonkatu 1, 33100 Tampere", "holiday_country": "FI"},
    )
    return campus


def seed_institutions(campus: Campus) -> dict[str, Institution]:
    specs = [
        ("lukio", "Koskipuiston lukio", InstitutionKind.UPPER_SECONDARY, "KP-1100"),
        ("ammatti", "Koskipuiston ammattiopisto", InstitutionKind.VOCATIONAL, "KP-2200"),
        ("opisto", "Koskipuiston kansalaisopisto", InstitutionKind.ADULT_EDUCATION, "KP-3300"),
    ]
    institutions = {}
    for short_code, name, kind, cost_centre in specs:
        institutions[short_code], _created = Institution.objects.get_or_create(
            campus=campus, short_code=short_code, defaults={"name": name, "kind": kind, "cost_centre": cost_centre}
        )
    return institutions


# Weekly hours per building: weekday → (opens, closes); a weekday not listed is closed.
_WEEKDAYS = range(Weekday.MONDAY, Weekday.SATURDAY)
_BUILDINGS = {
    "A": (
        "Päärakennus",
        "Opinahjonkatu 1 A",
        {**dict.fromkeys(_WEEKDAYS, ("07:00", "21:30")), Weekday.SATURDAY: ("09:00", "15:00")},
    ),
    "B": ("Työsalit", "Opinahjonkatu 1 B", dict.fromkeys(_WEEKDAYS, ("07:00", "18:00"))),
    "C": (
        "Liikuntatalo",
        "Opinahjonkatu 3",
        {
            **dict.fromkeys(_WEEKDAYS, ("07:00", "22:00")),
            Weekday.SATURDAY: ("09:00", "18:00"),
            Weekday.SUNDAY: ("09:00", "18:00"),
        },
    ),
}


def seed_buildings(campus: Campus, *, years: tuple[int, ...]) -> dict[str, Building]:
    """Create the missing buildings with their weekly hours, and dated exceptions missing in ``years``."""
    buildings = {}
    for code, (name, address, hours) in _BUILDINGS.items():
        building, created = Building.objects.get_or_create(
            campus=campus, code=code, defaults={"name": name, "address": address}
        )
        if created:
            # The weekly hours come with a new building only: a weekday without hours is closed.
            OpeningHours.objects.bulk_create(
                OpeningHours(
                    building=building,
                    weekday=weekday,
                    opens=dt.time.fromisoformat(opens),
                    closes=dt.time.fromisoformat(closes),
                )
                for weekday, (opens, closes) in hours.items()
            )
        buildings[code] = building

    for year in years:
        _exception(buildings["B"], _first_weekday(year, 8, Weekday.MONDAY), reason=_VENTILATION)
        _exception(
            buildings["A"],
            _weekday_on_or_before(dt.date(year, 12, 5)),
            hours=("07:00", "16:00"),
            reason=_INDEPENDENCE_EVE,
        )
        _exception(
            buildings["C"], _first_weekday(year, 10, Weekday.SATURDAY), hours=("08:00", "20:00"), reason=_TOURNAMENT
        )
    return buildings


# Reasons of the opening-hours exceptions in Finnish, Swedish and English.
_VENTILATION = ("Ilmanvaihdon huoltopäivä", "Service av ventilationen", "Ventilation maintenance day")
_INDEPENDENCE_EVE = (
    "Itsenäisyyspäivän aatto: iltakurssit eivät kokoonnu",
    "Självständighetsdagens afton: kvällskurserna hålls inte",
    "Independence Day eve: no evening courses",
)
_TOURNAMENT = ("Koskipuiston koripalloturnaus", "Koskiparkens basketturnering", "Koskipuisto basketball tournament")


def _exception(
    building: Building, date: dt.date, *, reason: tuple[str, str, str], hours: tuple[str, str] | None = None
) -> None:
    """Create the exception on ``date`` unless the building has one then; fill in its missing translations."""
    opens, closes = (dt.time.fromisoformat(hours[0]), dt.time.fromisoformat(hours[1])) if hours else (None, None)
    exception, _created = OpeningHoursException.objects.get_or_create(
        building=building, date=date, defaults={"closed": hours is None, "opens": opens, "closes": closes}
    )
    _fill_translations(exception, "reason", reason)


def _fill_translations(
    record: Equipment | OpeningHoursException | TermPeriod, field: str, texts: tuple[str, str, str]
) -> None:
    """Set the fi, sv and en columns of ``field`` that are still empty to ``texts``; keep the filled ones."""
    empty = {
        f"{field}_{language}": text
        for language, text in zip(("fi", "sv", "en"), texts, strict=True)
        if not getattr(record, f"{field}_{language}")
    }
    if empty:
        for column, text in empty.items():
            setattr(record, column, text)
        record.save(update_fields=list(empty))


def _first_weekday(year: int, month: int, weekday: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7)


def _weekday_on_or_before(day: dt.date) -> dt.date:
    while day.weekday() >= Weekday.SATURDAY:
        day -= dt.timedelta(days=1)
    return day


def school_year(first_year: int) -> list[tuple[str, tuple[str, str, str], dt.date, dt.date]]:
    """Return a Finnish school year from August of ``first_year``: its terms and breaks as
    (kind, names in fi/sv/en, first day, last day), dates as southern Finland's schools keep them."""
    from dateutil.easter import easter

    spring = first_year + 1
    autumn_break = dt.date.fromisocalendar(first_year, 42, 1)
    christmas_starts = dt.date(first_year, 12, 22)
    # Autumn term: from the Wednesday of week 33; spring term: after Epiphany until the first Saturday of June.
    autumn_starts = dt.date.fromisocalendar(first_year, 33, 3)
    spring_starts = dt.date(spring, 1, 7)
    spring_ends = _first_weekday(spring, 6, Weekday.SATURDAY)
    winter_break = dt.date.fromisocalendar(spring, 8, 1)
    easter_sunday = easter(spring)
    next_autumn_starts = dt.date.fromisocalendar(spring, 33, 3)
    return [
        (
            "term",
            ("Syyslukukausi", "Hösttermin", "Autumn term"),
            autumn_starts,
            christmas_starts - dt.timedelta(days=1),
        ),
        ("break", ("Syysloma", "Höstlov", "Autumn break"), autumn_break, autumn_break + dt.timedelta(days=4)),
        ("break", ("Joululoma", "Jullov", "Christmas break"), christmas_starts, spring_starts - dt.timedelta(days=1)),
        ("term", ("Kevätlukukausi", "Vårtermin", "Spring term"), spring_starts, spring_ends),
        ("break", ("Talviloma", "Sportlov", "Winter break"), winter_break, winter_break + dt.timedelta(days=4)),
        (
            "break",
            ("Pääsiäisloma", "Påsklov", "Easter break"),
            easter_sunday - dt.timedelta(days=2),
            easter_sunday + dt.timedelta(days=1),
        ),
        (
            "break",
            ("Kesäloma", "Sommarlov", "Summer break"),
            spring_ends + dt.timedelta(days=1),
            next_autumn_starts - dt.timedelta(days=1),
        ),
    ]


def seed_term_calendars(campus: Campus, institutions: dict[str, Institution], *, today: dt.date) -> int:
    """Give every demo institution and the campus the school year under way and the next; return how many
    periods were created (those that exist stay as they are)."""
    first_year = today.year if today.month >= 8 else today.year - 1
    created = 0
    for owner in [*institutions.values(), campus]:
        where = {"institution": owner} if isinstance(owner, Institution) else {"campus": owner}
        for year in (first_year, first_year + 1):
            for kind, names, start, end in school_year(year):
                period, was_created = TermPeriod.objects.get_or_create(
                    **where, kind=kind, start=start, end=end, defaults={"name_fi": names[0]}
                )
                _fill_translations(period, "name", names)
                created += was_created
    return created


# Equipment code → name in Finnish, Swedish and English.
_EQUIPMENT = {
    "projector": ("Videoprojektori", "Videoprojektor", "Projector"),
    "display": ("Näyttö", "Bildskärm", "Display"),
    "document-camera": ("Dokumenttikamera", "Dokumentkamera", "Document camera"),
    "whiteboard": ("Valkotaulu", "Whiteboard", "Whiteboard"),
    "sinks": ("Vesipisteet", "Vattenposter", "Sinks"),
    "fume-hood": ("Vetokaappi", "Dragskåp", "Fume hood"),
    "piano": ("Piano", "Piano", "Piano"),
    "sound-system": ("Äänentoisto", "Ljudanläggning", "Sound system"),
    "video-conference": ("Videoneuvottelu", "Videokonferens", "Video conferencing"),
    "lathe": ("Sorvi", "Svarv", "Lathe"),
    "kitchen": ("Opetuskeittiö", "Undervisningskök", "Teaching kitchen"),
    "gym-equipment": ("Liikuntavälineet", "Idrottsredskap", "Sports equipment"),
}


def seed_equipment() -> dict[str, Equipment]:
    """Create the missing items of the equipment catalogue; stored names are kept, empty translations filled."""
    catalogue = {}
    for code, names in _EQUIPMENT.items():
        item, _created = Equipment.objects.get_or_create(code=code, defaults={"name_fi": names[0]})
        _fill_translations(item, "name", names)
        catalogue[code] = item
    return catalogue


# Square metres per seat when a room's area is not given.
_AREA_PER_SEAT = {RoomKind.CLASSROOM: 2, RoomKind.LAB: 3, RoomKind.WORKSHOP: 6, RoomKind.MEETING: 2.5}


def _room(
    building: str,
    code: str,
    name: str,
    kind: RoomKind,
    capacity: int,
    *,
    floor: int = 1,
    owner: str | None = None,
    equipment: str = "",
    area: str | None = None,
    step_free: bool = True,
    induction_loop: bool = False,
    toilet: bool | None = None,
    bookable: bool = True,
    public_feed: bool = False,
    buffer_minutes: int = 0,
    sections: str = "",
    description: str = "",
) -> dict:
    if area is None and kind in _AREA_PER_SEAT:
        area = str(round(capacity * _AREA_PER_SEAT[kind]))
    return {
        "building": building,
        "code": code,
        "name": name,
        "kind": str(kind),
        "capacity": capacity,
        "floor": floor,
        "area_m2": Decimal(area).quantize(Decimal("0.1")) if area else None,
        "equipment": tuple(item for item in equipment.split("|") if item),
        "step_free": step_free,
        "induction_loop": induction_loop,
        "accessible_toilet_nearby": step_free and floor == 1 if toilet is None else toilet,
        "owner": owner,
        "is_bookable": bookable,
        "public_feed": public_feed,
        "buffer_minutes": buffer_minutes,
        "sections": tuple(section for section in sections.split("|") if section),
        "description": description,
    }


CLASS, LAB, WORKSHOP, GYM = RoomKind.CLASSROOM, RoomKind.LAB, RoomKind.WORKSHOP, RoomKind.GYM
MEETING, AUDITORIUM, OTHER = RoomKind.MEETING, RoomKind.AUDITORIUM, RoomKind.OTHER
BOARD = "projector|whiteboard"

DEMO_ROOMS = [
    # A Päärakennus: lukio by day, kansalaisopisto in the evenings; science in the old wing (floor 3).
    _room(
        "A",
        "A100",
        "Auditorio Koskisali",
        AUDITORIUM,
        200,
        area="260",
        equipment="projector|sound-system|video-conference|document-camera",
        induction_loop=True,
        public_feed=True,
        buffer_minutes=15,
        description="Nouseva katsomo, esiintymislava ja tulkkauskoppi.",
    ),
    _room("A", "A101", "Luokka 101", CLASS, 32, owner="lukio", equipment=BOARD + "|document-camera"),
    _room("A", "A102", "Luokka 102", CLASS, 30, owner="lukio", equipment=BOARD),
    _room("A", "A103", "Luokka 103", CLASS, 36, owner="lukio", equipment="display|whiteboard"),
    _room("A", "A104", "Luokka 104", CLASS, 24, owner="opisto", equipment=BOARD),
    _room("A", "A105", "Luokka 105", CLASS, 28, equipment=BOARD),
    _room("A", "A106", "Luokka 106", CLASS, 20, owner="opisto", equipment="display|whiteboard"),
    _room(
        "A",
        "A110",
        "Musiikkiluokka",
        CLASS,
        24,
        owner="lukio",
        equipment="piano|sound-system|projector",
        induction_loop=True,
        area="70",
    ),
    _room("A", "A111", "Bändihuone", OTHER, 8, owner="lukio", equipment="piano|sound-system", area="24"),
    _room("A", "A112", "Kuvataideluokka", CLASS, 24, owner="lukio", equipment="sinks|" + BOARD, area="80"),
    _room(
        "A",
        "A120",
        "Kirjasto ja opiskelutila",
        OTHER,
        40,
        equipment="display",
        bookable=False,
        area="150",
        description="Vapaa opiskelutila, ei varattavissa.",
    ),
    _room(
        "A",
        "A150",
        "Neuvotteluhuone Kuohu",
        MEETING,
        8,
        equipment="display|video-conference|whiteboard",
        induction_loop=True,
    ),
    _room("A", "A151", "Neuvotteluhuone Kivi", MEETING, 6, owner="lukio", equipment="display|whiteboard"),
    _room("A", "A201", "Luokka 201", CLASS, 30, floor=2, owner="lukio", equipment=BOARD),
    _room("A", "A202", "Luokka 202", CLASS, 32, floor=2, owner="lukio", equipment=BOARD + "|document-camera"),
    _room("A", "A203", "Luokka 203", CLASS, 26, floor=2, owner="lukio", equipment="display|whiteboard"),
    _room("A", "A204", "Luokka 204", CLASS, 36, floor=2, equipment=BOARD + "|document-camera"),
    _room("A", "A205", "Kieliluokka", CLASS, 24, floor=2, owner="opisto", equipment="display|sound-system|whiteboard"),
    _room("A", "A206", "Luokka 206", CLASS, 22, floor=2, owner="opisto", equipment=BOARD),
    _room("A", "A210", "Luokka 210", CLASS, 28, floor=2, owner="lukio", equipment=BOARD),
    _room("A", "A211", "Luokka 211", CLASS, 28, floor=2, owner="lukio", equipment=BOARD),
    _room(
        "A",
        "A210-211",
        "Luokat 210–211 yhdistettynä",
        CLASS,
        56,
        floor=2,
        owner="lukio",
        equipment=BOARD,
        sections="A210|A211",
        description="Luokat 210 ja 211 siirtoseinä avattuna.",
    ),
    _room(
        "A",
        "A250",
        "Neuvotteluhuone Virta",
        MEETING,
        12,
        floor=2,
        equipment="video-conference|display|whiteboard",
        induction_loop=True,
    ),
    _room("A", "A251", "Neuvotteluhuone Pato", MEETING, 10, floor=2, owner="opisto", equipment="display"),
    _room("A", "A252", "Tiimihuone", MEETING, 6, floor=2, owner="lukio", equipment="whiteboard"),
    _room(
        "A",
        "A301",
        "Kemian laboratorio",
        LAB,
        24,
        floor=3,
        owner="lukio",
        equipment="fume-hood|sinks|" + BOARD,
        buffer_minutes=15,
        description="Vetokaapit 4 kpl, silmähuuhteluasema.",
    ),
    _room(
        "A",
        "A302",
        "Fysiikan laboratorio",
        LAB,
        24,
        floor=3,
        owner="lukio",
        equipment="sinks|document-camera|" + BOARD,
    ),
    _room(
        "A",
        "A303",
        "Biologian laboratorio",
        LAB,
        24,
        floor=3,
        owner="lukio",
        equipment="sinks|document-camera|projector",
    ),
    _room("A", "A304", "ATK-luokka A304", LAB, 30, floor=3, equipment="display|projector"),
    _room("A", "A305", "Luokka 305", CLASS, 30, floor=3, owner="lukio", equipment=BOARD, step_free=False),
    _room("A", "A306", "Luokka 306", CLASS, 20, floor=3, owner="opisto", equipment="whiteboard", step_free=False),
    _room(
        "A",
        "A310",
        "Käsityöluokka",
        WORKSHOP,
        16,
        floor=3,
        owner="opisto",
        equipment="sinks|whiteboard",
        step_free=False,
    ),
    _room(
        "A",
        "A311",
        "Tekstiilityöluokka",
        WORKSHOP,
        16,
        floor=3,
        owner="opisto",
        equipment="whiteboard|document-camera",
        step_free=False,
    ),
    _room("A", "A350", "Neuvotteluhuone Kaski", MEETING, 8, floor=3, equipment="display", step_free=False),
    # B Työsalit: the vocational college's workshops; the upper floor has no lift.
    _room(
        "B",
        "B101",
        "Metallityösali",
        WORKSHOP,
        16,
        owner="ammatti",
        equipment="lathe|whiteboard",
        buffer_minutes=15,
        description="Sorvit 8 kpl, jyrsimet 4 kpl. Turvakengät pakolliset.",
    ),
    _room("B", "B102", "Hitsaamo", WORKSHOP, 12, owner="ammatti", description="12 hitsauspaikkaa kohdepoistoineen."),
    _room("B", "B103", "CNC-työstökeskus", WORKSHOP, 12, owner="ammatti", equipment="lathe|display"),
    _room(
        "B",
        "B110",
        "Autokorjaamo",
        WORKSHOP,
        16,
        owner="ammatti",
        equipment="display|whiteboard",
        area="220",
        description="Neljä nostinta, pakokaasunpoisto.",
    ),
    _room("B", "B111", "Moottoritestaamo", WORKSHOP, 10, owner="ammatti", area="90"),
    _room(
        "B",
        "B120",
        "Opetuskeittiö",
        WORKSHOP,
        16,
        owner="ammatti",
        equipment="kitchen|sinks",
        buffer_minutes=30,
        description="Siivousaika 30 min varausten välissä.",
    ),
    _room(
        "B", "B121", "Harjoitusravintola Koskikara", OTHER, 48, owner="ammatti", equipment="sound-system", area="110"
    ),
    _room("B", "B122", "Leipomo", WORKSHOP, 12, owner="ammatti", equipment="kitchen|sinks", buffer_minutes=30),
    _room("B", "B123", "Kotitalousluokka", WORKSHOP, 20, equipment="kitchen|sinks|whiteboard", buffer_minutes=30),
    _room("B", "B130", "Sähkölaboratorio", LAB, 16, owner="ammatti", equipment="display|whiteboard"),
    _room("B", "B131", "Automaatiolaboratorio", LAB, 16, owner="ammatti", equipment="display|projector"),
    _room("B", "B140", "Puutyösali", WORKSHOP, 16, owner="ammatti", equipment="lathe|whiteboard", buffer_minutes=15),
    _room("B", "B141", "Rakennushalli", WORKSHOP, 24, owner="ammatti", area="300"),
    _room("B", "B150", "Hiusalan harjoitussalonki", WORKSHOP, 12, owner="ammatti", equipment="sinks"),
    _room("B", "B151", "Kauneudenhoitoalan luokka", WORKSHOP, 10, owner="ammatti", equipment="sinks"),
    _room("B", "B201", "Teorialuokka 201", CLASS, 32, floor=2, owner="ammatti", equipment=BOARD, step_free=False),
    _room("B", "B202", "Teorialuokka 202", CLASS, 28, floor=2, owner="ammatti", equipment=BOARD, step_free=False),
    _room(
        "B",
        "B203",
        "Teorialuokka 203",
        CLASS,
        24,
        floor=2,
        owner="ammatti",
        equipment="display|whiteboard",
        step_free=False,
    ),
    _room(
        "B",
        "B204",
        "Teorialuokka 204",
        CLASS,
        30,
        floor=2,
        equipment=BOARD + "|document-camera",
        step_free=False,
    ),
    _room("B", "B205", "ATK-luokka B205", LAB, 24, floor=2, owner="ammatti", equipment="display", step_free=False),
    _room(
        "B",
        "B210",
        "Neuvotteluhuone Ahjo",
        MEETING,
        8,
        floor=2,
        owner="ammatti",
        equipment="display|video-conference",
        step_free=False,
    ),
    _room("B", "B211", "Neuvotteluhuone Paja", MEETING, 6, floor=2, equipment="whiteboard", step_free=False),
    # C Liikuntatalo: the sports hall divides into three sections.
    _room("C", "C101", "Liikuntasali, lohko 1", GYM, 30, equipment="gym-equipment", area="400"),
    _room("C", "C102", "Liikuntasali, lohko 2", GYM, 30, equipment="gym-equipment", area="400"),
    _room("C", "C103", "Liikuntasali, lohko 3", GYM, 30, equipment="gym-equipment", area="400"),
    _room(
        "C",
        "C100",
        "Liikuntasali koko",
        GYM,
        90,
        equipment="gym-equipment|sound-system",
        area="1200",
        induction_loop=True,
        public_feed=True,
        sections="C101|C102|C103",
        description="Koko sali; jaettavissa kolmeen lohkoon nostoverhoilla.",
    ),
    _room("C", "C110", "Kuntosali", GYM, 20, equipment="gym-equipment|sound-system", area="180"),
    _room("C", "C111", "Tanssisali", GYM, 30, owner="opisto", equipment="sound-system|display", area="160"),
    _room("C", "C112", "Kamppailulajien sali", GYM, 24, owner="ammatti", equipment="gym-equipment", area="200"),
    _room("C", "C120", "Liikunnan teorialuokka", CLASS, 24, owner="lukio", equipment=BOARD),
    _room("C", "C130", "Neuvotteluhuone Kipinä", MEETING, 8, equipment="display"),
    _room("C", "C140", "Välinevarasto", OTHER, 2, bookable=False, step_free=True, toilet=False, area="40"),
]


def demo_room_rows() -> list[RoomRow]:
    """Return the demo rooms as import rows, as if they came from a room file."""
    return [
        RoomRow(line=line, given=frozenset(ROOM_OPTIONAL_COLUMNS), **room)
        for line, room in enumerate(DEMO_ROOMS, start=2)
    ]


@dataclass(frozen=True)
class _Person:
    username: str
    first_name: str
    last_name: str
    memberships: tuple[tuple[str, str], ...]  # (role, institution short code or "campus")
    language: str = Language.FINNISH
    temporary: bool = False


_PEOPLE = [
    _Person("lukio.opettaja", "Laura", "Mäkinen", ((Role.STAFF, "lukio"),)),
    _Person("lukio.opettaja2", "Juha", "Korhonen", ((Role.STAFF, "lukio"), (Role.STAFF, "opisto"))),
    _Person("lukio.sijainen", "Sanna", "Nieminen", ((Role.STAFF, "lukio"),), temporary=True),
    _Person("lukio.kiinteisto", "Mikko", "Laine", ((Role.FACILITY_MANAGER, "lukio"),)),
    _Person("lukio.admin", "Päivi", "Heikkinen", ((Role.INSTITUTION_ADMIN, "lukio"),)),
    _Person("ammatti.opettaja", "Timo", "Järvinen", ((Role.STAFF, "ammatti"),)),
    _Person("ammatti.kiinteisto", "Jari", "Lehtinen", ((Role.FACILITY_MANAGER, "ammatti"),)),
    _Person("ammatti.admin", "Tiina", "Salminen", ((Role.INSTITUTION_ADMIN, "ammatti"),)),
    _Person("opisto.opettaja", "Anna", "Lindholm", ((Role.STAFF, "opisto"),), language=Language.SWEDISH),
    _Person("opisto.neuvonta", "Marja", "Koskinen", ((Role.FRONT_DESK, "opisto"),)),
    _Person("opisto.kiinteisto", "Pekka", "Hämäläinen", ((Role.FACILITY_MANAGER, "opisto"),)),
    _Person("opisto.admin", "Anne", "Laaksonen", ((Role.INSTITUTION_ADMIN, "opisto"),)),
    _Person("kampus.kiinteisto", "Kari", "Heinonen", ((Role.FACILITY_MANAGER, "campus"),)),
    _Person("kampus.neuvonta", "Riikka", "Mattila", ((Role.FRONT_DESK, "campus"),), language=Language.ENGLISH),
]


def seed_people(
    campus: Campus, institutions: dict[str, Institution], *, today: dt.date, reset_passwords: bool
) -> tuple[dict[str, User], list[DemoLogin]]:
    """Create a login for every role at the institutions and the campus, a substitute and a superuser.

    A demo user gets the memberships when the user is created; an existing user's memberships (maybe
    ended or changed since) are left alone.
    """
    users: dict[str, User] = {}
    logins: list[DemoLogin] = []
    # Every demo login has the same password: hashed once, not once a login (most of a second each).
    password = DemoPassword()
    for person in _PEOPLE:
        user, created = _demo_user(
            person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            language=person.language,
            reset_password=reset_passwords,
            password=password,
        )
        for role, place in person.memberships:
            institution = institutions.get(place)
            if created:
                valid_from, valid_until = (
                    (today - dt.timedelta(days=7), today + dt.timedelta(days=60)) if person.temporary else (None, None)
                )
                membership_grant(
                    user=user,
                    role=role,
                    institution=institution,
                    campus=None if institution else campus,
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            where = institution.name if institution else campus.name
            if person.temporary:
                where += " (" + _validity(user, role, institution or campus) + ")"
            # Role labels in English, like the rest of the command's output.
            logins.append(DemoLogin(user.username, user.get_full_name(), str(Role(role).label), where))
        users[user.username] = user

    admin, _created = _demo_user(
        "admin",
        first_name="Ylläpito",
        last_name="Kampus",
        language="",
        reset_password=reset_passwords,
        password=password,
        superuser=True,
    )
    users[admin.username] = admin
    logins.append(DemoLogin(admin.username, admin.get_full_name(), "superuser", campus.name))
    return users, logins


def _validity(user: User, role: str, place: Institution | Campus) -> str:
    """Return the dates of ``user``'s membership in ``role`` at ``place``, e.g. ``2026-01-01 – 2026-03-01``."""
    place_filter = {"institution": place} if isinstance(place, Institution) else {"campus": place}
    membership = Membership.objects.filter(user=user, role=role, **place_filter).first()
    if membership is None:
        return "no membership"
    return f"{membership.valid_from or '…'} – {membership.valid_until or '…'}"


class DemoPassword:
    """``DEMO_PASSWORD`` hashed on first use (only when a login is created or reset), with the hasher in force."""

    @cached_property
    def hashed(self) -> str:
        return make_password(DEMO_PASSWORD)


def _demo_user(
    username: str,
    *,
    first_name: str,
    last_name: str,
    language: str,
    reset_password: bool,
    password: DemoPassword,
    superuser: bool = False,
) -> tuple[User, bool]:
    """Create the demo user ``username`` unless it exists; only ``reset_password`` touches an existing one."""
    defaults = {
        "first_name": first_name,
        "last_name": last_name,
        "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
        "preferred_language": language,
        "is_active": True,
    }
    if superuser:
        defaults.update(is_staff=True, is_superuser=True)
    user, created = User.objects.get_or_create(username=username, defaults=defaults)
    if created or reset_password:
        user.password = password.hashed
        user.save(update_fields=["password"])
    return user, created
