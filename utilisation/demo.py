"""The demo's past weeks in room slots: roll up the readings ``sensors.demo.seed_demo_history`` stored."""

from __future__ import annotations

import datetime as dt

from campus.demo import DemoCampus
from sensors.demo import HISTORY_FROM, HISTORY_UNTIL, DemoHistory
from utilisation.models import RoomSlot
from utilisation.rollups import rollup_range


def roll_up_demo_history(demo: DemoCampus, history: DemoHistory) -> bool:
    """Roll up the days of ``history`` that got readings, so that the reports show them at once; return whether
    it ran.

    When nothing of the period is rolled up yet (the first run, or one that stopped before this),
    the whole period is; when no day got readings, nothing is: a second seed_demo the same day
    changes nothing.
    """
    if not history.days:
        return False
    zone = demo.campus.zone
    rolled = RoomSlot.objects.filter(campus=demo.campus, start__gte=history.start, start__lt=history.end).exists()
    if not rolled:
        start, end = history.start, history.end
    elif history.stored_days:
        start = dt.datetime.combine(min(history.stored_days), HISTORY_FROM, tzinfo=zone)
        end = dt.datetime.combine(max(history.stored_days), HISTORY_UNTIL, tzinfo=zone)
    else:
        return False
    rollup_range(start=start, end=end, campus=demo.campus)
    return True
