"""Run the MQTT ingester: sensor messages from the broker into readings (see sensors/ingester.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sensors.ingester import ingester_from_settings


class Command(BaseCommand):
    help = (
        "Subscribe to the sensor topics (MQTT_URL, MQTT_TOPIC_PREFIX) and store the readings; "
        "SIGTERM or Ctrl-C writes what was received and stops."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--shared",
            metavar="GROUP",
            help="Share the subscription with the other ingesters of GROUP ($share/GROUP/…): each message goes to one.",
        )
        parser.add_argument(
            "--client-id",
            help="MQTT client id (default MQTT_CLIENT_ID or kampus-ingester-<host>); keep it stable, and give each "
            "ingester of a shared group its own.",
        )
        parser.add_argument("--url", help="Broker URL instead of MQTT_URL, e.g. mqtt://user:password@host:1883.")

    def handle(self, *args: Any, shared: str | None, client_id: str | None, url: str | None, **options: Any) -> None:
        if shared is not None and (not shared or any(c in shared for c in "/+#")):
            raise CommandError("--shared takes a group name without '/', '+' or '#'.")
        try:
            ingester = ingester_from_settings(shared_group=shared, client_id=client_id, url=url)
        except ValueError as error:
            raise CommandError(str(error)) from error
        ingester.install_signal_handlers()
        ingester.run()
