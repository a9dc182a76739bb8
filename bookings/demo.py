"""Demo bookings for the demo campus: a term of lessons, meetings, a divided gym, requests and a closure.

Everything is written through the booking services (with ``now`` set before each booking's start,
so that the past four weeks can be filled too), so the demo obeys the same rules as real use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from bookings import services
from bookings.errors import BookingRuleBroken
from bookings.models import Access, Booking, BookingPolicy, BookingStatus, Closure, Purpose, Visibility
from campus.demo import DemoCampus
from campus.models import User

WEEKS_BACK = 4
WEEKS_AHEAD = 16


@dataclass
class DemoBookings:
    created: int = 0
    skipped_existing: bool = False

    def __str__(self) -> str:
        if self.skipped_existing:
            return "bookings already present, left as they are"
        return f"{self.created} bookings"


def seed_demo_policies(demo: DemoCampus) -> None:
    """Give the demo rooms one of each kind of policy; a policy that exists (maybe edited) is left alone."""
    rooms, buildings = demo.rooms, demo.buildings
    BookingPolicy.objects.get_or_create(
        campus=demo.campus, defaults={"max_active_bookings": 60, "other_window_days": 180, "owner_window_days": 365}
    )
    # The workshops: other institutions ask the vocational college first, and only 60 days ahead.
    BookingPolicy.objects.get_or_create(
        building=buildings["B"], defaults={"other_access": Access.REQUEST, "other_window_days": 60}
    )
    # The auditorium and the whole gym are shared: requests go to the campus's facility managers.
    BookingPolicy.objects.get_or_create(
        room=rooms["A100"], defaults={"other_access": Access.REQUEST, "min_notice_minutes": 24 * 60}
    )
    BookingPolicy.objects.get_or_create(room=rooms["C100"], defaults={"other_access": Access.REQUEST})
    # The chemistry lab is for the upper-secondary school only.
    BookingPolicy.objects.get_or_create(room=rooms["A301"], defaults={"other_access": Access.NONE})
    # Meeting rooms: short meetings, booked at least an hour ahead.
    for code in ("A150", "A250", "C130"):
        BookingPolicy.objects.get_or_create(
            room=rooms[code], defaults={"max_duration_minutes": 180, "min_notice_minutes": 60}
        )


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@transaction.atomic
def seed_demo_bookings(demo: DemoCampus, *, today: dt.date | None = None) -> DemoBookings:
    """Fill the demo campus with bookings from 4 weeks before ``today`` to 16 weeks after; once only."""
    seed_demo_policies(demo)
    campus = demo.campus
    if Booking.objects.filter(campus=campus).exists():
        return DemoBookings(skipped_existing=True)
    zone = campus.zone
    today = today or timezone.localdate(timezone=zone)
    first_monday = _monday(today - dt.timedelta(weeks=WEEKS_BACK))
    until = (today + dt.timedelta(weeks=WEEKS_AHEAD)).strftime("%Y%m%d")
    users, rooms = demo.users, demo.rooms
    result = DemoBookings()

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)

    def book(
        user: str, room: str, title: str, start: dt.datetime, minutes: int, **options
    ) -> services.BookingResult | None:
        """Book through the service; a one-off that a holiday or closure refuses is left out."""
        options.setdefault("skip_conflicts", bool(options.get("rrule")))
        try:
            booking_result = services.booking_create(
                room=rooms[room],
                booked_by=users[user],
                title=title,
                start=start,
                end=start + dt.timedelta(minutes=minutes),
                now=start - dt.timedelta(days=2),
                **options,
            )
        except BookingRuleBroken as refused:
            # A series wholly in a term break (the demo's dates follow today) is left out like a refused one-off.
            if options.get("rrule") and refused.code != "nothing_to_book":
                raise
            return None
        result.created += len(booking_result.bookings)
        return booking_result

    def weekly(
        user: str,
        room: str,
        title: str,
        weekday: int,
        hour: int,
        minute: int,
        minutes: int,
        *,
        last: dt.date | None = None,
        **options,
    ):
        day = first_monday + dt.timedelta(days=weekday)
        series_until = last.strftime("%Y%m%d") if last else until
        rrule = f"FREQ=WEEKLY;UNTIL={series_until}"
        return book(user, room, title, at(day, hour, minute), minutes, rrule=rrule, **options)

    # Upper-secondary lessons (weekly series).
    maths = weekly("lukio.opettaja", "A101", "MAA3 Geometria", 0, 8, 15, 75, purpose=Purpose.TEACHING)
    weekly("lukio.opettaja", "A101", "MAA3 Geometria", 2, 10, 0, 75)
    weekly("lukio.opettaja2", "A202", "ENA2 Englanti", 1, 9, 0, 75, visibility=Visibility.CAMPUS)
    weekly("lukio.opettaja2", "A302", "FY1 Fysiikka", 3, 12, 30, 90)
    # A booking may not outlast the membership it is made under: the substitute's lessons end with it.
    substitute_until = users["lukio.sijainen"].memberships.get().valid_until
    weekly("lukio.sijainen", "A201", "BI2 Biologia (sijainen)", 4, 8, 15, 75, last=substitute_until)
    chemistry = weekly("lukio.opettaja", "A301", "KE2 Kemia", 1, 12, 30, 90)
    # Vocational college: long workshop days and theory.
    weekly("ammatti.opettaja", "B101", "Metallityön perusteet", 0, 8, 0, 240)
    weekly("ammatti.opettaja", "B120", "Ruoanvalmistus", 2, 8, 0, 300)
    weekly("ammatti.opettaja", "B201", "Työturvallisuus", 3, 13, 0, 90, visibility=Visibility.PUBLIC)
    # Adult education: evening courses, open to the public.
    weekly("opisto.opettaja", "A104", "Ruotsia aloittelijoille", 1, 18, 0, 90, visibility=Visibility.PUBLIC)
    weekly("opisto.opettaja", "C111", "Lavatanssit", 3, 18, 30, 90, visibility=Visibility.PUBLIC)
    weekly(
        "lukio.opettaja2",
        "A205",
        "Espanjan keskustelukurssi",
        0,
        17,
        30,
        90,
        institution=demo.institutions["opisto"],
        visibility=Visibility.PUBLIC,
    )
    # The divided gym: two sections at once for two institutions, the whole hall for a Friday event.
    weekly("lukio.opettaja", "C101", "LI1 Liikunta", 1, 10, 0, 90)
    weekly("ammatti.opettaja", "C102", "Liikunta ja terveys", 1, 10, 0, 90)
    # Meetings and events (one-off).
    for week in range(WEEKS_BACK + WEEKS_AHEAD):
        monday = first_monday + dt.timedelta(weeks=week)
        book(
            "lukio.kiinteisto",
            "A150",
            "Opettajainkokous",
            at(monday + dt.timedelta(days=2), 14, 30),
            90,
            purpose=Purpose.MEETING,
        )
        if week % 3 == 0:
            book(
                "ammatti.opettaja",
                "A250",
                "Tiimipalaveri",
                at(monday + dt.timedelta(days=4), 12, 0),
                60,
                purpose=Purpose.MEETING,
            )
    event_day = _monday(today) + dt.timedelta(weeks=3, days=4)
    book(
        "kampus.kiinteisto",
        "C100",
        "Kampuksen liikuntapäivä",
        at(event_day, 9, 0),
        300,
        purpose=Purpose.EVENT,
        visibility=Visibility.PUBLIC,
    )
    book(
        "kampus.neuvonta",
        "A100",
        "Kaupungin asukasilta",
        at(event_day - dt.timedelta(days=2), 17, 0),
        180,
        purpose=Purpose.EVENT,
        visibility=Visibility.PUBLIC,
        on_behalf_of_organisation="Tampereen kaupunki",
        on_behalf_of_name="Eeva Esimerkki",
        on_behalf_of_contact="eeva.esimerkki@example.org",
    )

    # Pending requests across institutions.
    next_week = _monday(today) + dt.timedelta(weeks=1)
    book(
        "opisto.opettaja",
        "B123",
        "Leivontakurssi",
        at(next_week + dt.timedelta(days=1), 17, 0),
        180,
        visibility=Visibility.PUBLIC,
    )
    book(
        "lukio.opettaja2",
        "B130",
        "Sähköopin vierailu",
        at(next_week + dt.timedelta(days=2), 9, 0),
        120,
        institution=demo.institutions["lukio"],
    )
    book("ammatti.opettaja", "A100", "Valmistujaisharjoitus", at(next_week + dt.timedelta(days=3), 12, 0), 120)
    book(
        "opisto.opettaja",
        "C100",
        "Tanssinäytös",
        at(next_week + dt.timedelta(weeks=2, days=5), 10, 0),
        240,
        rrule="FREQ=WEEKLY;COUNT=2",
        purpose=Purpose.EVENT,
    )

    _book_story(demo, book, at(first_monday, 0), until)

    # Some of each status: a cancelled lesson, a released one, a rejected request.
    _cancel_one(maths.bookings, today, users["lukio.opettaja"], zone)
    _release_past(chemistry.bookings, today, users["lukio.opettaja"])
    rejected = book("lukio.opettaja", "B110", "Autotekniikan esittely", at(next_week + dt.timedelta(days=3), 9, 0), 90)
    if rejected is not None:
        services.booking_reject(
            booking=rejected.first,
            actor=users["ammatti.kiinteisto"],
            reason="Korjaamo on silloin ajoneuvotarkastuksessa.",
            now=rejected.first.start - dt.timedelta(days=1),
        )
    # A closure: the computer lab is renovated for a week; its bookings stay listed for the manager.
    renovation = _monday(today) + dt.timedelta(weeks=6)
    closure, _affected = services.closure_create(
        actor=users["kampus.kiinteisto"],
        room=rooms["A304"],
        start=at(renovation, 0),
        end=at(renovation + dt.timedelta(days=5), 0),
        reason="Verkkoremontti",
    )
    # The reason in every language, whichever language the command runs in.
    Closure.objects.filter(pk=closure.pk).update(
        reason_fi="Verkkoremontti", reason_sv="Nätverksrenovering", reason_en="Network renovation"
    )
    return result


# The story the utilisation reports tell (sensors/demo.py says how people use these rooms): the labs are booked
# most of the day, the sports hall's sections twice a day, three small meeting rooms nearly all day.
_LAB_LESSONS = ((8, 15), (10, 0), (12, 30), (14, 15))  # 90 minutes each; the chemistry lab's 15-minute buffer fits
_LABS = (
    ("A301", "lukio.opettaja", ("KE1 Kemia", "KE3 Kemia", "KE4 Kemia", "KE5 Kemia")),
    ("A302", "lukio.opettaja2", ("FY2 Fysiikka", "FY3 Fysiikka", "FY4 Fysiikka", "FY5 Fysiikka")),
)
# (section, booker, institution, title, start): 90-minute lessons.
_GYM_LESSONS = (
    ("C101", "lukio.opettaja", "lukio", "LI2 Liikunta", (8, 30)),
    ("C102", "ammatti.opettaja", "ammatti", "Liikunta ja hyvinvointi", (8, 30)),
    ("C103", "lukio.opettaja2", "lukio", "LI3 Liikunta", (12, 0)),
    ("C101", "ammatti.opettaja", "ammatti", "Kuntoliikunta", (12, 0)),
    ("C102", "lukio.opettaja", "lukio", "LI4 Liikunta", (14, 0)),
    ("C103", "ammatti.opettaja", "ammatti", "Pallopelit", (14, 0)),
)
# (start, minutes, title): 7.5 of the 8 core hours.
_MEETINGS = (
    ((8, 0), 90, "Ohjauskeskustelut"),
    ((9, 30), 120, "Projektiryhmä"),
    ((12, 0), 90, "Ryhmätyö"),
    ((13, 30), 90, "Opiskelijahaastattelut"),
    ((15, 0), 60, "Tiimipalaveri"),
)
# (room, attendees booked, bookers with their institution, one per meeting of the day).
_SMALL_ROOMS = (
    (
        "A150",
        6,
        (
            ("lukio.opettaja2", "lukio"),
            ("ammatti.opettaja", "ammatti"),
            ("opisto.opettaja", "opisto"),
            ("lukio.opettaja", "lukio"),
            ("ammatti.opettaja", "ammatti"),
        ),
    ),
    ("A151", 4, (("lukio.opettaja", "lukio"), ("lukio.opettaja2", "lukio"), ("lukio.kiinteisto", "lukio")) * 2),
    ("A252", 4, (("lukio.opettaja2", "lukio"), ("lukio.kiinteisto", "lukio"), ("lukio.opettaja", "lukio")) * 2),
)


def _book_story(demo: DemoCampus, book: Callable[..., object], first_monday: dt.datetime, until: str) -> None:
    """Book the story's series, every weekday from ``first_monday`` (midnight) to ``until``; an occurrence that
    clashes with a booking made before is left out."""
    rrule = f"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL={until}"
    institutions = demo.institutions

    def starting(hour: int, minute: int) -> dt.datetime:
        return first_monday.replace(hour=hour, minute=minute)

    for room, teacher, titles in _LABS:
        for title, (hour, minute) in zip(titles, _LAB_LESSONS, strict=True):
            book(teacher, room, title, starting(hour, minute), 90, rrule=rrule, institution=institutions["lukio"])
    for room, teacher, institution, title, (hour, minute) in _GYM_LESSONS:
        book(teacher, room, title, starting(hour, minute), 90, rrule=rrule, institution=institutions[institution])
    for room, attendees, bookers in _SMALL_ROOMS:
        for ((hour, minute), minutes, title), (booker, institution) in zip(_MEETINGS, bookers, strict=False):
            book(
                booker,
                room,
                title,
                starting(hour, minute),
                minutes,
                rrule=rrule,
                institution=institutions[institution],
                purpose=Purpose.MEETING,
                attendees=attendees,
                skip_breaks=True,
            )


def _cancel_one(bookings: list[Booking], today: dt.date, actor: User, zone: dt.tzinfo) -> None:
    future = [b for b in bookings if b.start.astimezone(zone).date() > today + dt.timedelta(days=7)]
    if future:
        services.booking_cancel(booking=future[0], actor=actor, now=future[0].start - dt.timedelta(days=3))


def _release_past(bookings: list[Booking], today: dt.date, actor: User) -> None:
    past = [b for b in bookings if b.end.date() < today and b.status == BookingStatus.CONFIRMED]
    if past:
        booking = past[-1]
        services.booking_release(booking=booking, actor=actor, now=booking.start + dt.timedelta(minutes=45))
