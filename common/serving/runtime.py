"""The long-lived parts of a process, built once from the settings and shared by app and workers."""

import logging
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache

from common.core.metrics import Metrics
from common.core.settings import Settings, get_settings
from common.data.datasets import DatasetManager
from common.data.shared_frames import SharedFrames
from common.serving.cache import ResultCache
from common.serving.executor import TaskExecutor, TrainingSlots
from common.serving.jobs import JobRunner, JobService, QueueWorker, TaskRegistry
from common.serving.processes import TrainingProcesses, in_process
from common.serving.registry import ModelSpec, discover_models
from common.serving.storage import Storage, open_storage

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
