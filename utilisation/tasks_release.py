"""django-q2 entry points of auto-release; the schedule (every minute) is created by a migration."""

from __future__ import annotations

from utilisation.auto_release import release_no_shows


def release_no_show_bookings() -> str:
    """Release the confirmed bookings nobody uses (every minute)."""
    return str(release_no_shows())
