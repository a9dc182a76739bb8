"""The demo's past weeks in room slots: roll up the readings ``sensors.demo.seed_demo_history`` stored."""

from __future__ import annotations

from campus.demo import DemoCampus
from sensors.demo import DemoHistory
from utilisation.models import RoomSlot
from utilisation.rollups import rollup_range


def roll_up_demo_history(demo: DemoCampus, history: DemoHistory) -> bool:
    """Roll up the period of ``history`` so that the reports show it at once; return whether it ran.

    It runs when readings were stored, or when nothing of the period is rolled up yet (an earlier
    run stopped before it): a second seed_demo the same day changes nothing.
    """
    if not history.days:
        return False
    rolled = RoomSlot.objects.filter(campus=demo.campus, start__gte=history.start, start__lt=history.end).exists()
    if history.stored == 0 and rolled:
        return False
    rollup_range(start=history.start, end=history.end, campus=demo.campus)
    return True
