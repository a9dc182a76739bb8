from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    """Occupancy sensors and their readings (MQTT ingestion arrives with its own issue)."""

    name = "sensors"
    verbose_name = _("Sensors")
