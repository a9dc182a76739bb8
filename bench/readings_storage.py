"""Readings storage on PostgreSQL: which index (and whether monthly partitions) serves millions of readings.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/readings_storage.py
    DATABASE_URL=... python bench/readings_storage.py --sensors 100 --days 120 --every 300

Creates a throwaway database (``kampus_bench_readings`` on the server of DATABASE_URL, dropped
afterwards) and, for each layout, a table shaped like ``sensors_reading`` (with its unique
``(sensor_id, ts)`` index, which idempotent ingest needs in every layout):

- ``btree``: plus a B-tree on ``(room_id, ts)`` (what ``sensors/models.py`` declares);
- ``brin``: plus a BRIN on ``ts`` instead;
- ``brin, rooms via sensors``: the same, but a room's readings are asked for by its sensors' ids
  (``sensor_id = ANY(…) AND room_id = …``), which the unique index answers;
- ``partitioned``: monthly partitions on ``ts``, each with the unique index and a BRIN on ``ts``;
  rooms via sensors.

It loads ``--sensors`` sensors (one per room) reporting every ``--every`` seconds for ``--days``
days, in arrival order, through the ingest path (COPY into a staging table, then INSERT … SELECT …
ON CONFLICT DO NOTHING, batches of ``--batch``), and prints per layout: load rate, table and index
sizes, median times of the report queries (one room for a day and a week, all rooms for a
15-minute slot and for a day) and of deleting the oldest month (retention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE = "kampus_bench_readings"
ROOMS_VIA_SENSORS = {"brin, rooms via sensors", "partitioned"}
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

COLUMNS = (
    "sensor_id bigint NOT NULL, room_id bigint NOT NULL, campus_id bigint NOT NULL, ts timestamptz NOT NULL, "
    "count integer, present boolean, received_at timestamptz NOT NULL"
)


def database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def connect(url: str):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or None,
        password=parts.password or None,
        dbname=parts.path.lstrip("/") or "postgres",
    )


def layouts(days: int) -> dict[str, list[str]]:
    """Return the DDL of each layout (the table is always called ``reading``)."""
    unique = "CREATE UNIQUE INDEX reading_sensor_ts ON reading (sensor_id, ts)"
    plain = f"CREATE TABLE reading (id bigserial PRIMARY KEY, {COLUMNS})"
    months = []
    month = START.replace(day=1)
    end = START + dt.timedelta(days=days + 1)
    while month < end:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        months.append(
            f"CREATE TABLE reading_{month:%Y_%m} PARTITION OF reading FOR VALUES FROM ('{month.isoformat()}') "
            f"TO ('{following.isoformat()}')"
        )
        month = following
    return {
        "btree": [plain, unique, "CREATE INDEX reading_room_ts ON reading (room_id, ts)"],
        "brin": [plain, unique, "CREATE INDEX reading_ts_brin ON reading USING brin (ts)"],
        "brin, rooms via sensors": [plain, unique, "CREATE INDEX reading_ts_brin ON reading USING brin (ts)"],
        "partitioned": [
            f"CREATE TABLE reading (id bigserial, {COLUMNS}, PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts)",
            *months,
            unique,
            "CREATE INDEX reading_ts_brin ON reading USING brin (ts)",
        ],
    }


def rows(sensors: int, days: int, every: int):
    """Yield readings in arrival order: every sensor once per ``every`` seconds, a little jitter."""
    rng = random.Random(7)
    steps = days * 86400 // every
    for step in range(steps):
        base = START + dt.timedelta(seconds=step * every)
        for sensor in range(1, sensors + 1):
            ts = base + dt.timedelta(seconds=rng.randrange(every))
            yield sensor, sensor, 1, ts, rng.randrange(0, 40), None, ts


def load(cursor, connection, source, batch: int) -> tuple[int, float]:
    cursor.execute(f"CREATE TEMP TABLE stage ({COLUMNS}) ON COMMIT DELETE ROWS")
    connection.commit()
    loaded, started = 0, time.perf_counter()
    buffer = io.StringIO()
    pending = 0

    def flush() -> None:
        nonlocal buffer, pending
        buffer.seek(0)
        cursor.copy_expert("COPY stage FROM STDIN", buffer)
        cursor.execute(
            "INSERT INTO reading (sensor_id, room_id, campus_id, ts, count, present, received_at) "
            "SELECT * FROM stage ORDER BY sensor_id, ts ON CONFLICT (sensor_id, ts) DO NOTHING"
        )
        connection.commit()
        buffer, pending = io.StringIO(), 0

    for sensor, room, campus, ts, count, _present, received in source:
        buffer.write(f"{sensor}\t{room}\t{campus}\t{ts.isoformat()}\t{count}\t\\N\t{received.isoformat()}\n")
        pending += 1
        loaded += 1
        if pending == batch:
            flush()
    if pending:
        flush()
    return loaded, time.perf_counter() - started


def timed(cursor, sql: str, params_of: Callable[[random.Random], tuple], repeats: int) -> float:
    rng = random.Random(11)
    times = []
    for _ in range(repeats):
        params = params_of(rng)
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(url: str, name: str, ddl: list[str], args: argparse.Namespace) -> dict[str, float | str]:
    connection = connect(url)
    cursor = connection.cursor()
    cursor.execute("DROP TABLE IF EXISTS reading CASCADE")
    for statement in ddl:
        cursor.execute(statement)
    connection.commit()
    loaded, seconds = load(cursor, connection, rows(args.sensors, args.days, args.every), args.batch)
    connection.autocommit = True  # VACUUM runs outside a transaction
    cursor.execute("VACUUM ANALYZE reading")
    connection.autocommit = False
    cursor.execute(
        "SELECT coalesce(sum(pg_table_size(c.oid)), 0) FROM pg_class c WHERE c.relkind = 'r' "
        "AND (c.relname = 'reading' OR c.relname LIKE 'reading\\_20%%')"
    )
    table_size = cursor.fetchone()[0]
    cursor.execute(
        "SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE c.relname = 'reading' OR c.relname LIKE 'reading\\_20%%'"
    )
    index_size = cursor.fetchone()[0]
    last_day = args.days - 2

    def day(rng: random.Random) -> dt.datetime:
        return START + dt.timedelta(days=rng.randrange(1, last_day))

    via_sensors = name in ROOMS_VIA_SENSORS
    room_sensors = "sensor_id = ANY(ARRAY[%s]::bigint[]) AND " if via_sensors else ""

    def room_range(length: dt.timedelta) -> Callable[[random.Random], tuple]:
        def params(rng: random.Random) -> tuple:
            room = rng.randrange(1, args.sensors + 1)
            start = day(rng)
            head = (room,) if via_sensors else ()
            return (*head, room, start, start + length)

        return params

    room_sql = (
        f"SELECT count(*), avg(count), max(count) FROM reading WHERE {room_sensors}room_id = %s "
        "AND ts >= %s AND ts < %s"
    )
    slot_sql = "SELECT room_id, avg(count), max(count) FROM reading WHERE ts >= %s AND ts < %s GROUP BY room_id"
    results: dict[str, float | str] = {
        "layout": name,
        "rows": loaded,
        "load rows/s": loaded / seconds,
        "table MB": table_size / 2**20,
        "indexes MB": index_size / 2**20,
        "room, day ms": timed(cursor, room_sql, room_range(dt.timedelta(days=1)), args.repeats),
        "room, week ms": timed(cursor, room_sql, room_range(dt.timedelta(days=7)), args.repeats),
        "all rooms, 15 min ms": timed(
            cursor, slot_sql, lambda rng: (s := day(rng), s + dt.timedelta(minutes=15)), args.repeats
        ),
        "all rooms, day ms": timed(
            cursor, slot_sql, lambda rng: (s := day(rng), s + dt.timedelta(days=1)), max(5, args.repeats // 5)
        ),
    }
    connection.commit()
    cutoff = (START + dt.timedelta(days=32)).replace(day=1)
    started = time.perf_counter()
    if name == "partitioned":
        cursor.execute(f"DROP TABLE reading_{START:%Y_%m}")
    else:
        cursor.execute("DELETE FROM reading WHERE ts < %s", (cutoff,))
    connection.commit()
    results["drop oldest month s"] = time.perf_counter() - started
    cursor.execute("DROP TABLE reading CASCADE")
    connection.commit()
    connection.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sensors", type=int, default=100)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--every", type=int, default=300, help="seconds between a sensor's readings")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--layouts", nargs="*", default=None)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL=postgres://USER@HOST:PORT/ANY: the benchmark needs PostgreSQL.", file=sys.stderr)
        return 2
    admin = connect(database_url(url, "postgres"))
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    admin.cursor().execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    try:
        bench_url = database_url(url, BENCH_DATABASE)
        chosen = layouts(args.days)
        names = args.layouts or list(chosen)
        results = []
        for name in names:
            result = measure(bench_url, name, chosen[name], args)
            results.append(result)
            print(
                "  ".join(
                    f"{key} {value:.2f}" if isinstance(value, float) else f"{key} {value}"
                    for key, value in result.items()
                ),
                flush=True,
            )
        keys = list(results[0])
        print("\n| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for result in results:
            cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in result.values()]
            print("| " + " | ".join(cells) + " |")
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
