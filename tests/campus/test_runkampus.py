"""``manage.py runkampus`` (what ``./kampus run`` starts): the base URL of e-mail links follows its port."""

from __future__ import annotations

import pytest

from campus.management.commands.runkampus import Command, base_url_for, process_environment


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("localhost", 8000, "http://localhost:8000"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),  # listening everywhere: links to this machine
        ("::", 9000, "http://[::1]:9000"),
        ("::1", 8080, "http://[::1]:8080"),
    ],
)
def test_the_base_url_follows_the_host_and_port_of_the_web_server(host, port, url):
    assert base_url_for(host, port) == url


def test_the_processes_get_the_base_url_of_the_chosen_port():
    environment = process_environment({"PATH": "/usr/bin"}, host="127.0.0.1", port=8765)

    assert environment["KAMPUS_BASE_URL"] == "http://127.0.0.1:8765"
    assert environment["PATH"] == "/usr/bin"


def test_an_explicit_base_url_wins():
    environment = process_environment({"KAMPUS_BASE_URL": "https://kampus.example.org"}, host="0.0.0.0", port=8765)

    assert environment["KAMPUS_BASE_URL"] == "https://kampus.example.org"


def test_the_port_option_reaches_the_web_server_and_the_base_url(monkeypatch):
    monkeypatch.delenv("KAMPUS_BASE_URL", raising=False)
    command = Command()
    options = command.create_parser("manage.py", "runkampus").parse_args(["--port", "8765", "--no-worker"])

    processes = command.processes(vars(options))

    assert processes[0].args[:2] == ["runserver", "127.0.0.1:8765"]
    assert processes[0].environment["KAMPUS_BASE_URL"] == "http://127.0.0.1:8765"
