"""Transactional outbox: events are rows written with the change they report; a relay publishes
them to Kafka in id order and deletes what the broker acknowledged (at-least-once)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import psycopg
import sqlalchemy as sa
import structlog
from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from liftbit_common.events import FileEvent
from liftbit_common.settings import libpq_url
from metadata_ms.models import OutboxEvent

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "liftbit_outbox"
# Only one relay publishes at a time, whatever the number of metadata_ms processes.
_RELAY_LOCK_KEY = 0x4F555442

OUTBOX_BACKLOG = Gauge("liftbit_outbox_backlog", "Events written but not yet acknowledged by the broker")
EVENTS_PUBLISHED = Counter("liftbit_events_published_total", "Events acknowledged by the broker")
RELAY_FAILURES = Counter("liftbit_outbox_relay_failures_total", "Publish attempts the broker refused")


async def add_events(session: AsyncSession, events: Sequence[FileEvent]) -> None:
    """Write events in the caller's transaction; the relay wakes up when it commits."""
    if not events:
        return
    # One round trip, no ORM unit of work: Postgres runs a data-modifying WITH even unreferenced.
    rows = sa.insert(OutboxEvent).values([{"key": e.owner, "payload": e.model_dump_json()} for e in events])
    await session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")).add_cte(rows.cte("added")))


class BrokerProducer:
    """confluent-kafka producer used from worker threads; it is thread-safe."""

    def __init__(self, bootstrap_servers: str, topic: str, partitions: int) -> None:
        self.topic = topic
        self._partitions = partitions
        self._config = {"bootstrap.servers": bootstrap_servers}
        self._producer = Producer(
            {
                **self._config,
                "linger.ms": 5,
                "acks": "all",
                # Idempotence fails on the Tansu broker; one request in flight keeps per-owner order.
                "enable.idempotence": False,
                "max.in.flight.requests.per.connection": 1,
                "message.timeout.ms": 10_000,
                "socket.connection.setup.timeout.ms": 3_000,
                "reconnect.backoff.max.ms": 2_000,
            }
        )
        self._topic_ready = False

    def ensure_topic(self) -> None:
        if self._topic_ready:
            return
        admin = AdminClient({**self._config, "socket.connection.setup.timeout.ms": 3_000})
        futures = admin.create_topics([NewTopic(self.topic, num_partitions=self._partitions)], request_timeout=5)
        try:
            futures[self.topic].result(timeout=6)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        self._topic_ready = True

    def check(self) -> None:
        """Raise unless the broker answers a metadata request for the topic."""
        metadata = self._producer.list_topics(self.topic, timeout=1.5)
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            raise RuntimeError(f"topic {self.topic} is not available")

    def publish(self, rows: Sequence[tuple[int, str, str]]) -> int:
        """Send rows (id, key, payload) in order; return how many, from the first, were acknowledged."""
        self.ensure_topic()
        outcome: dict[int, KafkaError | None] = {}

        def delivered(row_id: int) -> Callable[[KafkaError | None, Message], None]:
            def callback(err: KafkaError | None, _: Message) -> None:
                outcome[row_id] = err

            return callback

        for row_id, key, payload in rows:
            while True:
                try:
                    self._producer.produce(self.topic, payload.encode(), key.encode(), on_delivery=delivered(row_id))
                    break
                except BufferError:  # local queue full: let deliveries drain, then go on
                    self._producer.poll(0.1)
        while len(outcome) < len(rows):
            self._producer.flush(1.0)
        acknowledged = 0
        for row_id, _, _ in rows:
            if outcome[row_id] is not None:
                break
            acknowledged += 1
        if acknowledged == 0:
            raise KafkaException(outcome[rows[0][0]])
        return acknowledged

    def close(self) -> None:
        self._producer.flush(5)


class OutboxRelay:
    def __init__(
        self, engine: AsyncEngine, database_url: str, producer: BrokerProducer, batch_size: int, linger: float
    ) -> None:
        self._engine = engine
        self._database_url = libpq_url(database_url)
        self._producer = producer
        self._batch_size = batch_size
        self._linger = linger
        self.last_error: str | None = None

    async def run(self) -> None:
        """Publish forever; survives database and broker outages by backing off."""
        backoff = 0.2
        while True:
            try:
                await self._relay_while_leader()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                RELAY_FAILURES.inc()
                self.last_error = str(exc) or type(exc).__name__
                log.warning("outbox_relay_failed", error=self.last_error, retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            else:
                backoff = 0.2

    async def _relay_while_leader(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._database_url, autocommit=True, connect_timeout=3
        ) as listener:
            while True:
                cursor = await listener.execute("SELECT pg_try_advisory_lock(%s)", (_RELAY_LOCK_KEY,))
                row = await cursor.fetchone()
                if row and row[0]:
                    break
                await asyncio.sleep(2)  # another process relays; take over if it goes away
            await listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            while True:
                published = await self.publish_pending()
                self.last_error = None
                if published == self._batch_size:
                    continue
                # Sleep until a commit notifies us, at most a second (also to refresh the backlog gauge),
                # then let the commits of the next moment join it in one batch.
                async for _ in listener.notifies(timeout=1.0, stop_after=1):
                    pass
                await asyncio.sleep(self._linger)

    async def publish_pending(self) -> int:
        async with self._engine.connect() as connection:
            result = await connection.execute(
                sa.select(OutboxEvent.id, OutboxEvent.key, OutboxEvent.payload)
                .order_by(OutboxEvent.id)
                .limit(self._batch_size)
            )
            rows = [(r.id, r.key, r.payload) for r in result]
            if rows:
                acknowledged = await asyncio.to_thread(self._producer.publish, rows)
                done = [row_id for row_id, _, _ in rows[:acknowledged]]
                await connection.execute(sa.delete(OutboxEvent).where(OutboxEvent.id.in_(done)))
                await connection.commit()
                EVENTS_PUBLISHED.inc(len(done))
            backlog = await connection.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
            OUTBOX_BACKLOG.set(backlog or 0)
            return len(rows)
