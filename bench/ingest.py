"""Ingest throughput end to end: publisher → Mosquitto → ingester → PostgreSQL, against a bare paho → COPY loop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kampus python bench/ingest.py
    DATABASE_URL=... python bench/ingest.py --messages 20000 --batch-messages 1000 --sensors 200
    DATABASE_URL=... python bench/ingest.py --soak                # memory over 10 minutes instead
    DATABASE_URL=... python bench/ingest.py --soak 60             # a quick one

Sets up a throwaway database (``kampus_bench_ingest`` on the server of DATABASE_URL, dropped
afterwards), migrates it and registers ``--sensors`` people counters; starts a Mosquitto from
deploy/mosquitto.conf on a spare loopback port (as the tests of loss do) and, for each of two
message shapes,

- **single**: one reading per message (``{"ts": …, "count": …}``), ``--messages`` messages;
- **batch**: 100 readings per message (a JSON list), ``--batch-messages`` messages;

runs two consumers on the same messages, one after the other:

- **kampus**: ``manage.py ingest_mqtt`` as in production (validation, dead letters, COPY into a
  staging table, INSERT … ON CONFLICT DO NOTHING, last seen, acks after the commit);
- **bare**: the machine's limit: a paho client with the same session and manual acks that parses
  the JSON and COPYs the rows straight into a table shaped like the readings table (same indexes),
  commits and acknowledges; no checks at all.

A consumer is started and subscribed, then one publisher (QoS 1, MQTT v5) sends every message as
fast as the broker takes them; the rate is readings stored per second from the first publish to the
last row committed. It prints each phase, the publisher's own rate, and kampus / bare per shape;
the exit status is 1 if a phase did not store every reading.

**Soak** (``--soak [SECONDS]``, 600 when no number is given; the throughput phases are skipped): one
``manage.py ingest_mqtt`` receives a steady stream (``--soak-rate`` single-reading messages a
second, QoS 1) for that long; its resident memory (VmRSS) is sampled every ``--soak-sample``
seconds. It prints the samples, RSS at the start (after the first minute of warm-up, or a tenth
of a shorter run), in the middle and at the end, and the slope of a least-squares line through the
samples after the warm-up (KiB per minute): a leak shows as a steady positive slope. The exit
status is 1 if a reading was not stored. ``--database-name`` names the throwaway database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_DATABASE = "kampus_bench_ingest"
BARE_TABLE = "bench_bare_reading"
PER_BATCH_MESSAGE = 100
COPY_COLUMNS = "(sensor_id, room_id, campus_id, ts, count, present, received_at)"


# --- The bare consumer: paho → json → COPY, nothing else ------------------------------------------------


def bare_consumer(args: argparse.Namespace) -> int:
    """Subscribe like the ingester, COPY every reading into the bare table, ack after the commit; stop on SIGTERM."""
    import paho.mqtt.client as mqtt
    import psycopg2
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    address = urlsplit(args.url)
    sensors = json.loads(args.sensors_json)  # external id → [sensor id, room id, campus id]
    inbox: queue.Queue = queue.Queue()
    stopping = threading.Event()
    subscribed = threading.Event()
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=args.client_id, protocol=mqtt.MQTTv5, manual_ack=True
    )
    client.username_pw_set(unquote(address.username or ""), unquote(address.password or ""))

    def on_connect(client, userdata, flags, reason, properties):
        print("connected", flush=True)
        client.subscribe(f"{args.prefix}/+", qos=1)

    def on_subscribe(client, userdata, mid, reasons, properties):
        print("subscribed", flush=True)
        subscribed.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = lambda client, userdata, msg: inbox.put((msg.topic, msg.payload, msg.mid, msg.qos))
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 600
    properties.ReceiveMaximum = 2 * args.batch_size
    client.connect(address.hostname, address.port, clean_start=False, properties=properties)
    client.loop_start()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    database = psycopg2.connect(args.database_url)
    stored = 0
    batch: list = []
    oldest = 0.0

    def flush() -> None:
        nonlocal batch, stored
        buffer = io.StringIO()
        received = dt.datetime.now(dt.UTC).isoformat()
        rows = 0
        for topic, payload, _mid, _qos in batch:
            ids = sensors[topic.rsplit("/", 1)[-1]]
            document = json.loads(payload)
            for item in document if isinstance(document, list) else [document]:
                buffer.write(f"{ids[0]}\t{ids[1]}\t{ids[2]}\t{item['ts']}\t{item['count']}\t\\N\t{received}\n")
                rows += 1
        buffer.seek(0)
        with database.cursor() as cursor:
            cursor.copy_expert(f"COPY {BARE_TABLE} {COPY_COLUMNS} FROM STDIN", buffer)
        database.commit()
        for _topic, _payload, mid, qos in batch:
            client.ack(mid, qos)
        stored += rows
        batch = []

    while not stopping.is_set():
        try:
            item = inbox.get(timeout=args.flush_seconds)
            if not batch:
                oldest = time.monotonic()
            batch.append(item)
        except queue.Empty:
            pass
        if batch and (len(batch) >= args.batch_size or time.monotonic() - oldest >= args.flush_seconds):
            flush()
    if batch:
        flush()
    client.disconnect()
    client.loop_stop()
    database.close()
    print(f"bare consumer stopped: stored={stored}", flush=True)
    return 0


# --- The run ---------------------------------------------------------------------------------------


@dataclass
class Result:
    shape: str
    consumer: str
    messages: int
    readings: int
    publish_seconds: float
    seconds: float
    consumer_cpu: float

    @property
    def rate(self) -> float:
        return self.readings / self.seconds

    def line(self) -> str:
        return (
            f"{self.shape:<7} {self.consumer:<15} {self.messages:>7} messages {self.readings:>8} readings"
            f"   published in {self.publish_seconds:6.2f} s ({self.messages / self.publish_seconds:8.0f} msg/s)"
            f"   stored in {self.seconds:6.2f} s: {self.rate:8.0f} readings/s {self.messages / self.seconds:8.0f} msg/s"
            f"   consumer CPU {self.consumer_cpu:5.2f} s"
        )


def build_world(sensors: int) -> dict[str, list[int]]:
    from campus.models import Building, Campus, Institution, InstitutionKind, Room
    from sensors.models import Sensor, SensorKind

    campus = Campus.objects.create(name="Bench Campus")
    school = Institution.objects.create(
        campus=campus, name="Bench", short_code="bench", kind=InstitutionKind.VOCATIONAL
    )
    building = Building.objects.create(campus=campus, code="A", name="Main building")
    world = {}
    for n in range(sensors):
        room = Room.objects.create(building=building, code=f"R{n:03d}", name=f"Room {n}", capacity=40, owner=school)
        sensor = Sensor.objects.create(external_id=f"bench-{n:03d}", kind=SensorKind.COUNT, room=room)
        world[sensor.external_id] = [sensor.pk, room.pk, campus.pk]
    return world


def payloads(shape: str, count: int, sensors: list[str], start: dt.datetime) -> list[tuple[str, bytes]]:
    """Return (external id, payload) of ``count`` messages, every reading at a time of its own per sensor."""
    messages = []
    per = 1 if shape == "single" else PER_BATCH_MESSAGE
    for n in range(count):
        external_id = sensors[n % len(sensors)]
        first = (n // len(sensors)) * per
        items = [
            {"ts": (start + dt.timedelta(seconds=first + k)).isoformat(), "count": (n + k) % 40} for k in range(per)
        ]
        messages.append((external_id, json.dumps(items[0] if shape == "single" else items).encode()))
    return messages


def shifted(messages: list[tuple[str, bytes]], seconds: int) -> list[tuple[str, bytes]]:
    """Return ``messages`` with every time ``seconds`` later: the same load, readings not yet stored."""
    out = []
    for external_id, payload in messages:
        document = json.loads(payload)
        for item in document if isinstance(document, list) else [document]:
            item["ts"] = (dt.datetime.fromisoformat(item["ts"]) + dt.timedelta(seconds=seconds)).isoformat()
        out.append((external_id, json.dumps(document).encode()))
    return out


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system, all threads) process ``pid`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_rows(url: str, table: str) -> int:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            return cursor.fetchone()[0]
    finally:
        conn.close()


def run_phase(
    *,
    shape: str,
    consumer: str,
    drain: bool,
    messages: list[tuple[str, bytes]],
    readings: int,
    broker,
    bench_url: str,
    world: dict,
    args: argparse.Namespace,
) -> Result:
    """Measure one consumer on ``messages``: while they are published (end to end), or, with ``drain``,
    after all of them were queued for it while it was stopped (the consumer's own limit)."""
    from tests.sensors.mqtt import GATEWAY_ACCOUNT, Publisher, wait_until

    table = "sensors_reading" if consumer == "kampus" else BARE_TABLE
    before = count_rows(bench_url, table)
    client_id = f"bench-{consumer}-{shape}-{'drain' if drain else 'live'}"
    if consumer == "kampus":
        command = [sys.executable, str(REPO / "manage.py"), "ingest_mqtt", "--client-id", client_id]
        command += ["--url", broker.url()]
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "bare", "--url", broker.url()]
        command += ["--client-id", client_id, "--database-url", bench_url, "--sensors-json", json.dumps(world)]
        command += ["--batch-size", str(args.ingest_batch), "--flush-seconds", str(args.flush_seconds)]
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "INGEST_BATCH_SIZE": str(args.ingest_batch),
        "INGEST_FLUSH_SECONDS": str(args.flush_seconds),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        "PYTHONUNBUFFERED": "1",
    }
    log = broker.directory / f"{client_id}.log"

    def start() -> subprocess.Popen:
        with log.open("a") as output:
            return subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)

    def publish_all() -> float:
        publisher = Publisher(broker.url(GATEWAY_ACCOUNT), inflight=1000)
        began = time.monotonic()
        for external_id, payload in messages:
            publisher.publish(f"kampus/sensors/{external_id}", payload)
        publisher.wait_until_delivered(timeout=600)
        publisher.close()
        return time.monotonic() - began

    process = start()
    try:
        wait_until(lambda: "subscribed" in log.read_text(), timeout=60, what=f"the {consumer} consumer subscribes")
        if drain:
            process.send_signal(signal.SIGTERM)  # its session, with the subscription, stays on the broker
            process.wait(timeout=60)
            published = publish_all()
            process = start()
            wait_until(lambda: log.read_text().count("connected") >= 2, timeout=60, interval=0.005, what="reconnect")
            began = time.monotonic()
            cpu_at_start = cpu_seconds(process.pid)
        else:
            began = time.monotonic()
            cpu_at_start = cpu_seconds(process.pid)
            published = publish_all()
        target = before + readings
        deadline = began + 900
        while count_rows(bench_url, table) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        seconds = time.monotonic() - began
        stored = count_rows(bench_url, table) - before
        cpu = cpu_seconds(process.pid) - cpu_at_start
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    if os.environ.get("BENCH_LOG_LEVEL") == "DEBUG":
        print(log.read_text()[-3000:])
    if stored != readings:
        print(log.read_text()[-2000:])
        raise SystemExit(f"{consumer} {shape}: stored {stored} of {readings} readings")
    return Result(shape, f"{consumer}{' (drain)' if drain else ''}", len(messages), readings, published, seconds, cpu)


# --- Soak: the ingester's memory under a steady stream -------------------------------------------------


def rss_kib(pid: int) -> int:
    """Return the resident set size of process ``pid`` in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Return the least-squares slope of (seconds, KiB) samples, in KiB per minute."""
    count = len(samples)
    if count < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / count
    mean_r = sum(r for _, r in samples) / count
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if not spread:
        return 0.0
    return 60 * sum((t - mean_t) * (r - mean_r) for t, r in samples) / spread


def run_soak(*, seconds: float, rate: float, sample_every: float, broker, bench_url: str, sensors: list[str]) -> int:
    """Stream ``rate`` messages a second for ``seconds`` to one ingester; print its RSS over time; 0 if all stored."""
    from tests.sensors.mqtt import GATEWAY_ACCOUNT, Publisher, wait_until

    client_id = "bench-kampus-soak"
    command = [sys.executable, str(REPO / "manage.py"), "ingest_mqtt", "--client-id", client_id, "--url", broker.url()]
    env = {**os.environ, "DATABASE_URL": bench_url, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
    log = broker.directory / f"{client_id}.log"
    with log.open("a") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    publisher = None
    samples: list[tuple[float, int]] = []
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    sent = 0
    try:
        wait_until(lambda: "subscribed" in log.read_text(), timeout=60, what="the ingester subscribes")
        publisher = Publisher(broker.url(GATEWAY_ACCOUNT), inflight=1000)
        began = time.monotonic()
        next_sample = began
        while (now := time.monotonic()) < began + seconds:
            if now >= next_sample:
                samples.append((now - began, rss_kib(process.pid)))
                print(f"  {now - began:7.0f} s  RSS {samples[-1][1] / 1024:7.1f} MiB  published {sent}", flush=True)
                next_sample += sample_every
                # Forget what the broker has acknowledged: the publisher's own memory stays flat too.
                publisher.sent = [info for info in publisher.sent if not info.is_published()]
            # Publish what is due by now: a steady rate, whatever each publish costs.
            due = int((now - began) * rate)
            while sent < due:
                external_id = sensors[sent % len(sensors)]
                ts = start + dt.timedelta(seconds=sent // len(sensors))
                body = json.dumps({"ts": ts.isoformat(), "count": sent % 40}).encode()
                publisher.publish(f"kampus/sensors/{external_id}", body)
                sent += 1
            time.sleep(min(0.05, max(0.0, next_sample - time.monotonic())))
        publisher.wait_until_delivered(timeout=600)
        deadline = time.monotonic() + 300
        while count_rows(bench_url, "sensors_reading") < sent and time.monotonic() < deadline:
            time.sleep(0.2)
        samples.append((time.monotonic() - began, rss_kib(process.pid)))
        stored = count_rows(bench_url, "sensors_reading")
    finally:
        if publisher is not None:
            publisher.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    warm_up = min(60.0, seconds / 10)
    settled = [sample for sample in samples if sample[0] >= warm_up] or samples
    first, middle, last = settled[0], settled[len(settled) // 2], settled[-1]
    print(
        f"soak: {seconds:.0f} s at {rate:.0f} msg/s ({sent} readings, {stored} stored); ingester RSS "
        f"start {first[1] / 1024:.1f} MiB (at {first[0]:.0f} s), "
        f"mid {middle[1] / 1024:.1f} MiB (at {middle[0]:.0f} s), "
        f"end {last[1] / 1024:.1f} MiB (at {last[0]:.0f} s); slope after {warm_up:.0f} s warm-up "
        f"{slope_per_minute(settled):+.1f} KiB/min; peak {max(r for _, r in samples) / 1024:.1f} MiB"
    )
    if stored != sent:
        print(log.read_text()[-2000:])
        print(f"soak: stored {stored} of {sent} readings")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="messages of one reading each")
    parser.add_argument("--batch-messages", type=int, default=1_000, help=f"messages of {PER_BATCH_MESSAGE} readings")
    parser.add_argument("--sensors", type=int, default=200)
    parser.add_argument("--ingest-batch", type=int, default=500, help="messages per database write (both consumers)")
    parser.add_argument("--flush-seconds", type=float, default=0.5)
    parser.add_argument(
        "--no-drain", dest="drain", action="store_false", help="skip the drain phases (the consumer's own limit)"
    )
    parser.add_argument(
        "--soak",
        type=float,
        nargs="?",
        const=600.0,
        default=0,
        metavar="SECONDS",
        help="instead of the throughput phases, stream to one ingester for SECONDS (600, the 10-minute soak, when "
        "no number is given; e.g. 60 for a quick run) and print its memory",
    )
    parser.add_argument("--soak-rate", type=float, default=200, help="messages a second during the soak")
    parser.add_argument("--soak-sample", type=float, default=5, help="seconds between RSS samples during the soak")
    parser.add_argument(
        "--database-name", default=BENCH_DATABASE, help=f"the throwaway database (default {BENCH_DATABASE})"
    )
    sub = parser.add_subparsers(dest="mode")
    bare = sub.add_parser("bare", help="(internal) run the bare consumer")
    for name in ("--url", "--client-id", "--database-url", "--sensors-json", "--prefix"):
        bare.add_argument(name, default="kampus/sensors" if name == "--prefix" else None)
    bare.add_argument("--batch-size", type=int, default=500)
    bare.add_argument("--flush-seconds", type=float, default=0.5)
    args = parser.parse_args(argv)
    if args.mode == "bare":
        return bare_consumer(args)

    from bench.throwaway_database import database_url, drop_throwaway, open_throwaway

    database_name = args.database_name
    url = open_throwaway(database_name)
    bench_url = database_url(url, database_name)
    from django.core.management import call_command
    from django.db import connection, connections

    from tests.sensors.mqtt import Broker, mosquitto_binary

    binary = mosquitto_binary()
    if binary is None:
        raise SystemExit("mosquitto is not installed: apt-get install mosquitto")
    broker = Broker(binary)
    try:
        call_command("migrate", verbosity=0)
        world = build_world(args.sensors)
        with connection.cursor() as cursor:
            # The same columns, constraints and indexes (the unique one and the BRIN) as the readings table.
            cursor.execute(f"CREATE TABLE {BARE_TABLE} (LIKE sensors_reading INCLUDING ALL)")
        connections.close_all()
        broker.start()
        sensors = sorted(world)
        if args.soak > 0:
            print(
                f"{args.sensors} sensors; soak of {args.soak:.0f} s at {args.soak_rate:.0f} msg/s; "
                f"Mosquitto {broker.port} from deploy/mosquitto.conf; PostgreSQL {urlsplit(url).hostname}"
            )
            return run_soak(
                seconds=args.soak,
                rate=args.soak_rate,
                sample_every=args.soak_sample,
                broker=broker,
                bench_url=bench_url,
                sensors=sensors,
            )
        print(
            f"{args.sensors} sensors; a database write per {args.ingest_batch} messages or {args.flush_seconds} s; "
            f"Mosquitto {broker.port} from deploy/mosquitto.conf; PostgreSQL {urlsplit(url).hostname}"
        )
        results = []
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=6)
        for shape, count in (("single", args.messages), ("batch", args.batch_messages)):
            messages = payloads(shape, count, sensors, start)
            start += dt.timedelta(hours=12)
            readings = count * (1 if shape == "single" else PER_BATCH_MESSAGE)
            for consumer, drain in (("kampus", False), ("bare", False), ("kampus", True), ("bare", True)):
                if drain and not args.drain:
                    continue
                result = run_phase(
                    shape=shape,
                    consumer=consumer,
                    drain=drain,
                    # Drain phases send the same load six hours later: readings not stored yet.
                    messages=shifted(messages, 6 * 3600) if drain else messages,
                    readings=readings,
                    broker=broker,
                    bench_url=bench_url,
                    world=world,
                    args=args,
                )
                results.append(result)
                print(result.line(), flush=True)
        for shape in ("single", "batch"):
            for suffix in ("", " (drain)") if args.drain else ("",):
                kampus, bare = (
                    r for r in results if r.shape == shape and r.consumer in {f"kampus{suffix}", f"bare{suffix}"}
                )
                print(
                    f"{shape}{suffix}: kampus {kampus.rate:.0f} readings/s, bare {bare.rate:.0f} readings/s, "
                    f"kampus / bare = {kampus.rate / bare.rate:.2f}"
                )
        return 0
    finally:
        broker.close()
        connections.close_all()
        drop_throwaway(url, database_name)


if __name__ == "__main__":
    sys.exit(main())
