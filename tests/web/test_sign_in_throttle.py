"""Sign-in throttling: too many wrong passwords pause signing in, per account and per address."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory
from django.urls import reverse

from api.tokens import token_create
from campus.models import Membership, Role
from campus.sign_in_throttle import client_ip_address
from tests.conftest import make_user

PASSWORD = "pass-for-tests-1"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def facility_manager(joint_campus):
    user = make_user("fanni.manninen")
    Membership.objects.create(user=user, institution=joint_campus.lukio, role=Role.FACILITY_MANAGER)
    return user


def browser(address: str = "127.0.0.1", language: str = "en") -> Client:
    return Client(headers={"accept-language": language}, REMOTE_ADDR=address)


def sign_in(client: Client, username: str, password: str, url: str | None = None):
    return client.post(url or reverse("login"), {"username": username, "password": password})


def fail_until_the_limit(client: Client, username: str, url: str | None = None) -> None:
    """Post wrong passwords for ``username`` up to the account limit; all but the last show the form."""
    limit = settings.AXES_FAILURE_LIMIT
    for attempt in range(1, limit + 1):
        response = sign_in(client, username, f"wrong-{attempt}", url)
        expected = 429 if attempt == limit else 200
        assert response.status_code == expected, f"attempt {attempt} answered {response.status_code}"


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert "too many failed sign-in attempts" in response.text
    assert f"paused for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in response.text
    assert SESSION_KEY not in response.wsgi_request.session


def test_the_default_limits_come_from_the_environment_with_sane_defaults():
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.KAMPUS_SIGN_IN_ADDRESS_LIMIT == 50
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_too_many_wrong_passwords_refuse_the_account_even_with_the_right_password(teacher):
    client = browser()

    fail_until_the_limit(client, teacher.username)
    response = sign_in(client, teacher.username, PASSWORD)

    assert_locked_out(response)
    assert '<a class="button" href="/accounts/login/">' in response.text


def test_the_lockout_holds_from_another_address_too(teacher):
    fail_until_the_limit(browser("10.1.1.1"), teacher.username)

    response = sign_in(browser("10.2.2.2"), teacher.username, PASSWORD)

    assert_locked_out(response)


def test_the_admin_sign_in_is_throttled_like_the_site_sign_in(facility_manager):
    client = browser()

    fail_until_the_limit(client, facility_manager.username, ADMIN_LOGIN)
    response = sign_in(client, facility_manager.username, PASSWORD, ADMIN_LOGIN)

    assert_locked_out(response)
    assert f'href="{ADMIN_LOGIN}"' in response.text
    assert client.get("/admin/").status_code == 302  # still signed out: sent to the sign-in page


def test_many_usernames_from_one_address_pause_that_address_only(teacher):
    attacker = browser("10.9.9.9")
    for number in range(settings.KAMPUS_SIGN_IN_ADDRESS_LIMIT):
        response = sign_in(attacker, f"guess.{number}", "wrong")
    assert response.status_code == 429

    assert_locked_out(sign_in(browser("10.9.9.9"), teacher.username, PASSWORD))
    assert sign_in(browser("10.8.8.8"), teacher.username, PASSWORD).status_code == 302


def test_failures_below_the_address_limit_do_not_lock_an_address(teacher):
    """One address's failures for different people (a school behind NAT) stay below its own limit."""
    school = browser("10.7.7.7")
    for number in range(settings.KAMPUS_SIGN_IN_ADDRESS_LIMIT - 1):
        assert sign_in(school, f"pupil.{number}", "wrong").status_code == 200

    assert sign_in(browser("10.7.7.7"), teacher.username, PASSWORD).status_code == 302


def test_signing_in_works_again_after_the_cool_off(teacher):
    fail_until_the_limit(browser(), teacher.username)
    assert sign_in(browser(), teacher.username, PASSWORD).status_code == 429

    past = dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    AccessAttempt.objects.update(attempt_time=past)
    response = sign_in(browser(), teacher.username, PASSWORD)

    assert response.status_code == 302
    assert response.wsgi_request.session[SESSION_KEY] == str(teacher.pk)


def test_a_reset_by_an_administrator_unlocks_the_account(teacher):
    fail_until_the_limit(browser(), teacher.username)

    reset(username=teacher.username)  # what `manage.py axes_reset_username` does

    assert sign_in(browser(), teacher.username, PASSWORD).status_code == 302


def test_the_lockout_page_speaks_the_browsers_language(teacher):
    client = browser(language="fi")
    fail_until_the_limit(client, teacher.username)

    response = sign_in(client, teacher.username, PASSWORD)

    assert response.status_code == 429
    assert '<html lang="fi">' in response.text
    assert "Kirjautuminen on tauolla" in response.text


def test_a_locked_out_account_keeps_its_api_token_and_test_sign_ins(teacher):
    _, token = token_create(user=teacher, name="script")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    fail_until_the_limit(browser(), teacher.username)

    assert api.get("/api/v1/me").status_code == 200
    signed_in = Client()
    signed_in.force_login(teacher)
    assert signed_in.get(reverse("bookings:mine")).status_code == 200


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(settings):
    settings.KAMPUS_TRUST_X_FORWARDED_FOR = False
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7")

    assert client_ip_address(request) == "10.0.0.1"


def test_behind_a_trusted_proxy_the_address_the_proxy_saw_counts(settings):
    settings.KAMPUS_TRUST_X_FORWARDED_FOR = True
    # The client made up the first entry; nginx appended the address it really saw.
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.7")

    assert client_ip_address(request) == "192.0.2.7"


def test_behind_a_trusted_proxy_each_client_is_throttled_by_its_own_address(settings, teacher):
    settings.KAMPUS_TRUST_X_FORWARDED_FOR = True
    proxy = "127.0.0.1"
    attacker = Client(headers={"accept-language": "en"}, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.66")
    for number in range(settings.KAMPUS_SIGN_IN_ADDRESS_LIMIT):
        sign_in(attacker, f"guess.{number}", "wrong")

    colleague = Client(headers={"accept-language": "en"}, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert sign_in(colleague, teacher.username, PASSWORD).status_code == 302
