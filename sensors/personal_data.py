"""A person in the sensors app: the offline notices sent to them and the gateway tokens they made."""

from __future__ import annotations

from typing import Any

from campus.models import User
from campus.personal_data import iso
from sensors.models import IngestToken, OfflineNotice


def export_sensor_data(user: User) -> dict[str, Any]:
    """Return the offline notices sent to the person and the gateway tokens they made (no secrets)."""
    notices = OfflineNotice.objects.filter(recipient=user).prefetch_related("sensors").order_by("created_at", "pk")
    return {
        "offline_notices": [
            {
                "subject": notice.subject,
                "sensors": sorted(sensor.external_id for sensor in notice.sensors.all()),
                "created_at": iso(notice.created_at),
                "sent_at": iso(notice.sent_at),
            }
            for notice in notices
        ],
        "gateway_tokens_created": [
            {"name": token.name, "prefix": token.prefix, "created_at": iso(token.created_at)}
            for token in IngestToken.objects.filter(created_by=user).order_by("created_at", "pk")
        ],
    }
