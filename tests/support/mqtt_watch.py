"""A paho subscriber that collects what arrives, for asserting on what the other side sees."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt


def close_client(client: mqtt.Client) -> None:
    """Disconnect cleanly and end the loop thread. In this order: ``loop_stop()`` first
    waits up to a second for the thread's select to time out; after ``disconnect()``
    the thread sends the DISCONNECT and ends at once."""
    client.disconnect()
    client.loop_stop()


class Watcher:
    def __init__(self, port: int, username: str, password: str, topic: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._cond = threading.Condition()
        self._topic = topic
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        client.subscribe(self._topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))
            self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[str, dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        """The first JSON message (seen so far or arriving) for which ``predicate`` holds."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for topic, payload, _ in self.messages[seen:]:
                    try:
                        doc = json.loads(payload)
                    except ValueError:
                        continue
                    if isinstance(doc, dict) and predicate(topic, doc):
                        return doc
                seen = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching message in {timeout}s; got {self.messages!r}")
                self._cond.wait(left)

    def close(self) -> None:
        close_client(self.client)
