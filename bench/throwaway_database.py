"""A benchmark's own PostgreSQL database: made fresh on the server of DATABASE_URL, dropped afterwards.

server_url = open_throwaway("kampus_bench_x")   # drop, create, point Django at it, django.setup()
server_url = open_throwaway("kampus_bench_x", fresh=False)   # a kept one as it is
...
drop_throwaway(server_url, "kampus_bench_x")
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789"


def database_url(url: str, name: str) -> str:
    """Return ``url`` naming the database ``name`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def admin(url: str, sql: str) -> None:
    """Run ``sql`` outside a transaction in the server's maintenance database (CREATE / DROP DATABASE)."""
    import psycopg2

    conn = psycopg2.connect(database_url(url, "postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(sql)
    conn.close()


def open_throwaway(name: str, *, fresh: bool = True) -> str:
    """Create database ``name`` afresh (or, not ``fresh``, take it as a kept run left it) on DATABASE_URL's server,
    set Django up on it; return the server's URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL=postgres://… (the benchmark measures Kampus on PostgreSQL)")
    if fresh:
        drop_throwaway(url, name)
        admin(url, f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = database_url(url, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campus.settings")
    os.environ.setdefault("SECRET_KEY", SECRET_KEY)

    import django

    django.setup()
    return url


def drop_throwaway(url: str, name: str) -> None:
    admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
