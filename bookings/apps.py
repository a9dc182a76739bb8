from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed

        from bookings.personal_data import erase_bookings_data, export_bookings_data
        from bookings.signals import refuse_section_change_under_bookings
        from campus.models import Room
        from campus.personal_data import register_personal_data

        m2m_changed.connect(
            refuse_section_change_under_bookings,
            sender=Room.sections.through,
            dispatch_uid="bookings.refuse_section_change_under_bookings",
        )
        register_personal_data("bookings", export=export_bookings_data, erase=erase_bookings_data, order=10)
