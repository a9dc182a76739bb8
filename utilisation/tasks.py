"""django-q2 entry points of the utilisation app: they call the services. Schedules are created by migrations."""

from __future__ import annotations

from utilisation.rollups import rollup_pending


def rollup_readings() -> str:
    """Roll up the readings received and bookings changed since the last run (every 5 minutes)."""
    return str(rollup_pending())
