"""Running heavy work: a bounded number at once per process, off the event loop, fairly.

`TrainingSlots` admits at most `max_running + max_waiting` trainings; one more is `Overloaded`
at once (load shedding, retry later). `TaskExecutor` is what every heavy route calls (trainings,
survey clustering, dataset reload): cache lookup for tasks, then the work in a worker thread inside
a slot (a training's compute itself in a worker process, see `processes`), then the result into
the cache. It also keeps any one client from taking every slot (429),
answers 504 after SYNC_TIMEOUT_SECONDS, and cancels work nobody waits for any more.
"""

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from pydantic import BaseModel

from common.core.cancellation import Cancelled, CancelToken, cancellable
from common.core.errors import (
    ClientGone,
    Overloaded,
    StorageUnavailable,
    TooManyRequests,
    TrainingTimeout,
)
from common.core.metrics import Metrics
from common.core.settings import Settings
from common.data.datasets import IndicatorStore
from common.serving.cache import ResultCache
from common.serving.processes import Train, in_process
from common.serving.tasks import Task, cache_key

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """Who waits for heavy work: an address to share capacity fairly (None: unknown), and an
    awaitable that returns when they hang up (None: cannot tell)."""

    address: str | None = None
    disconnected: Callable[[], Awaitable[None]] | None = None


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

    def wake(self) -> None:
        """Let waiting threads look again (one of them was cancelled)."""
        with self._condition:
            self._condition.notify_all()

    def _start(self, token: CancelToken | None) -> None:
        with self._condition:
            while self.running >= self.max_running:
                if token is not None and token.cancelled:
                    self.waiting -= 1
                    raise Cancelled("cancelled while waiting for a slot")
                self._condition.wait()
            self.waiting -= 1
            self.running += 1

    def _finish(self) -> None:
        with self._condition:
            self.running -= 1
            # All: a woken thread may be a cancelled one that leaves without taking the slot.
            self._condition.notify_all()


class Ticket:
    """An admitted training, holding a waiting place until it `run`s (once) in a thread."""

    def __init__(self, slots: TrainingSlots) -> None:
        self._slots = slots

    def run(self, work: Callable[[], T], token: CancelToken | None = None) -> T:
        """Wait for a free slot, work, give the slot back (also when the work fails).

        A cancelled token gives up the waiting place at once, or stops the work at its next
        `checkpoint()`."""
        self._slots._start(token)
        try:
            with cancellable(token):
                return work()
        finally:
            self._slots._finish()


@dataclass
class _Work:
    """Admitted heavy work and who waits for it."""

    key: str | None  # the cache key of a task (identical requests join it), None otherwise
    address: str | None
    token: CancelToken = field(default_factory=CancelToken)
    waiters: int = 1
    # A client that timed out was told the result will be cached: finish it even unwatched.
    promised: bool = False
    future: "Future[Any] | None" = None


class TaskExecutor:
    """What heavy routes call: cache first (tasks), then a slot, then the cache again.

    Identical task requests arriving while one trains wait for that training instead of starting
    another (single flight), so a burst of the same request trains once. Work whose every waiting
    client hung up is cancelled (unless a client that timed out was promised its result).
    """

    def __init__(
        self,
        settings: Settings,
        cache: ResultCache,
        slots: TrainingSlots,
        metrics: Metrics,
        train: Train | None = None,
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.slots = slots
        self.metrics = metrics
        # Where `Task.compute` runs: this thread, or a worker process (`TrainingProcesses`).
        self.train = train or in_process(settings)
        # One thread per admitted training (running or waiting for a slot), so none queues here.
        self._executor = ThreadPoolExecutor(
            max_workers=slots.max_running + slots.max_waiting, thread_name_prefix="training"
        )
        self._in_flight: dict[str, _Work] = {}
        self._per_client: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def run(
        self, task: Task, request: BaseModel, store: IndicatorStore, caller: Caller = Caller()
    ) -> tuple[bytes, bool]:
        """The response as JSON bytes, and whether it came from the cache (`request` validated
        by the caller, as `Task.validate` does)."""
        key = cache_key(store.version, task, request)
        cached = await anyio.to_thread.run_sync(self.cached, key)
        if cached is not None:
            return cached, True
        compute = lambda: self._compute_and_cache(key, task, request, store)  # noqa: E731
        work = self._join_or_start(key, compute, caller)
        return await self._wait(work, caller), False

    async def run_work(self, compute: Callable[[], T], caller: Caller = Caller()) -> T:
        """Uncached heavy work (survey clustering, a dataset reload), admitted like a training."""
        work = self._join_or_start(None, compute, caller)
        return await self._wait(work, caller)

    def _join_or_start(self, key: str | None, compute: Callable[[], Any], caller: Caller) -> _Work:
        with self._lock:
            joined = self._in_flight.get(key) if key is not None else None
            if joined is not None and not joined.token.cancelled:
                joined.waiters += 1
                return joined
            self._check_client(caller.address)
            try:
                ticket = self.slots.admit()
            except Overloaded as error:
                self.metrics.rejected.inc()
                error.retry_after_seconds = self.settings.retry_after_seconds
                raise
            work = _Work(key=key, address=caller.address)
            if caller.address is not None:
                self._per_client[caller.address] += 1
            if key is not None:
                self._in_flight[key] = work
            work.future = self._executor.submit(self._execute, work, ticket, compute)
            return work

    def _check_client(self, address: str | None) -> None:
        limit = self.settings.max_trainings_per_client
        if address is not None and self._per_client[address] >= limit:
            self.metrics.rejected.inc()
            self.metrics.rejected_per_client.inc()
            raise TooManyRequests(
                f"this client already runs {limit} heavy requests "
                "(MAX_TRAININGS_PER_CLIENT); retry when one has finished",
                retry_after_seconds=self.settings.retry_after_seconds,
            )

    def _execute(self, work: _Work, ticket: Ticket, compute: Callable[[], T]) -> T:
        try:
            return ticket.run(compute, work.token)
        finally:
            with self._lock:
                if work.address is not None:
                    self._per_client[work.address] -= 1
                    if self._per_client[work.address] <= 0:
                        del self._per_client[work.address]
                if work.key is not None and self._in_flight.get(work.key) is work:
                    del self._in_flight[work.key]

    async def _wait(self, work: _Work, caller: Caller) -> Any:
        assert work.future is not None
        result = asyncio.wrap_future(work.future)
        # Read the result even when nobody awaits it any more (no "never retrieved" warning).
        result.add_done_callback(lambda done: done.cancelled() or done.exception())
        gone = asyncio.ensure_future(caller.disconnected()) if caller.disconnected else None
        timeout = self.settings.sync_timeout_seconds
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                waits = {result} if gone is None else {result, gone}
                remaining = deadline - asyncio.get_running_loop().time()
                # Not cancelled on a timeout: the work frees its slot and caches its result when
                # it ends.
                done, _ = await asyncio.wait(
                    waits, timeout=max(remaining, 0), return_when="FIRST_COMPLETED"
                )
                if result in done:
                    return result.result()
                if gone is None or gone not in done:
                    break  # the timeout
                if gone.exception() is None:
                    self._leave(work)
                    raise ClientGone("the client closed the connection")
                gone = None  # cannot watch this client: wait for the result alone
        except asyncio.CancelledError:
            self._leave(work)
            raise
        finally:
            if gone is not None:
                gone.cancel()
        with self._lock:
            work.promised = True
        raise TrainingTimeout(
            f"training took longer than {timeout:g} s; its result is cached when it "
            "finishes: retry later, or submit it as a job (POST /jobs)"
        )

    def _leave(self, work: _Work) -> None:
        """A waiting client left; the last one to leave cancels the work."""
        with self._lock:
            work.waiters -= 1
            if work.waiters > 0 or work.promised or work.token.cancelled:
                return
            work.token.cancel()
            if work.key is not None and self._in_flight.get(work.key) is work:
                del self._in_flight[work.key]  # a new identical request starts afresh
        self.metrics.abandoned.inc()
        self.slots.wake()
        logger.info("heavy work cancelled: every client waiting for it hung up")

    def _compute_and_cache(
        self, key: str, task: Task, request: BaseModel, store: IndicatorStore
    ) -> bytes:
        payload = self.train(task, store, request)
        self.remember(key, payload)
        return payload

    def cached(self, key: str) -> bytes | None:
        """A cached result; storage trouble counts as a miss (the training still answers)."""
        return self.cache.lookup(key, outage_is_miss=True)

    def remember(self, key: str, payload: bytes) -> None:
        try:
            self.cache.put(key, payload)
        except StorageUnavailable:
            logger.warning("result not cached in shared storage: storage unavailable")
