"""Running trainings: a bounded number at once per process, off the event loop, through the cache.

`TrainingSlots` admits at most `max_running + max_waiting` trainings; one more gets a 503 with
Retry-After at once (load shedding). `Trainer` is what a sync route calls: cache lookup, then the
task in a worker thread inside a slot, then the result into the cache.
"""

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from pydantic import BaseModel

from common.cache import ResultCache
from common.datasets import IndicatorStore
from common.errors import ServiceError
from common.metrics import Metrics
from common.settings import Settings
from common.storage import StorageUnavailable
from common.tasks import Task, cache_key

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Overloaded(ServiceError):
    """Every training slot and waiting place is taken."""

    status_code = 503
    code = "overloaded"


class TrainingSlots:
    """Counts running and waiting trainings; threads wait here for a free slot."""

    def __init__(self, max_running: int, max_waiting: int) -> None:
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.running = 0
        self.waiting = 0
        self._condition = threading.Condition()

    def admit(self) -> "Ticket":
        """Take a waiting place, or raise `Overloaded` at once when there is none."""
        with self._condition:
            if self.running + self.waiting >= self.max_running + self.max_waiting:
                raise Overloaded("all training slots are busy; retry later")
            self.waiting += 1
        return Ticket(self)

    def run_unbounded(self, work: Callable[[], T]) -> T:
        """Wait however long it takes for a slot, then work (for job workers, not clients)."""
        with self._condition:
            self.waiting += 1
        return Ticket(self).run(work)

    def _start(self) -> None:
        with self._condition:
            while self.running >= self.max_running:
                self._condition.wait()
            self.waiting -= 1
            self.running += 1

    def _finish(self) -> None:
        with self._condition:
            self.running -= 1
            self._condition.notify()

    def _abandon(self) -> None:
        with self._condition:
            self.waiting -= 1


class Ticket:
    """An admitted training: `run` it in a thread; `close` it in any case."""

    def __init__(self, slots: TrainingSlots) -> None:
        self._slots = slots
        self._started = False
        self._lock = threading.Lock()

    def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            if self._started:
                raise RuntimeError("a ticket runs once")
            self._started = True
        self._slots._start()
        try:
            return work()
        finally:
            self._slots._finish()

    def close(self) -> None:
        """Give the waiting place back if the work never started (the request was cancelled)."""
        with self._lock:
            if not self._started:
                self._started = True
                self._slots._abandon()


class Trainer:
    """What sync routes call to run a task: cache first, then a slot, then the cache again."""

    def __init__(
        self, settings: Settings, cache: ResultCache, slots: TrainingSlots, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.slots = slots
        self.metrics = metrics

    async def run(
        self, task: Task, request: BaseModel, store: IndicatorStore
    ) -> tuple[bytes, bool]:
        """The response as JSON bytes, and whether it came from the cache."""
        key = cache_key(store.version, task, request)
        cached = await anyio.to_thread.run_sync(self.cached, key)
        if cached is not None:
            return cached, True
        try:
            ticket = self.slots.admit()
        except Overloaded as error:
            self.metrics.rejected.inc()
            error.headers["Retry-After"] = str(self.settings.retry_after_seconds)
            raise
        try:
            payload = await anyio.to_thread.run_sync(
                ticket.run, lambda: task.compute(store, request, self.settings)
            )
        finally:
            ticket.close()
        await anyio.to_thread.run_sync(self.remember, key, payload)
        return payload, False

    def cached(self, key: str) -> bytes | None:
        """A cached result, counted as hit or miss; storage trouble counts as a miss."""
        try:
            value = self.cache.get(key)
        except StorageUnavailable:
            value = None
        self.metrics.cache.labels(result="hit" if value is not None else "miss").inc()
        return value

    def remember(self, key: str, payload: bytes) -> None:
        try:
            self.cache.put(key, payload)
        except StorageUnavailable:
            logger.warning("result not cached: storage unavailable")
