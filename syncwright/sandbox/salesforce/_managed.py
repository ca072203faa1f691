"""Managed event subscriptions: the server keeps the subscriber's position (Pub/Sub API
``ManagedSubscribe`` with ``CommitReplayRequest``).

In Salesforce a managed subscription is a ``ManagedEventSubscription`` Tooling API record
(developer name, topic, ``defaultReplay`` LATEST or EARLIEST, ``state`` RUN); the emulator
declares them through ``POST /_sandbox/managed-subscriptions`` instead (the Tooling API is not
emulated). A subscription remembers the last replay id its client committed; a new
``ManagedSubscribe`` stream starts right after it, or at the default replay before any commit.
https://developer.salesforce.com/docs/platform/pub-sub-api/guide/managed-sub.html
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from ._ids import make_id

__all__ = ["ManagedSubscription", "ManagedSubscriptions"]

# Key prefix of ManagedEventSubscription records (18-character ids like every record).
KEY_PREFIX = "18x"


@dataclass
class ManagedSubscription:
    id: str
    developer_name: str
    topic: str
    default_replay: Literal["LATEST", "EARLIEST"]
    committed: int | None = None  # the log's replay id of the last commit

    def as_json(self) -> dict[str, object]:
        return {
            "Id": self.id,
            "DeveloperName": self.developer_name,
            "TopicName": self.topic,
            "DefaultReplay": self.default_replay,
            "State": "RUN",
            "CommittedReplayId": self.committed,
        }


class ManagedSubscriptions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, ManagedSubscription] = {}
        self._serial = 0

    def create(
        self, developer_name: str, topic: str, default_replay: Literal["LATEST", "EARLIEST"]
    ) -> ManagedSubscription:
        with self._lock:
            if developer_name in self._by_name:
                raise ValueError(f"a managed subscription {developer_name!r} exists already")
            self._serial += 1
            found = ManagedSubscription(
                make_id(KEY_PREFIX, self._serial), developer_name, topic, default_replay
            )
            self._by_name[developer_name] = found
            return found

    def find(self, subscription_id: str, developer_name: str) -> ManagedSubscription | None:
        """By id or developer name (the first ManagedFetchRequest gives one of them)."""
        with self._lock:
            if developer_name:
                return self._by_name.get(developer_name)
            return next((s for s in self._by_name.values() if s.id == subscription_id), None)

    def commit(self, subscription: ManagedSubscription, replay_id: int) -> None:
        with self._lock:
            subscription.committed = replay_id

    def list(self) -> list[ManagedSubscription]:
        with self._lock:
            return list(self._by_name.values())

    def clear(self) -> None:
        with self._lock:
            self._by_name.clear()
