from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UtilisationConfig(AppConfig):
    """Measured use of rooms next to their bookings: rollups, metrics, reports, check-in and auto-release.

    The top layer of the domain: it reads bookings and sensors and neither of them imports it.
    """

    name = "utilisation"
    verbose_name = _("Utilisation")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from campus.models import Institution
        from campus.personal_data import register_personal_data
        from utilisation.personal_data import export_utilisation_data
        from utilisation.room_days import institution_deleting

        register_personal_data("utilisation", export=export_utilisation_data)
        pre_delete.connect(institution_deleting, sender=Institution, dispatch_uid="room_days_institution_deleting")
