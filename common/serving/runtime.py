"""The long-lived parts of a process, built once from the settings and shared by app and workers."""

import logging
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache

from common.core.errors import StorageUnavailable
from common.core.metrics import Metrics
from common.core.settings import Settings, get_settings
from common.data.datasets import DatasetManager, IndicatorStore
from common.data.shared_frames import SharedFrames
from common.serving.cache import ResultCache
from common.serving.executor import TaskExecutor, TrainingSlots
from common.serving.jobs import (
    JobRecord,
    JobRunner,
    JobService,
    JobStatus,
    QueueWorker,
    TaskRegistry,
)
from common.serving.processes import TrainingProcesses, in_process
from common.serving.registry import ModelSpec, discover_models
from common.serving.storage import Storage, open_storage
from common.serving.tasks import Warmup

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Dataset, storage, cache, training slots, metrics, the models and their tasks of one
    process."""

    settings: Settings
    models: list[ModelSpec]
    datasets: DatasetManager
    storage: Storage
    cache: ResultCache
    slots: TrainingSlots
    metrics: Metrics
    tasks: TaskRegistry
    executor: TaskExecutor  # one per process: its threads, single flight and per-client counts
    jobs: JobService
    processes: TrainingProcesses | None = None  # None: trainings run in this process's threads
    warmups: list[Warmup] = field(default_factory=list)
    _warmed_version: str | None = None  # the dataset version whose warm-up jobs were submitted
    _warm_up_thread: threading.Thread | None = None
    _warm_ups_listening: bool = False
    _background_stop: threading.Event = field(default_factory=threading.Event)
    _background_threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        settings: Settings,
        models: list[ModelSpec] | None = None,
        storage: Storage | None = None,
    ) -> "Runtime":
        """The runtime of `models` (by default the ones MODEL_SERVICE selects, discovered here:
        the one discovery of the process)."""
        if models is None:
            models = discover_models(settings.model_service)
        warmups = [warmup for model in models for warmup in model.warmups]
        for warmup in warmups:
            warmup.check_settings(settings)  # a bad value fails the start-up, saying why
        # Process-wide: trainings share the process with request handling (`Settings`).
        sys.setswitchinterval(settings.thread_switch_interval_ms / 1000)
        storage = storage or open_storage(settings)
        metrics = Metrics()
        slots = TrainingSlots(settings.max_concurrency, settings.max_queue_length)
        metrics.watch_trainings(lambda: slots.running, lambda: slots.waiting)
        cache = ResultCache(storage.blobs, settings.cache_max_entries, metrics)
        all_tasks = [task for model in models for task in model.tasks]
        tasks = TaskRegistry(all_tasks, [kind for model in models for kind in model.batches])
        processes = None
        if settings.training_processes > 0:
            preload = {task.run.__module__ for task in all_tasks}
            processes = TrainingProcesses(settings, preload)
        train = processes.train if processes else in_process(settings)
        shared = SharedFrames(
            storage.blobs, lambda source: metrics.shared_matrices.labels(source=source).inc()
        )
        return cls(
            settings=settings,
            models=models,
            datasets=DatasetManager(settings, shared),
            storage=storage,
            cache=cache,
            slots=slots,
            metrics=metrics,
            tasks=tasks,
            executor=TaskExecutor(settings, cache, slots, metrics, train),
            jobs=JobService(storage, cache, tasks, metrics),
            processes=processes,
            warmups=warmups,
        )

    def job_runner(self) -> JobRunner:
        return JobRunner(
            self.settings, self.storage, self.cache, self.tasks, self.datasets, self.metrics,
            self.slots, self.executor.train,
        )  # fmt: skip

    def queue_worker(self) -> QueueWorker:
        return QueueWorker(self.storage, self.job_runner(), self.settings)

    def start_embedded_worker(self) -> None:
        """With the memory backend, jobs run in a thread of this process (the embedded default)."""
        if self.storage.kind != "memory" or not self.settings.embedded_worker:
            return
        self._background_stop.clear()
        worker = self.queue_worker()
        thread = threading.Thread(
            target=worker.run,
            args=(self._background_stop,),
            name="embedded-job-worker",
            daemon=True,
        )
        thread.start()
        self._background_threads.append(thread)
        logger.info("embedded job worker started (in-process memory backend)")

    def start_training_processes(self) -> None:
        """Start the worker processes in the background, so the first trainings need not."""
        if self.processes is not None:
            self.processes.start()

    def start_warm_ups(self) -> None:
        """From now on, each new dataset version loaded submits the models' warm-up jobs, in a
        background thread (the HTTP process: workers only run them)."""
        if self.warmups and not self._warm_ups_listening:
            self._warm_ups_listening = True  # once per runtime (an app may start more than once)
            self._background_stop.clear()  # a restarted app's warm-up is not stopped at once
            self.datasets.on_load(self._warm_up_in_background)

    def _warm_up_in_background(self, store: IndicatorStore) -> None:
        if store.version == self._warmed_version:
            return  # a load of the same files again: submitted already
        self._warmed_version = store.version
        thread = threading.Thread(target=self.warm_up, args=(store,), name="warm-up", daemon=True)
        thread.start()
        self._warm_up_thread = thread
        self._background_threads.append(thread)

    def wait_for_warm_up(self, timeout: float | None = None) -> None:
        """Until the last warm-up started has submitted its jobs (they run on the workers)."""
        if self._warm_up_thread is not None:
            self._warm_up_thread.join(timeout)

    def warm_up(self, store: IndicatorStore) -> list[JobRecord]:
        """Submit every warm-up job of `store` once (`JobService.submit_once`: a job queued or
        completed by another replica is not queued again). Storage trouble stops it quietly:
        the first requests then impute, as they would with no warm-up."""
        records: list[JobRecord] = []
        try:
            for warmup in self.warmups:
                for request in warmup.requests(store, self.settings):
                    if self._background_stop.is_set() or self.datasets.store is not store:
                        return records  # stopping, or a newer version has its own warm-up
                    warmup.task.validate(store, request, self.settings)
                    records.append(self.jobs.submit_once(warmup.task, request, store.version))
        except StorageUnavailable as error:
            logger.warning("warm-up of dataset %s stopped, storage unavailable: %s",
                           store.version, error)  # fmt: skip
        except Exception:
            logger.exception("warm-up of dataset %s failed", store.version)
        queued = sum(record.status == JobStatus.in_queue for record in records)
        logger.info("warm-up of dataset %s: %d jobs submitted, %d of them queued",
                    store.version, len(records), queued)  # fmt: skip
        return records

    def start_dataset_watch(self) -> None:
        """Reload the dataset when its files change (DATASET_CHECK_INTERVAL > 0)."""
        if self.settings.dataset_check_interval <= 0:
            return
        thread = threading.Thread(
            target=self.datasets.watch,
            args=(self._background_stop,),
            name="dataset-watch",
            daemon=True,
        )
        thread.start()
        self._background_threads.append(thread)

    def stop_background(self) -> None:
        """Stop the embedded worker, the dataset watch and the training processes."""
        self._background_stop.set()
        for thread in self._background_threads:
            thread.join(timeout=30)
        self._background_threads.clear()
        if self.processes is not None:
            self.processes.close()


@lru_cache
def process_runtime() -> Runtime:
    """The runtime of this process from the environment, shared by the HTTP and queue functions."""
    return Runtime.create(get_settings())
