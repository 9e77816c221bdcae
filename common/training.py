"""Running trainings: a bounded number at once per process, off the event loop, through the cache.

`TrainingSlots` admits at most `max_running + max_waiting` trainings; one more gets a 503 with
Retry-After at once (load shedding). `Trainer` is what a sync route calls: cache lookup, then the
task in a worker thread inside a slot, then the result into the cache.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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


class TrainingTimeout(ServiceError):
    """A sync training ran past SYNC_TIMEOUT_SECONDS."""

    status_code = 504
    code = "training_timeout"


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


class Ticket:
    """An admitted training, holding a waiting place until it `run`s (once) in a thread."""

    def __init__(self, slots: TrainingSlots) -> None:
        self._slots = slots

    def run(self, work: Callable[[], T]) -> T:
        """Wait for a free slot, work, give the slot back (also when the work fails)."""
        self._slots._start()
        try:
            return work()
        finally:
            self._slots._finish()


class Trainer:
    """What sync routes call to run a task: cache first, then a slot, then the cache again.

    Identical requests arriving while one trains wait for that training instead of starting
    another (single flight), so a burst of the same request trains once.
    """

    def __init__(
        self, settings: Settings, cache: ResultCache, slots: TrainingSlots, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.slots = slots
        self.metrics = metrics
        # One thread per admitted training (running or waiting for a slot), so none queues here.
        self._executor = ThreadPoolExecutor(
            max_workers=slots.max_running + slots.max_waiting, thread_name_prefix="training"
        )
        self._in_flight: dict[str, Future[bytes]] = {}
        self._in_flight_lock = threading.Lock()

    async def run(
        self, task: Task, request: BaseModel, store: IndicatorStore
    ) -> tuple[bytes, bool]:
        """The response as JSON bytes, and whether it came from the cache."""
        key = cache_key(store.version, task, request)
        cached = await anyio.to_thread.run_sync(self.cached, key)
        if cached is not None:
            return cached, True
        training = self._join_or_start(key, lambda: task.compute(store, request, self.settings))
        timeout = self.settings.sync_timeout_seconds
        try:
            with anyio.fail_after(timeout):
                # Shielded: a timeout or a client that disconnects stops the waiting, not the
                # training, which frees its slot and caches its result when it ends.
                payload = await asyncio.shield(asyncio.wrap_future(training))
        except TimeoutError as error:
            raise TrainingTimeout(
                f"training took longer than {timeout:g} s; its result is cached when it "
                "finishes: retry later, or submit it as a job (POST /jobs)"
            ) from error
        return payload, False

    def _join_or_start(self, key: str, compute: Callable[[], bytes]) -> "Future[bytes]":
        with self._in_flight_lock:
            if key in self._in_flight:
                return self._in_flight[key]
            try:
                ticket = self.slots.admit()
            except Overloaded as error:
                self.metrics.rejected.inc()
                error.headers["Retry-After"] = str(self.settings.retry_after_seconds)
                raise
            training = self._executor.submit(ticket.run, lambda: self._train(key, compute))
            self._in_flight[key] = training
            return training

    def _train(self, key: str, compute: Callable[[], bytes]) -> bytes:
        try:
            payload = compute()
            self.remember(key, payload)
            return payload
        finally:
            with self._in_flight_lock:
                self._in_flight.pop(key, None)

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
