"""A batch on this machine: the memory queue and blobs served to N worker processes.

The same code as on the cluster: the batch is submitted by `BatchService`, and each process runs
the job runner on the queue's messages (`Runtime.queue_worker`); only the queue and the blobs are
the memory backend's, shared through a `multiprocessing` manager instead of Azure Storage.
"""

import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.managers import BaseManager
from typing import Any, TextIO

from pydantic import BaseModel
from threadpoolctl import threadpool_limits

from common.core.settings import Settings
from common.serving.batch import (
    BatchKind,
    BatchProgress,
    BatchService,
    BatchView,
    Output,
    wait_for_batch,
)
from common.serving.runtime import Runtime
from common.serving.storage import MemoryBlobStore, MemoryQueue, Storage

READY_TIMEOUT_SECONDS = 300
# Idle workers poll the local queue this often (a round trip to the parent, not a storage bill):
# at submission, no worker sleeps through the first second of the batch.
LOCAL_POLL_SECONDS = 0.1


class _SharedMemory(BaseManager):
    """Serves one MemoryQueue and one MemoryBlobStore to the worker processes."""


_SharedMemory.register("MemoryQueue", MemoryQueue)
_SharedMemory.register("MemoryBlobStore", MemoryBlobStore)


def run_local_batch(
    settings: Settings,
    kind: BatchKind,
    request: BaseModel,
    output: Output,
    processes: int,
    on_progress: Callable[[BatchProgress], None] = lambda _: None,
) -> BatchView:
    """Submit the batch and work it with `processes` spawned worker processes until it ends.

    Raises what submission raises (`InvalidParameter` for a request the data cannot serve)."""
    # Each worker is already a process of its own (and a daemon: it may not start children).
    poll = min(settings.worker_poll_interval, LOCAL_POLL_SECONDS)
    settings = settings.model_copy(update={"training_processes": 0, "worker_poll_interval": poll})
    context = multiprocessing.get_context("spawn")
    with _SharedMemory(ctx=context) as shared:
        storage = Storage(shared.MemoryBlobStore(), shared.MemoryQueue(), kind="memory")  # type: ignore[attr-defined]
        runtime = Runtime.create(settings, storage=storage)
        store = runtime.datasets.load()
        if store is None:
            raise SystemExit(f"dataset unavailable: {runtime.datasets.error}")
        kind.plan(store, request)  # a request the data cannot serve fails before any worker starts
        stop, ready = context.Event(), context.Semaphore(0)
        workers = [
            context.Process(
                target=_work,
                args=(settings, storage.blobs, storage.queue, stop, ready),
                daemon=True,
            )
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        for _ in workers:  # submitted once they have loaded the data: the ETA counts work only
            if not ready.acquire(timeout=READY_TIMEOUT_SECONDS):
                raise SystemExit("a worker process did not load the dataset in time")
        service = BatchService(settings, storage)
        record = service.submit(kind, request, store, output)
        try:
            return wait_for_batch(service, record.id, on_progress)
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=30)


def _work(settings: Settings, blobs: Any, queue: Any, stop: Any, ready: Any) -> None:
    """A worker process: the job runner on the shared queue until `stop` is set.

    One worker is one core's worth: its native thread pools (BLAS, OpenMP) get one thread, so N
    workers on N cores do not oversubscribe them (and one worker is the honest baseline)."""
    runtime = Runtime.create(settings, storage=Storage(blobs, queue, kind="memory"))
    threadpool_limits(1)  # after the models are imported: their libraries' pools are loaded
    if runtime.datasets.load() is None:
        raise SystemExit(f"dataset unavailable: {runtime.datasets.error}")
    ready.release()
    local_stop = threading.Event()  # the worker loop waits on a thread event between polls

    def relay() -> None:
        stop.wait()
        local_stop.set()

    threading.Thread(target=relay, daemon=True).start()
    runtime.queue_worker().run(local_stop)


class ProgressBar:
    """`[#######.......]  12/40 units  1 failed  ETA 3m12s` on one line of stderr."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.started = time.monotonic()
        self.shown = -1

    def __call__(self, progress: BatchProgress) -> None:
        finished = progress.done + progress.failed
        if finished == self.shown and not self.stream.isatty():
            return  # a log file gets a line per change, a terminal a ticking clock
        self.shown = finished
        filled = round(self.width * finished / progress.total) if progress.total else 0
        eta = _duration(progress.seconds_left) if progress.seconds_left is not None else "?"
        line = (
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {finished}/{progress.total} units"
            f"  {progress.failed} failed  {_duration(time.monotonic() - self.started)} elapsed"
            f"  ETA {eta} "
        )
        self.stream.write(line)
        if finished == progress.total:
            self.stream.write("\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"
