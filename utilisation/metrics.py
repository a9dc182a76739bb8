"""Utilisation figures of a room, a building, an institution (by booking owner) or a campus over a period.

Every figure is read from rolled-up ``RoomSlot`` and ``BookingUse`` rows (never raw readings) with a
handful of aggregate queries, so a year of 200 rooms stays fast; ``docs/metrics.md`` defines each
one with its formula. The available slots come from ``utilisation.calendar.SlotCalendar``, whose
filter the queries use, so counts and rows cannot disagree.

Selections:
- a room: that room; a building: its rooms; the campus: all its rooms. A divisible room (one made of
  sections) is left out of building and campus selections, because its sections already count the
  same space (a booking of the whole hall books each section);
- an institution, *by booking owner*: the rooms it owns plus the other rooms it booked in the
  period; booked, ghost and no-show figures count only its own bookings; its own rooms count whole,
  other rooms only in the slots it booked (which are then their available slots).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
)
from django.db.models.functions import Floor, Round, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from campus.models import Building, Campus, Institution, Room
from sensors.models import Sensor, SensorKind
from utilisation import room_days
from utilisation.calendar import SlotCalendar, core_hours, opening_hours_filter, rooms_filter
from utilisation.models import SLOT_SECONDS, BookingUse, RollupState, RoomDay, RoomSlot
from utilisation.results import (
    Figures,
    Heatmap,
    InstitutionShare,
    KindConcurrency,
    Period,
    Rating,
    RoomRow,
    TimePoint,
    UtilisationReport,
)
from utilisation.room_days import GROUP_SUMS, SHARE_SECONDS, SLOT_COUNTS, Thresholds, day_sums, slot_counts

SLOT_HOURS = SLOT_SECONDS / 3600
# Over this many days, booked versus used over time is given per week instead of per day.
DAILY_POINTS_UP_TO_DAYS = 92
RIGHT_SIZING_PERCENTILE = 0.9
RIGHT_SIZING_SHARE = 0.5
# PostgreSQL settings for a report's queries (for its transaction only). Each aggregates up to millions of
# slot rows into thousands of groups, which spilled to disk with the default 4 MB of work_mem. JIT compiling
# pays only for the aggregate by room (_counts_by_room turns it on for its query); for the others it cost as
# much as it saved, in every parallel worker again (docs/performance.md, "Utilisation report").
REPORT_SETTINGS = {"work_mem": "64MB", "jit": "off"}


def rating_of(rate: float | None) -> Rating | None:
    """Return the band of ``rate``: under the first of KAMPUS_RATING_BANDS poor, under the second fair, else good."""
    if rate is None:
        return None
    fair_from, good_from = settings.KAMPUS_RATING_BANDS
    if rate < fair_from:
        return Rating.POOR
    if rate < good_from:
        return Rating.FAIR
    return Rating.GOOD


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


# --- the selection ---------------------------------------------------------------------------------


def selection_rooms(
    *,
    campus: Campus,
    period: Period,
    building: Building | None = None,
    institution: Institution | None = None,
    room: Room | None = None,
) -> list[Room]:
    """Return the rooms a selection covers (see the module's docstring)."""
    rooms = Room.objects.filter(building__campus=campus).select_related("building")
    if room is not None:
        return list(rooms.filter(pk=room.pk))
    whole_rooms = rooms.filter(sections__isnull=True)
    if building is not None:
        return list(whole_rooms.filter(building=building))
    if institution is not None:
        if room_days.current():
            booked_rooms = RoomDay.objects.filter(
                booked=True,
                campus=campus,
                booked_institution=institution,
                local_date__gte=period.first_day,
                local_date__lte=period.last_day,
            ).values("room_id")
        else:
            first, end = period.bounds(campus.zone)
            booked_rooms = RoomSlot.objects.filter(
                Thresholds().booked, campus=campus, booked_institution=institution, start__gte=first, start__lt=end
            ).values("room_id")
        return list(whole_rooms.filter(Q(owner=institution) | Q(pk__in=booked_rooms)).distinct())
    return list(whole_rooms)


def institution_scope(rooms: list[Room], institution: Institution | None, booked: Q) -> tuple[set[int], Q]:
    """Return the rooms ``institution`` owns and the filter of the rows its report may read (everything without one).

    An institution sees its own rooms whole, and in other rooms only the slots it booked (``booked``: the
    filter of booked rows): how others use their rooms is not its business (and those slots are its
    available slots there).
    """
    if institution is None:
        return set(), Q()
    owned = {each.pk for each in rooms if each.owner_id == institution.pk}
    return owned, Q(room_id__in=sorted(owned)) | (booked & Q(booked_institution=institution))


def _sensor_kinds(rooms: Iterable[Room]) -> dict[int, set[str]]:
    kinds: dict[int, set[str]] = defaultdict(set)
    for room_id, kind in Sensor.objects.filter(room__in=list(rooms)).values_list("room_id", "kind"):
        kinds[room_id].add(kind)
    return kinds


# --- figures ---------------------------------------------------------------------------------------


@contextmanager
def _report_queries() -> Iterator[None]:
    """Run a report's queries; on PostgreSQL in one transaction with ``REPORT_SETTINGS``.

    On SQLite a transaction would take the write lock (``IMMEDIATE``) for the whole report, so there is none.
    """
    if connection.vendor != "postgresql":
        yield
        return
    names, values = list(REPORT_SETTINGS), list(REPORT_SETTINGS.values())
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
            before = cursor.fetchone()
            cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)), _pairs(names, values))
        yield
        # Inside a caller's transaction the settings would outlast the report.
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)), _pairs(names, before))


def _pairs(names: list[str], values: Iterable[str]) -> list[str]:
    return [item for pair in zip(names, values, strict=True) for item in pair]


def _set_for_report(name: str, value: str) -> None:
    """Change a PostgreSQL setting of ``REPORT_SETTINGS`` inside ``_report_queries`` (nothing on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


# The counts of booked slots, which an institution's report takes only from its own bookings.
BOOKED_COUNTS = frozenset({"booked", "booked_known", "ghost"})


def _counts_by_room(rows, *, core: Q, opening: Q, limits: Thresholds) -> list[dict]:
    """Return the slot counts and the seconds of ``rows`` (``RoomSlot``) by hours, from one aggregate.

    One row per room, booking institution (``booked_institution_id``) and hours (``core``, ``opening``:
    whether the slots lie in core hours, in opening hours, in both or in neither), with the sums of
    ``room_days.slot_counts``: the report's rooms take their counts from the core-hour groups (an
    institution's booked counts from its own), the shares their seconds from both. The hours are grouped by,
    not filtered on: each condition is then evaluated once a row.
    """
    # Its two conditions of hours and twelve filters over every row of the period: compiled, they cost a third less.
    _set_for_report("jit", "on")
    groups = list(
        rows.annotate(
            core=ExpressionWrapper(core, output_field=BooleanField()),
            opening=ExpressionWrapper(opening, output_field=BooleanField()),
        )
        .values("room_id", "booked_institution_id", "core", "opening")
        .annotate(**slot_counts(limits))
        .order_by()
    )
    _set_for_report("jit", REPORT_SETTINGS["jit"])
    return groups


def _counts_by_room_day(days, *, days_counted: Q) -> list[dict]:
    """Return the groups of ``_counts_by_room`` from ``RoomDay`` rows: the same sums, added up over the days.

    A room day's slots are in core hours by its ``core``; they count as such when its day counts for its room
    (``days_counted``, ``SlotCalendar.days_filter``).
    """
    counted = ExpressionWrapper(Q(core=True) & days_counted, output_field=BooleanField())
    rows = (
        days.annotate(counted_core=counted)
        .values("room_id", "booked_institution_id", "counted_core", "opening")
        .annotate(**day_sums())
        .order_by()
        .values_list("room_id", "booked_institution_id", "counted_core", "opening", *day_sums())
    )
    return [
        {
            "room_id": room_id,
            "booked_institution_id": institution_id,
            "core": core,
            "opening": opening,
            **dict(zip(GROUP_SUMS, sums, strict=True)),
        }
        for room_id, institution_id, core, opening, *sums in rows
    ]


def _room_counts(groups: list[dict], institution: Institution | None) -> dict[int, dict]:
    """Return the core-hour slot counts of each room from the groups of ``_counts_by_room``."""
    by_room: dict[int, dict] = {}
    for group in groups:
        if not group["core"]:
            continue
        entry = by_room.get(group["room_id"])
        if entry is None:
            entry = by_room[group["room_id"]] = dict.fromkeys(SLOT_COUNTS, 0) | {"headcount_sum": 0.0, "peak": None}
        own = institution is None or group["booked_institution_id"] == institution.pk
        for name in SLOT_COUNTS:
            if own or name not in BOOKED_COUNTS:
                entry[name] += group[name]
        entry["headcount_sum"] += group["headcount_sum"] or 0.0
        peak = group["peak"]
        if peak is not None and (entry["peak"] is None or peak > entry["peak"]):
            entry["peak"] = peak
    return by_room


def _counts_by_slot(
    rows, *, limits: Thresholds, booked: Q, rooms: list[Room], zone: dt.tzinfo
) -> tuple[dict[dt.date, dict], list[KindConcurrency]]:
    """Return the known, in-use and ``booked`` slots of ``rows`` per day, and per room kind the most rooms of that
    kind in use in one slot (and the first slot when), from one query by slot."""
    room_ids = {room.pk for room in rooms}
    room_ids_by_kind: dict[str, list[int]] = defaultdict(list)
    for room in rooms:
        room_ids_by_kind[room.kind].append(room.pk)
    kinds = sorted(room_ids_by_kind)
    in_use_by_kind = {
        f"in_use_{n}": Count("id", filter=limits.in_use & rooms_filter(room_ids_by_kind[kind], among=room_ids))
        for n, kind in enumerate(kinds)
    }
    per_slot = (
        rows.values("start", "local_date")
        .annotate(
            known=Count("id", filter=limits.known),
            in_use=Count("id", filter=limits.in_use),
            booked=Count("id", filter=booked),
            **in_use_by_kind,
        )
        .order_by("start")
        .values_list("start", "local_date", "known", "in_use", "booked", *in_use_by_kind)
    )
    by_day: dict[dt.date, dict] = {}
    peaks: list[tuple[int, dt.datetime | None]] = [(0, None)] * len(kinds)
    # Tuples, not dicts: thousands of slots for a year.
    for start, day, known, in_use, booked_slots, *in_use_of_kinds in per_slot:
        entry = by_day.get(day)
        if entry is None:
            entry = by_day[day] = {"known": 0, "in_use": 0, "booked": 0}
        entry["known"] += known
        entry["in_use"] += in_use
        entry["booked"] += booked_slots
        for n, count in enumerate(in_use_of_kinds):
            if count > peaks[n][0]:
                peaks[n] = (count, start)
    concurrency = [
        KindConcurrency(
            kind=kind,
            rooms=len(room_ids_by_kind[kind]),
            peak_in_use=peak,
            peak_at=at.astimezone(zone) if at is not None else None,
        )
        for kind, (peak, at) in zip(kinds, peaks, strict=True)
    ]
    return by_day, concurrency


def _booking_counts(
    rooms: list[Room], calendar: SlotCalendar, institution: Institution | None, now: dt.datetime
) -> tuple[dict[int, dict], dict[dt.date, int]]:
    """Return no-shows and early release / overrun per room, and no-shows per day, over the bookings that started
    in the period (aggregated by the database)."""
    uses = BookingUse.objects.filter(
        room__in=rooms, start__gte=calendar.first_utc, start__lt=min(calendar.end_utc, now)
    )
    if institution is not None:
        uses = uses.filter(booking__institution=institution)
    left_early = Q(no_show=False, last_presence_at__lt=F("end"))
    ran_over = Q(no_show=False, last_presence_at__gt=F("end"))
    per_room = uses.values("room_id").annotate(
        shows=Count("pk", filter=Q(no_show=False)),
        no_shows=Count("pk", filter=Q(no_show=True)),
        unknown=Count("pk", filter=Q(no_show__isnull=True)),
        early_n=Count("pk", filter=left_early),
        early=Avg(ExpressionWrapper(F("end") - F("last_presence_at"), output_field=DurationField()), filter=left_early),
        overrun_n=Count("pk", filter=ran_over),
        overrun=Avg(ExpressionWrapper(F("last_presence_at") - F("end"), output_field=DurationField()), filter=ran_over),
    )
    result = {
        row["room_id"]: {
            **row,
            "early": row["early"].total_seconds() / 60 if row["early"] is not None else None,
            "overrun": row["overrun"].total_seconds() / 60 if row["overrun"] is not None else None,
        }
        for row in per_room.order_by()
    }
    no_shows_by_day = {
        row["day"]: row["n"]
        for row in uses.filter(no_show=True)
        .annotate(day=TruncDate("start", tzinfo=calendar.zone))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return result, no_shows_by_day


def _mean_of_means(parts: list[tuple[float | None, int]]) -> float | None:
    """Return the mean of several groups' means weighted by their sizes."""
    total = sum(n for mean, n in parts if mean is not None)
    return sum(mean * n for mean, n in parts if mean is not None) / total if total else None


def _fill_rates(figures: Figures, *, early: float | None, overrun: float | None) -> Figures:
    f = figures
    f.frequency_rate = _ratio(f.in_use_slots, f.known_slots)
    f.occupancy_rate = _ratio(f.headcount_sum, f.capacity_slots)
    f.utilisation_rate = (
        f.frequency_rate * f.occupancy_rate if f.frequency_rate is not None and f.occupancy_rate is not None else None
    )
    f.booked_rate = _ratio(f.booked_slots, f.available_slots)
    booked_known_rate = _ratio(f.booked_known_slots, f.known_slots)
    f.booked_used_gap = (
        booked_known_rate - f.frequency_rate if booked_known_rate is not None and f.frequency_rate is not None else None
    )
    f.no_show_rate = _ratio(f.no_shows, f.bookings_started)
    f.unbooked_use_rate = _ratio(f.unbooked_use_slots, f.in_use_slots)
    f.coverage = _ratio(f.known_slots, f.available_slots)
    f.mean_headcount = _ratio(f.headcount_sum, f.headcount_slots)
    f.ghost_hours = f.ghost_slots * SLOT_HOURS
    f.early_release_minutes = early
    f.overrun_minutes = overrun
    f.occupancy_only_presence = f.in_use_slots > 0 and f.headcount_slots == 0
    f.rating = rating_of(f.utilisation_rate)
    f.frequency_rating = rating_of(f.frequency_rate)
    return f


def _percentile_from_histogram(histogram: list[tuple[float, int]], share: float) -> float | None:
    """Return the nearest-rank percentile of values given as (value, how many) pairs."""
    total = sum(n for _, n in histogram)
    if not total:
        return None
    rank = share * total
    running = 0
    for value, n in sorted(histogram):
        running += n
        if running >= rank:
            return value
    return histogram[-1][0]


class WholePeople(Round):
    """A slot's mean headcount rounded to whole people, halves up.

    On PostgreSQL ``floor(x + 0.5)`` instead of ``Round``'s ``round(x::numeric(1000, 15))``: the cast cost
    about a tenth of a campus year's report. The two agree on every value the rollup writes (four decimals,
    never negative: no such value lies within a float's error of a half but the half itself, which is
    exact); ``tests/utilisation/test_report_filters.py`` compares them.
    """

    def as_postgresql(self, compiler, connection, **extra_context):
        mean_count = self.get_source_expressions()[0]
        return compiler.compile(Floor(mean_count + 0.5))


def _right_sizing(rows, limits: Thresholds) -> dict[int, float | None]:
    """Return each room's 90th-percentile headcount over its in-use slots, from a histogram of whole people."""
    histograms: dict[int, list[tuple[float, int]]] = defaultdict(list)
    buckets = (
        rows.filter(limits.in_use, mean_count__isnull=False)
        .annotate(people=WholePeople("mean_count"))
        .values("room_id", "people")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in buckets:
        histograms[row["room_id"]].append((float(row["people"]), row["n"]))
    return {room_id: _percentile_from_histogram(h, RIGHT_SIZING_PERCENTILE) for room_id, h in histograms.items()}


def _shares(*, campus: Campus, rooms: list[Room], groups: list[dict]) -> list[InstitutionShare]:
    """Return each institution's share of booked hours and of measured use, over opening hours and core hours,
    from the groups of ``_counts_by_room``."""
    area = {room.pk: float(room.area_m2) if room.area_m2 is not None else None for room in rooms}
    # Seconds per (booking institution, room), opening hours and core hours apart: whole seconds add up exactly.
    seconds: dict[bool, dict[tuple[int | None, int], list[int]]] = {True: {}, False: {}}
    for group in groups:
        for core, counted in ((True, group["core"]), (False, group["opening"])):
            if not counted:
                continue
            key = (group["booked_institution_id"], group["room_id"])
            entry = seconds[core].setdefault(key, [0] * len(SHARE_SECONDS))
            for n, name in enumerate(SHARE_SECONDS):
                entry[n] += group[name] or 0
    # key: institution id, None for the campus's own services, "unattributed" for use nobody booked.
    totals: dict[object, dict[str, float | None]] = defaultdict(
        lambda: {"booked": 0.0, "booked_m2": 0.0, "used": 0.0, "used_m2": 0.0, "core_booked": 0.0, "core_used": 0.0}
    )
    for core in (False, True):
        for (institution_id, room_id), (booked, used_booked, used_unbooked) in seconds[core].items():
            room_area = area.get(room_id)
            for key, counted_seconds, kind in (
                (institution_id, booked, "booked"),
                (institution_id, used_booked, "used"),
                ("unattributed", used_unbooked, "used"),
            ):
                if not counted_seconds:
                    continue
                entry = totals[key]
                hours = counted_seconds / 3600
                if core:
                    entry[f"core_{kind}"] += hours
                    continue
                entry[kind] += hours
                m2 = entry[f"{kind}_m2"]
                entry[f"{kind}_m2"] = None if m2 is None or room_area is None else m2 + hours * room_area

    names = dict(Institution.objects.filter(campus=campus).values_list("pk", "name"))
    booked_total = sum(entry["booked"] for entry in totals.values())
    used_total = sum(entry["used"] for entry in totals.values())
    shares = []
    for key, entry in totals.items():
        unattributed = key == "unattributed"
        if unattributed:
            name = _("Unattributed (used, nobody booked)")
        elif key is None:
            name = _("%(campus)s facility services") % {"campus": campus}
        else:
            name = names.get(key, str(key))
        shares.append(
            InstitutionShare(
                institution_id=None if unattributed or key is None else int(key),
                name=name,
                unattributed=unattributed,
                booked_hours=entry["booked"],
                booked_m2_hours=entry["booked_m2"],
                used_hours=entry["used"],
                used_m2_hours=entry["used_m2"],
                booked_share=_ratio(entry["booked"], booked_total) if not unattributed else None,
                used_share=_ratio(entry["used"], used_total),
                core_booked_hours=entry["core_booked"],
                core_used_hours=entry["core_used"],
            )
        )
    shares.sort(key=lambda s: (s.unattributed, s.institution_id is None, s.name))
    return shares


def _over_time(
    daily: dict[dt.date, dict], no_shows: dict[dt.date, int], calendar: SlotCalendar, now: dt.datetime
) -> list[TimePoint]:
    available = calendar.available_by_day()
    weekly = len(calendar.days) > DAILY_POINTS_UP_TO_DAYS
    points: dict[dt.date, TimePoint] = {}
    for day in calendar.days:
        if day > timezone.localtime(now, calendar.zone).date():
            break
        key = day - dt.timedelta(days=day.weekday()) if weekly else day
        point = points.setdefault(key, TimePoint(key, 0, 0, 0, 0, 0))
        row = daily.get(day, {})
        point.available_slots += available.get(day, 0)
        point.booked_slots += row.get("booked", 0)
        point.in_use_slots += row.get("in_use", 0)
        point.known_slots += row.get("known", 0)
        point.no_shows += no_shows.get(day, 0)
    return list(points.values())


def utilisation_report(
    *,
    campus: Campus,
    period: Period,
    building: Building | None = None,
    institution: Institution | None = None,
    room: Room | None = None,
    now: dt.datetime | None = None,
) -> UtilisationReport:
    """Return the utilisation figures of the selection over ``period`` (see docs/metrics.md)."""
    with _report_queries():
        return _utilisation_report(
            campus=campus, period=period, building=building, institution=institution, room=room, now=now
        )


def _utilisation_report(
    *,
    campus: Campus,
    period: Period,
    building: Building | None,
    institution: Institution | None,
    room: Room | None,
    now: dt.datetime | None,
) -> UtilisationReport:
    now = now or timezone.now()
    limits = Thresholds()
    rooms = selection_rooms(campus=campus, period=period, building=building, institution=institution, room=room)
    calendar = SlotCalendar(campus=campus, rooms=rooms, period=period, hours=core_hours(campus), now=now)
    owned, scope = institution_scope(rooms, institution, limits.booked)
    slots = RoomSlot.objects.filter(calendar.rows_filter(), scope)
    core_hours_filter = calendar.available_filter()
    core_hour_slots = slots.filter(core_hours_filter)
    opening = opening_hours_filter(rooms, among=calendar.room_ids)
    if room_days.current():
        # The counts by room and the shares from room days (a year of slots is millions of rows), and from the
        # slots of the days that are not whole days to a report: those not over yet and those of a closure.
        _, day_scope = institution_scope(rooms, institution, Q(booked=True))
        days = RoomDay.objects.filter(calendar.day_rows_filter(), day_scope).filter(~calendar.partial_days_filter())
        groups = _counts_by_room_day(days, days_counted=calendar.days_filter())
        groups += _counts_by_room(
            slots.filter(calendar.partial_slots_filter()), core=core_hours_filter, opening=opening, limits=limits
        )
    else:
        groups = _counts_by_room(slots, core=core_hours_filter, opening=opening, limits=limits)
    # Two more passes over the core-hour slots: by slot, and the headcount histogram.
    counts = _room_counts(groups, institution)
    booked = limits.booked & Q(booked_institution=institution) if institution is not None else limits.booked
    daily, concurrency = _counts_by_slot(core_hour_slots, limits=limits, booked=booked, rooms=rooms, zone=campus.zone)
    p90 = _right_sizing(core_hour_slots, limits)
    available = calendar.available()
    bookings, no_shows_by_day = _booking_counts(rooms, calendar, institution, now)
    sensor_kinds = _sensor_kinds(rooms)

    totals = Figures()
    early: list[tuple[float | None, int]] = []
    overrun: list[tuple[float | None, int]] = []
    room_rows = []
    for each in rooms:
        c = counts.get(each.pk, {})
        b = bookings.get(each.pk) or {
            "shows": 0,
            "no_shows": 0,
            "unknown": 0,
            "early": None,
            "early_n": 0,
            "overrun": None,
            "overrun_n": 0,
        }
        figures = Figures(
            available_slots=(
                available.get(each.pk, 0) if institution is None or each.pk in owned else c.get("booked", 0)
            ),
            known_slots=c.get("known", 0),
            in_use_slots=c.get("in_use", 0),
            booked_slots=c.get("booked", 0),
            booked_known_slots=c.get("booked_known", 0),
            ghost_slots=c.get("ghost", 0),
            unbooked_use_slots=c.get("unbooked_use", 0),
            headcount_slots=c.get("headcount_slots", 0),
            capacity_slots=c.get("headcount_slots", 0) * each.capacity,
            headcount_sum=c.get("headcount_sum") or 0.0,
            peak_count=c.get("peak"),
            bookings_started=b["shows"] + b["no_shows"],
            no_shows=b["no_shows"],
            bookings_unknown=b["unknown"],
        )
        _fill_rates(figures, early=b["early"], overrun=b["overrun"])
        early.append((b["early"], b["early_n"]))
        overrun.append((b["overrun"], b["overrun_n"]))
        kinds = sensor_kinds.get(each.pk, set())
        room_p90 = p90.get(each.pk)
        room_rows.append(
            RoomRow(
                room_id=each.pk,
                code=each.code,
                name=each.name,
                building_code=each.building.code,
                kind=each.kind,
                capacity=each.capacity,
                area_m2=float(each.area_m2) if each.area_m2 is not None else None,
                has_sensor=bool(kinds),
                presence_only=kinds == {SensorKind.PRESENCE},
                figures=figures,
                p90_headcount=room_p90,
                oversized=room_p90 is not None and room_p90 < RIGHT_SIZING_SHARE * each.capacity,
            )
        )
        for name in (
            "available_slots",
            "known_slots",
            "in_use_slots",
            "booked_slots",
            "booked_known_slots",
            "ghost_slots",
            "unbooked_use_slots",
            "headcount_slots",
            "capacity_slots",
            "headcount_sum",
            "bookings_started",
            "no_shows",
            "bookings_unknown",
        ):
            setattr(totals, name, getattr(totals, name) + getattr(figures, name))
        if figures.peak_count is not None:
            totals.peak_count = max(totals.peak_count or 0, figures.peak_count)
    _fill_rates(totals, early=_mean_of_means(early), overrun=_mean_of_means(overrun))
    return UtilisationReport(
        campus_id=campus.pk,
        selection_label=str(room or building or institution or campus),
        period=period,
        generated_at=now,
        data_version=RollupState.current_version(),
        totals=totals,
        rooms=room_rows,
        shares=_shares(campus=campus, rooms=rooms, groups=groups),
        concurrency=concurrency,
        over_time=_over_time(daily, no_shows_by_day, calendar, now),
    )


def heatmap(
    *,
    campus: Campus,
    period: Period,
    building: Building | None = None,
    institution: Institution | None = None,
    room: Room | None = None,
    now: dt.datetime | None = None,
) -> Heatmap:
    """Return the hour-of-week matrix of the selection: in-use share of known slots and booked share, per cell."""
    with _report_queries():
        return _heatmap(campus=campus, period=period, building=building, institution=institution, room=room, now=now)


def _heatmap(
    *,
    campus: Campus,
    period: Period,
    building: Building | None,
    institution: Institution | None,
    room: Room | None,
    now: dt.datetime | None,
) -> Heatmap:
    now = now or timezone.now()
    limits = Thresholds()
    hours = core_hours(campus)
    rooms = selection_rooms(campus=campus, period=period, building=building, institution=institution, room=room)
    calendar = SlotCalendar(campus=campus, rooms=rooms, period=period, hours=hours, now=now)
    booked = limits.booked & Q(booked_institution=institution) if institution is not None else limits.booked
    owned, scope = institution_scope(rooms, institution, limits.booked)
    # In rooms an institution does not own, its available slots are the ones it booked (as in its report).
    foreign = ~Q(room_id__in=sorted(owned)) if institution is not None else Q(pk__in=[])
    cells = {
        (row["iso_weekday"], row["hour"]): row
        for row in RoomSlot.objects.filter(calendar.slot_filter())
        .filter(scope)
        .annotate(hour=ExpressionWrapper(F("local_minute") / 60, output_field=IntegerField()))
        .values("iso_weekday", "hour")
        .annotate(
            known=Count("id", filter=limits.known),
            in_use=Count("id", filter=limits.in_use),
            booked=Count("id", filter=booked),
            foreign=Count("id", filter=foreign),
        )
        .order_by()
    }
    if institution is not None:
        owned_rooms = [each for each in rooms if each.pk in owned]
        calendar = SlotCalendar(campus=campus, rooms=owned_rooms, period=period, hours=hours, now=now)
    available = Counter(calendar.available_by_hour_of_week())
    for key, row in cells.items():
        available[key] += row["foreign"]
    weekdays = sorted(hours.iso_weekdays)
    hour_list = list(range(hours.start_minute // 60, (hours.end_minute + 59) // 60))
    frequency: list[list[float | None]] = []
    booked_rates: list[list[float | None]] = []
    available_slots: list[list[int]] = []
    for weekday in weekdays:
        frequency.append([])
        booked_rates.append([])
        available_slots.append([])
        for hour in hour_list:
            row = cells.get((weekday, hour), {})
            slots = available.get((weekday, hour), 0)
            frequency[-1].append(_ratio(row.get("in_use", 0), row.get("known", 0)))
            booked_rates[-1].append(_ratio(row.get("booked", 0), slots))
            available_slots[-1].append(slots)
    return Heatmap(
        period=period,
        hours=hour_list,
        weekdays=weekdays,
        frequency=frequency,
        booked=booked_rates,
        available_slots=available_slots,
    )
