"""Test settings: the real settings with a test-only key and plain HTTP for the test client."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("KAMPUS_MANIFEST_STATIC", "0")
# REDIS_URL names the Redis that the tests of the Redis job queue start their workers on
# (tests/campus/test_job_queue_on_redis.py); the test process itself, and every process a test starts
# without asking for Redis, keeps the jobs in the test database.
TEST_REDIS_URL = os.environ.pop("REDIS_URL", "")

from campus.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the race tests need several connections to one database.
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    # One file per test run, so that parallel runs on one machine do not share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
