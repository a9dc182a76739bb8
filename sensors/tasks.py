"""django-q2 entry points of the sensors app: load rows, call services. Schedules are created by migrations."""

from __future__ import annotations

from sensors import services


def purge_old_readings() -> str:
    """Delete raw readings and dead letters older than their retention (settings KAMPUS_SENSOR_*_RETENTION_DAYS)."""
    return str(services.readings_purge())
