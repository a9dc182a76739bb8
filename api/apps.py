from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from api.personal_data import erase_api_tokens, export_api_tokens
        from campus.personal_data import register_personal_data

        register_personal_data("api_tokens", export=export_api_tokens, erase=erase_api_tokens, order=20)
