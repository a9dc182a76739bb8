from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UtilisationConfig(AppConfig):
    """Measured use of rooms next to their bookings: rollups, metrics, reports, check-in and auto-release.

    The top layer of the domain: it reads bookings and sensors and neither of them imports it.
    """

    name = "utilisation"
    verbose_name = _("Utilisation")

    def ready(self) -> None:
        from campus.personal_data import register_personal_data
        from utilisation.personal_data import export_utilisation_data

        register_personal_data("utilisation", export=export_utilisation_data)
