"""The MQTT ingester: sensor messages from the broker into readings, acknowledged only once committed.

paho-mqtt's network thread (``loop_start``) receives, reconnects with exponential backoff and
keeps the connection alive; it only puts each message on a queue. The main thread takes messages
off the queue into a batch and writes the batch with ``sensors.services.readings_ingest`` when it
holds ``batch_size`` messages or its oldest has waited ``flush_seconds``; after the commit it
acknowledges every message of the batch (paho's manual ack). So:

- a crash before the commit loses nothing: the broker still holds the unacknowledged messages
  in the ingester's persistent session (MQTT v5, clean start off, a session expiry interval,
  a stable client id) and sends them again when it is back;
- a crash after the commit but before the acks stores nothing twice: the redelivered readings
  are duplicates of stored ones (unique sensor and time) and are ignored;
- messages published while the ingester is away are queued by the broker for its session.

Acknowledgements name a message by its packet id, which is only meaningful on the connection
it arrived on: a message received before a reconnect is not acknowledged on the new connection
(the broker sends it again, and the copy is a duplicate).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import queue
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import close_old_connections, connection
from django.db import utils as db_utils
from django.utils import timezone
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from campus.models import HeartbeatKind
from campus.services import heartbeat_record
from sensors.models import DeadLetter, DeadLetterReason, IngestSource
from sensors.services import IncomingMessage, IngestResult, display_text, readings_ingest

logger = logging.getLogger("sensors.ingester")

# The broker may have this many messages unacknowledged with us (MQTT v5 Receive Maximum): enough
# for a batch being written and the next one filling up.
MIN_RECEIVE_MAXIMUM = 100
# Between failed database writes, wait this long, doubling up to the maximum.
DB_RETRY_SECONDS = (0.5, 30.0)
# Log the counters this often while running.
REPORT_SECONDS = 60.0
# Record a heartbeat (connected or not, counters, messages waiting) this often, for /healthz and /metrics.
HEARTBEAT_SECONDS = 15.0
# The main thread looks at the stop flag at least this often (SIGTERM also wakes it at once).
STOP_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Read ``mqtt://[user:password@]host[:port]`` (``mqtts://`` for TLS, port 8883 by default)."""
    parts = urlsplit(url)
    if parts.scheme not in {"mqtt", "mqtts", "tcp", "ssl"}:
        raise ValueError(f"MQTT_URL={url!r}: use mqtt://HOST:PORT or mqtts://HOST:PORT")
    tls = parts.scheme in {"mqtts", "ssl"}
    return BrokerAddress(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def default_client_id() -> str:
    """Return ``kampus-ingester-<host>``: the same on every start, so the broker's queued session is found again."""
    return f"kampus-ingester-{socket.gethostname()}"[:128]


@dataclass
class Counters:
    """What the ingester has done since it started."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    acked: int = 0
    not_acked: int = 0  # received before a reconnect: the broker sends them again
    db_failures: int = 0
    connects: int = 0

    def line(self) -> str:
        return " ".join(f"{name}={value}" for name, value in dataclasses.asdict(self).items())


def _logged(callback: Callable[..., None]) -> Callable[..., None]:
    """Log an error in a paho callback instead of letting it end the network thread.

    (A message whose callback failed is not acknowledged: the broker sends it again after a reconnect.)
    """

    @functools.wraps(callback)
    def logged(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            logger.exception("error in the MQTT callback %s", callback.__name__)

    return logged


@dataclass(frozen=True)
class Received:
    """A message off the network thread: what to ingest, and how to acknowledge it."""

    message: IncomingMessage
    mid: int
    qos: int
    generation: int


class Ingester:
    """Subscribe to the sensor topics and store what arrives; ``run`` returns after ``stop`` (or SIGTERM)."""

    def __init__(
        self,
        *,
        url: str,
        topic_prefix: str,
        client_id: str,
        shared_group: str | None = None,
        batch_size: int = 500,
        flush_seconds: float = 0.5,
        session_expiry: int = 7 * 24 * 3600,
        reconnect_delay: tuple[int, int] = (1, 30),
        after_batch: Callable[[IngestResult], None] | None = None,
    ) -> None:
        self.address = parse_mqtt_url(url)
        self.topic_prefix = topic_prefix.strip("/")
        self.client_id = client_id
        self.shared_group = shared_group
        self.batch_size = max(1, batch_size)
        self.flush_seconds = max(0.01, flush_seconds)
        self.session_expiry = session_expiry
        self.after_batch = after_batch
        self.counters = Counters()
        # SimpleQueue: put() is safe from the signal handler, even while the main thread waits in get().
        self._inbox: queue.SimpleQueue[Received | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        # Guards the connection generation against acknowledging on a newer connection.
        self._connection_lock = threading.Lock()
        self._generation = 0
        self._connected = threading.Event()
        self._client = self._make_client(reconnect_delay)
        self.started_at = timezone.now()

    # --- the network thread ----------------------------------------------------------------

    @property
    def subscription(self) -> str:
        topic = f"{self.topic_prefix}/+"
        return f"$share/{self.shared_group}/{topic}" if self.shared_group else topic

    def _make_client(self, reconnect_delay: tuple[int, int]) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=reconnect_delay[0], max_delay=reconnect_delay[1])
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        properties.ReceiveMaximum = min(65535, max(MIN_RECEIVE_MAXIMUM, 2 * self.batch_size))
        return properties

    @_logged
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            logger.error("broker %s:%s refused the connection: %s", self.address.host, self.address.port, reason_code)
            return
        with self._connection_lock:
            self._generation += 1
        self.counters.connects += 1
        logger.info(
            "connected to %s:%s as %s (session %s); subscribing to %s",
            self.address.host,
            self.address.port,
            self.client_id,
            "resumed" if flags.session_present else "new",
            self.subscription,
        )
        # Subscribing again when the session is resumed is harmless and picks up a changed prefix or group.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe(self.subscription, options=options)

    @_logged
    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        failed = [code for code in reason_codes if code.is_failure]
        if failed:
            logger.error("the broker refused the subscription to %s: %s", self.subscription, failed[0])
        else:
            logger.info("subscribed to %s", self.subscription)
            self._connected.set()

    @_logged
    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        logger.warning("cannot reach the broker at %s:%s; retrying", self.address.host, self.address.port)

    @_logged
    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self._connected.clear()
        with self._connection_lock:
            self._generation += 1
        if not self._stopping.is_set():
            logger.warning("disconnected from the broker (%s); reconnecting", reason_code)

    @_logged
    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # MQTT forbids it and Mosquitto refuses it; should a broker let it through
            topic = ""  # it becomes a dead letter (bad_topic) rather than an error in the network thread
        self._inbox.put(
            Received(
                message=IncomingMessage(
                    payload=msg.payload,
                    received_at=timezone.now(),
                    external_id=self.external_id(topic),
                    source=IngestSource.MQTT,
                    topic=topic,
                ),
                mid=msg.mid,
                qos=msg.qos,
                generation=self._generation,
            )
        )

    def external_id(self, topic: str) -> str | None:
        """Return the sensor id a topic names (its last level under the prefix), or None."""
        head, _, last = topic.rpartition("/")
        if head != self.topic_prefix or not last:
            return None
        return last

    # --- the main thread -------------------------------------------------------------------

    def stop(self, *_args: Any) -> None:
        """Ask ``run`` to write what it holds, acknowledge it and return (safe in a signal handler)."""
        self._stopping.set()
        self._inbox.put(None)

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> Counters:
        """Connect, ingest until stopped, then write and acknowledge the last batch and disconnect."""
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=30,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self._client.loop_start()
        batch: list[Received] = []
        oldest = 0.0
        retry_at, retry_delay = 0.0, DB_RETRY_SECONDS[0]
        reported = time.monotonic()
        beaten = reported - HEARTBEAT_SECONDS
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                wait = (oldest + self.flush_seconds - now) if batch else self.flush_seconds
                wait = min(STOP_POLL_SECONDS, max(0.0, max(wait, retry_at - now) if batch else wait))
                try:
                    item = self._inbox.get(timeout=wait)
                except queue.Empty:
                    item = None
                while item is not None:
                    if not batch:
                        oldest = time.monotonic()
                    batch.append(item)
                    self.counters.received += 1
                    if len(batch) >= self.batch_size:
                        break
                    try:
                        item = self._inbox.get_nowait()
                    except queue.Empty:
                        item = None
                now = time.monotonic()
                due = batch and (len(batch) >= self.batch_size or now - oldest >= self.flush_seconds)
                if due and now >= retry_at:
                    if self._flush(batch):
                        batch, retry_delay, retry_at = [], DB_RETRY_SECONDS[0], 0.0
                    else:
                        retry_at = now + retry_delay * random.uniform(0.8, 1.2)
                        retry_delay = min(retry_delay * 2, DB_RETRY_SECONDS[1])
                if now - reported >= REPORT_SECONDS:
                    logger.info("ingester: %s", self.counters.line())
                    reported = now
                if now - beaten >= HEARTBEAT_SECONDS:
                    self._beat(pending=len(batch), oldest_pending=now - oldest if batch else 0.0)
                    beaten = now
            # Stopping: write what was received (the network thread may still add to the queue).
            while True:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
                    self.counters.received += 1
            if batch and not self._flush(batch):
                logger.warning("stopping with %d messages not written; the broker will send them again", len(batch))
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            logger.info("ingester stopped: %s", self.counters.line())
        return self.counters

    def _beat(self, *, pending: int, oldest_pending: float) -> None:
        """Record the heartbeat ``ingester:<client id>``; a database that is down only skips it."""
        state = {
            "connected": self._connected.is_set(),
            "pending": pending,
            "oldest_pending_seconds": round(oldest_pending, 1),
            **dataclasses.asdict(self.counters),
        }
        try:
            close_old_connections()
            heartbeat_record(
                name=f"ingester:{self.client_id}", kind=HeartbeatKind.INGESTER, started_at=self.started_at, state=state
            )
        except (db_utils.OperationalError, db_utils.InterfaceError):
            connection.close()

    def wait_until_subscribed(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _flush(self, batch: list[Received]) -> bool:
        """Write ``batch`` and acknowledge it; return False (nothing acknowledged) if the database failed."""
        close_old_connections()
        started = time.monotonic()
        try:
            result = readings_ingest(messages=[received.message for received in batch])
        except (db_utils.OperationalError, db_utils.InterfaceError) as error:
            self.counters.db_failures += 1
            logger.error("cannot write %d messages (%s); will retry", len(batch), str(error).strip()[:200])
            connection.close()
            return False
        except Exception:
            logger.exception("a batch of %d messages failed; writing them one by one", len(batch))
            result = self._flush_one_by_one(batch)
            if result is None:
                return False
        self._acknowledge(batch)
        self.counters.batches += 1
        self.counters.stored += result.stored
        self.counters.duplicates += result.duplicates
        self.counters.rejected += result.rejected
        logger.debug(
            "batch of %d messages: %d stored, %d duplicates, %d rejected in %.3f s",
            len(batch),
            result.stored,
            result.duplicates,
            result.rejected,
            time.monotonic() - started,
        )
        for dead_letter in result.dead_letters:
            logger.info("dead letter (%s) on %s: %s", dead_letter.reason, dead_letter.topic, dead_letter.detail)
        if self.after_batch is not None:
            self.after_batch(result)
        return True

    def _flush_one_by_one(self, batch: list[Received]) -> IngestResult | None:
        """Ingest each message alone, so that one that breaks the batch cannot hold back the others.

        A message that still fails is kept as a dead letter (``invalid``) with the error's name.
        Returns None if the database itself failed (then nothing is acknowledged).
        """
        total = IngestResult()
        for received in batch:
            try:
                total.add(readings_ingest(messages=[received.message]))
            except (db_utils.OperationalError, db_utils.InterfaceError):
                connection.close()
                return None
            except Exception as error:
                logger.exception("message on %s cannot be stored", received.message.topic)
                message = received.message
                try:
                    total.dead_letters.append(
                        DeadLetter.objects.create(
                            received_at=message.received_at,
                            source=message.source,
                            topic=display_text(message.topic, 255),
                            reason=DeadLetterReason.INVALID,
                            detail=display_text(f"not storable: {type(error).__name__}", 500),
                            payload=display_text(message.payload[:16000].decode("utf-8", "backslashreplace")),
                            payload_bytes=len(message.payload),
                        )
                    )
                except db_utils.Error:
                    connection.close()
                    return None
        return total

    def _acknowledge(self, batch: list[Received]) -> None:
        with self._connection_lock:
            generation = self._generation
            for received in batch:
                if received.qos == 0:
                    continue
                if received.generation == generation:
                    self._client.ack(received.mid, received.qos)
                    self.counters.acked += 1
                else:
                    self.counters.not_acked += 1


def ingester_from_settings(
    *, shared_group: str | None = None, client_id: str | None = None, url: str | None = None
) -> Ingester:
    """Return an ingester configured by the settings (``MQTT_URL``, ``MQTT_TOPIC_PREFIX``, …)."""
    return Ingester(
        url=url or settings.MQTT_URL,
        topic_prefix=settings.KAMPUS_MQTT_TOPIC_PREFIX,
        client_id=client_id or settings.KAMPUS_MQTT_CLIENT_ID or default_client_id(),
        shared_group=shared_group,
        batch_size=settings.KAMPUS_INGEST_BATCH_SIZE,
        flush_seconds=settings.KAMPUS_INGEST_FLUSH_SECONDS,
        session_expiry=settings.KAMPUS_MQTT_SESSION_EXPIRY_SECONDS,
    )
