"""The ingester's configuration, without a broker: the broker URL, the topics it reads, its client id."""

from __future__ import annotations

import socket

import pytest
from django.core.management import CommandError, call_command

from sensors.ingester import BrokerAddress, Ingester, default_client_id, parse_mqtt_url


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("mqtt://127.0.0.1:1883", BrokerAddress("127.0.0.1", 1883, None, None, tls=False)),
        ("mqtt://broker.example.org", BrokerAddress("broker.example.org", 1883, None, None, tls=False)),
        ("mqtts://broker.example.org", BrokerAddress("broker.example.org", 8883, None, None, tls=True)),
        (
            "mqtt://kampus-ingester:p%40ss%3Aword@10.0.0.5:1884",
            BrokerAddress("10.0.0.5", 1884, "kampus-ingester", "p@ss:word", tls=False),
        ),
    ],
)
def test_the_broker_url_gives_host_port_account_and_tls(url, address):
    assert parse_mqtt_url(url) == address


def test_a_url_of_another_scheme_is_refused():
    with pytest.raises(ValueError, match="mqtt://HOST:PORT"):
        parse_mqtt_url("http://127.0.0.1:1883")


def ingester(**options) -> Ingester:
    return Ingester(url="mqtt://127.0.0.1:1883", topic_prefix="/kampus/sensors/", client_id="test", **options)


@pytest.mark.parametrize(
    ("topic", "external_id"),
    [
        ("kampus/sensors/a101-door", "a101-door"),
        ("kampus/sensors/", None),
        ("kampus/other/a101-door", None),
        ("kampus/sensors/a/b", None),
        ("a101-door", None),
    ],
)
def test_the_sensor_is_the_last_topic_level_under_the_prefix(topic, external_id):
    assert ingester().external_id(topic) == external_id


def test_the_subscription_is_shared_only_when_asked():
    assert ingester().subscription == "kampus/sensors/+"
    assert ingester(shared_group="kampus").subscription == "$share/kampus/kampus/sensors/+"


def test_the_default_client_id_is_stable_and_names_the_host():
    assert default_client_id() == default_client_id() == f"kampus-ingester-{socket.gethostname()}"[:128]


@pytest.mark.parametrize("group", ["", "a/b", "a+", "#"])
def test_a_shared_group_that_is_no_topic_level_is_refused(group):
    with pytest.raises(CommandError, match="--shared"):
        call_command("ingest_mqtt", "--shared", group)
