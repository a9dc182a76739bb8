"""A person in the utilisation app: the report jobs they asked for and the door displays they set up."""

from __future__ import annotations

from typing import Any

from campus.models import User
from campus.personal_data import iso
from utilisation.models import DoorDisplay, ReportJob


def export_utilisation_data(user: User) -> dict[str, Any]:
    """Return the person's report jobs (parameters and dates) and the door displays they set up (no secrets)."""
    return {
        "report_jobs": [
            {"params": job.params, "status": job.status, "created_at": iso(job.created_at)}
            for job in ReportJob.objects.filter(requested_by=user).order_by("created_at")
        ],
        "door_displays_created": [
            {"name": display.name, "room": display.room.label, "created_at": iso(display.created_at)}
            for display in DoorDisplay.objects.filter(created_by=user).select_related("room").order_by("created_at")
        ],
    }
