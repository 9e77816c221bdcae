"""Trainings in worker processes, so they hold neither the web process's GIL nor its fate.

`TrainingProcesses` keeps up to TRAINING_PROCESSES worker processes, started with `spawn` (safe
in a process that already runs threads, unlike `fork`). The executor's training threads stay:
each takes an idle worker, sends it the task, the validated request and, once per dataset
version, the dataset, then blocks on the pipe (which releases the GIL) until the JSON payload
comes back. A worker keeps its copy of the dataset, and with it the per-year caches the models
memoise on it, across requests. Workers run at a lower CPU priority than the web process
(TRAINING_NICENESS), so a cached answer is not queued behind trainings for a core either.

A worker that dies during a training (a segfault, `os._exit`, the kernel's out-of-memory killer)
fails that training alone with `TrainingCrashed` (a 500 in the service's error shape; a job is
retried like any failed attempt) and is replaced. Cancelling a training (every client hung up)
kills its worker, which is replaced too: a process stops at once, a thread only at a checkpoint.
"""

import contextlib
import dataclasses
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from pydantic import BaseModel

from common.core.cancellation import checkpoint
from common.core.errors import ServiceError, TrainingCrashed
from common.core.logs import configure_logging
from common.core.settings import Settings
from common.data.datasets import IndicatorStore
from common.data.shared_frames import SharedFrames
from common.serving.storage import open_storage
from common.serving.tasks import Task

logger = logging.getLogger(__name__)

Train = Callable[[Task, IndicatorStore, BaseModel], bytes]
# How often a thread waiting for its worker looks at its cancel token.
CANCEL_POLL_SECONDS = 0.1
STOP_SECONDS = 5
PARENT_POLL_SECONDS = 1.0
# Workers yield the CPU to the web process when both want it (Linux CFS: about a tenth of its
# share), so a cached answer is not queued behind trainings for a core.
TRAINING_NICENESS = 10
_CONTEXT = multiprocessing.get_context("spawn")


def in_process(settings: Settings) -> Train:
    """Trainings in the calling thread (TRAINING_PROCESSES=0)."""
    return lambda task, store, request: task.compute(store, request, settings)


class TrainingProcesses:
    """A pool of worker processes; `train` runs one training in one of them."""

    def __init__(self, settings: Settings, preload: Iterable[str] = ()) -> None:
        self.settings = settings
        self.size = settings.training_processes
        self.preload = sorted(set(preload))  # modules a new worker imports before its first job
        self.crashes = 0
        self._idle: list[_Worker] = []  # last in, first out: the warmest caches are used first
        self._count = 0  # workers alive or starting
        self._condition = threading.Condition()
        self._store_pickle: tuple[str, bytes] | None = None
        self._store_lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start every worker now, in the background (else each starts on first use)."""
        for _ in range(self.size):
            self._start_spare()

    def train(self, task: Task, store: IndicatorStore, request: BaseModel) -> bytes:
        """Run `task.compute` on a worker; the calling thread's cancel token is honoured."""
        worker = self._take()
        healthy = False
        try:
            store_pickle = None if worker.version == store.version else self._pickled(store)
            status, value = worker.train(task, request, store.version, store_pickle)
            # A worker that ran out of memory may hold half-built caches: replace it.
            healthy = not isinstance(value, MemoryError)
        except TrainingCrashed:
            with self._condition:
                self.crashes += 1
            raise
        finally:
            self._give_back(worker, healthy)  # not healthy: killed (a cancelled one too)
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """Stop the idle workers (each saves its coverage data and exits); busy ones are killed
        when they come back."""
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._condition.notify_all()
        for worker in idle:
            worker.stop()

    def _take(self) -> "_Worker":
        with self._condition:
            while not self._idle and self._count >= self.size:
                self._condition.wait(CANCEL_POLL_SECONDS)
                checkpoint()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return self._new_worker()
        except BaseException:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise

    def _give_back(self, worker: "_Worker", healthy: bool) -> None:
        with self._condition:
            if healthy and not self._closed:
                self._idle.append(worker)
                self._condition.notify()
                return
            self._count -= 1
            self._condition.notify()
        if healthy:
            worker.stop()
        else:
            worker.kill()
            self._start_spare()  # the replacement: the next request need not wait for it

    def _start_spare(self) -> None:
        with self._condition:
            if self._closed or self._count >= self.size:
                return
            self._count += 1

        def start() -> None:
            try:
                worker = self._new_worker()
            except Exception:
                logger.exception("could not start a training process")
                worker = None
            with self._condition:
                if worker is not None and not self._closed:
                    self._idle.append(worker)
                else:
                    self._count -= 1
                self._condition.notify()
            if worker is not None and self._closed:
                worker.stop()

        threading.Thread(target=start, name="training-process-start", daemon=True).start()

    def _new_worker(self) -> "_Worker":
        return _Worker(self.settings, self.preload)

    def _pickled(self, store: IndicatorStore) -> bytes:
        """The store's data pickled once per version (its memoised caches are not sent)."""
        with self._store_lock:
            if self._store_pickle is None or self._store_pickle[0] != store.version:
                fields = {
                    f.name: getattr(store, f.name)
                    for f in dataclasses.fields(store)
                    if not f.name.startswith("_")
                }
                self._store_pickle = (store.version, pickle.dumps(fields, protocol=5))
            return self._store_pickle[1]


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, settings: Settings, preload: list[str]) -> None:
        parent_end, child_end = _CONTEXT.Pipe()
        self.process: BaseProcess = _CONTEXT.Process(
            target=serve,
            args=(child_end, settings, preload),
            name="training-process",
            daemon=True,
        )
        self.process.start()
        child_end.close()
        self.connection: Connection = parent_end
        self.version: str | None = None  # the dataset version the worker holds

    def train(
        self, task: Task, request: BaseModel, version: str, store_pickle: bytes | None
    ) -> tuple[str, Any]:
        """The worker's reply: ("ok", payload) or ("error", the exception it raised)."""
        try:
            self.connection.send((task, request, version, store_pickle))
        except (BrokenPipeError, ConnectionResetError, EOFError) as error:
            raise self._crashed() from error
        self.version = version
        while not wait([self.connection, self.process.sentinel], CANCEL_POLL_SECONDS):
            checkpoint()
        try:
            reply: tuple[str, Any] = self.connection.recv()
        except (EOFError, ConnectionResetError) as error:
            raise self._crashed() from error
        return reply

    def _crashed(self) -> TrainingCrashed:
        self.process.join(STOP_SECONDS)
        code = self.process.exitcode
        how = f"exit code {code}"
        if code is not None and code < 0:
            how = f"signal {signal.Signals(-code).name}"
        logger.error("training process %s died (%s)", self.process.pid, how)
        return TrainingCrashed(
            f"the process running this training died ({how}: a crash, or out of memory); it "
            "has been replaced, but the same request may fail the same way"
        )

    def stop(self) -> None:
        """Ask the worker to exit (it saves coverage data on a normal exit), kill it if it
        does not."""
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(STOP_SECONDS)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(STOP_SECONDS)
        self.connection.close()


# ---- the worker process -----------------------------------------------------------------------


def serve(connection: Connection, settings: Settings, preload: list[str]) -> None:
    """The worker's loop: one training per message until told to stop (None) or orphaned."""
    configure_logging(settings.log_level, settings.log_json)
    os.nice(TRAINING_NICENESS)
    _exit_with_parent()
    for module in preload:
        importlib.import_module(module)
    shared = _shared_frames(settings)
    store: IndicatorStore | None = None
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            return
        task, request, version, store_pickle = message
        if store_pickle is not None:
            store = None  # the old version's caches go before the new data arrives
            store = IndicatorStore(**pickle.loads(store_pickle))
            store.share_matrices(shared)
        connection.send(_run(task, request, version, store, settings))


def _shared_frames(settings: Settings) -> SharedFrames | None:
    """The shared matrices through this worker's own client of the configured blob store (the
    memory backend lives in the parent: then the worker's memo only)."""
    storage = open_storage(settings)
    return SharedFrames(storage.blobs) if storage.kind == "azure" else None


def _exit_with_parent() -> None:
    """End this worker when the web process dies, even by SIGKILL, mid-training (the pipe tells
    only once the training is over)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run(
    task: Task, request: BaseModel, version: str, store: IndicatorStore | None, settings: Settings
) -> tuple[str, Any]:
    try:
        if store is None or store.version != version:
            raise RuntimeError(f"training process holds no dataset of version {version}")
        return "ok", task.compute(store, request, settings)
    except Exception as error:  # sent back as raised: the parent reports it as it would its own
        if not isinstance(error, ServiceError):
            logger.exception("training failed in its process")
        return "error", _picklable(error)


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
