from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    """Occupancy sensors and their readings (MQTT ingestion arrives with its own issue)."""

    name = "sensors"
    verbose_name = _("Sensors")

    def ready(self) -> None:
        from campus.personal_data import register_personal_data
        from sensors.personal_data import export_sensor_data

        register_personal_data("sensors", export=export_sensor_data)
