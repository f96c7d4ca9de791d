"""What the platform published: topic file-events read from the start."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition


class EventLog:
    """Reads topic file-events from the start, for assertions on what the platform published."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic

    def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        count: int,
        timeout: float = 20,
        *,
        quiet_seconds: float | None = None,
    ) -> list[dict[str, Any]]:
        """The first events matching ``predicate``, once ``count`` of them are there; the test
        sees fewer if they do not arrive within ``timeout``. With ``quiet_seconds`` the read also
        ends once the topic has been silent that long: it reached the end (how a test makes sure
        there is no more, whatever the topic's length, which a short timeout is not)."""
        consumer = Consumer(
            {
                "bootstrap.servers": self._bootstrap,
                "group.id": f"test-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 50,
            }
        )
        try:
            metadata = consumer.list_topics(self._topic, timeout=10)
            partitions = metadata.topics[self._topic].partitions
            consumer.assign([TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in partitions])
            found: list[dict[str, Any]] = []
            deadline = time.monotonic() + timeout
            last_message = time.monotonic()
            while time.monotonic() < deadline and len(found) < count:
                messages = consumer.consume(num_messages=1000, timeout=0.2)
                if messages:
                    last_message = time.monotonic()
                elif quiet_seconds is not None and time.monotonic() - last_message >= quiet_seconds:
                    break
                for message in messages:
                    if message.error() is None:
                        event = json.loads(message.value() or b"{}")
                        key = message.key()
                        event["_key"] = key.decode() if key else None
                        if predicate(event):
                            found.append(event)
            return found
        finally:
            consumer.close()

    def of_owner(
        self, owner: str, count: int, timeout: float = 20, *, quiet_seconds: float | None = None
    ) -> list[dict[str, Any]]:
        return self.wait_for(lambda e: e["owner"] == owner, count, timeout, quiet_seconds=quiet_seconds)
