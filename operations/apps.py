from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Running Kampus: /healthz, Prometheus metrics at /metrics, the request log."""

    name = "operations"
    verbose_name = _("Operations")
