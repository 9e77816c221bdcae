"""Async jobs: submitted by the API, queued, run by workers, their state and results kept as blobs.

A job's life: `in_queue` (record saved, message sent) -> `in_progress` (a worker took it) ->
`completed` (result in the cache under the job's key) or `failed` (error recorded). Nothing is
lost: a worker that dies leaves the message to reappear after its visibility timeout; a job that
keeps failing is marked failed after `JOB_MAX_ATTEMPTS` deliveries; a message delivered again for
a finished job is dropped without recomputing.
"""

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from common.core.errors import (
    ErrorBody,
    InvalidParameter,
    NotFound,
    ServiceError,
    StorageUnavailable,
    field_problems,
    validation_error,
)
from common.core.logs import job_id_var
from common.core.metrics import Metrics
from common.core.settings import Settings
from common.data.datasets import DatasetManager
from common.serving.batch import BatchKind, BatchRunner, batch_message
from common.serving.cache import ResultCache
from common.serving.executor import TrainingSlots
from common.serving.processes import Train, in_process
from common.serving.storage import QueueMessage, Storage
from common.serving.tasks import (
    Task,
    cache_key,
    canonical_request,
    is_job_id,
    job_id_of,
    new_job_id,
)

logger = logging.getLogger(__name__)

JOBS_PREFIX = "jobs/"


class JobStatus(str, Enum):
    """Where a job is in its life."""

    in_queue = "in_queue"
    in_progress = "in_progress"
    completed = "completed"
    failed = "failed"


FINISHED = {JobStatus.completed, JobStatus.failed}


class JobRecord(BaseModel):
    """The stored state of a job."""

    id: str
    model: str
    endpoint: str
    request: dict[str, Any]
    cache_key: str
    status: JobStatus
    submitted: datetime
    started: datetime | None = None
    finished: datetime | None = None
    attempts: int = 0
    error: ErrorBody | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class TaskRegistry:
    """The tasks of the mounted models, by model and endpoint."""

    def __init__(self, tasks: list[Task], batches: list[BatchKind] | None = None) -> None:
        self._tasks = {(task.model, task.endpoint): task for task in tasks}
        self._batches = {(kind.model, kind.endpoint): kind for kind in batches or []}

    def find_any(self, model: str, endpoint: str) -> Task | BatchKind:
        """The task or batch kind, or a 422 naming the field at fault and its allowed values."""
        known: dict[tuple[str, str], Task | BatchKind] = {**self._tasks, **self._batches}
        models = sorted({name for name, _ in known})
        if model not in models:
            raise InvalidParameter(
                f"model {model!r} has no job endpoints", field="model", allowed=models
            )
        endpoints = sorted(name for owner, name in known if owner == model)
        if endpoint not in endpoints:
            raise InvalidParameter(
                f"endpoint {endpoint!r} of {model} cannot run as a job",
                field="endpoint",
                allowed=endpoints,
            )
        return known[(model, endpoint)]

    def find(self, model: str, endpoint: str) -> Task:
        """The task, or a 422 naming the field at fault and its allowed values."""
        found = self.find_any(model, endpoint)
        if not isinstance(found, Task):
            raise InvalidParameter(f"endpoint {endpoint!r} of {model} is a batch", field="endpoint")
        return found

    def batch_kind(self, model: str, endpoint: str) -> BatchKind:
        """The batch kind of a stored batch (a KeyError if this process does not mount it)."""
        return self._batches[(model, endpoint)]

    def parse(self, task: Task, request: dict[str, Any]) -> BaseModel:
        """Validate a job request as the sync route would; errors name `request.<field>`."""
        try:
            return task.request_model.model_validate(request)
        except ValidationError as error:
            raise validation_error(field_problems(error.errors(), prefix="request")) from error


class JobStore:
    """Job records as JSON blobs."""

    def __init__(self, storage: Storage) -> None:
        self._blobs = storage.blobs

    def load(self, job_id: str) -> JobRecord | None:
        data = self._blobs.get(JOBS_PREFIX + job_id)
        return JobRecord.model_validate_json(data) if data is not None else None

    def save(self, record: JobRecord) -> None:
        self._blobs.put(JOBS_PREFIX + record.id, record.model_dump_json().encode())


class JobService:
    """What the API does with jobs: submit and look up."""

    def __init__(
        self, storage: Storage, cache: ResultCache, tasks: TaskRegistry, metrics: Metrics
    ) -> None:
        self.storage = storage
        self.records = JobStore(storage)
        self.cache = cache
        self.tasks = tasks
        self.metrics = metrics

    def submit(self, task: Task, request: BaseModel, dataset_version: str) -> JobRecord:
        """Save and queue a job; a cached result completes it at once."""
        return self._submit(task, request, cache_key(dataset_version, task, request), new_job_id())

    def submit_once(self, task: Task, request: BaseModel, dataset_version: str) -> JobRecord:
        """The one job of a request on a dataset version, whoever submits it (a warm-up: every
        replica loading the version submits the same ones). Its id comes from the cache key: a
        job already queued, running, or completed with its result still cached is answered as
        it is, without a second message; only a new, failed or forgotten one is queued. Two
        submitters in the same few milliseconds may both queue it: the second delivery then finds
        the result cached, or at worst computes it again (same answer)."""
        key = cache_key(dataset_version, task, request)
        job_id = job_id_of(key)
        existing = self.records.load(job_id)
        if existing is not None and existing.cache_key == key:
            if existing.status in {JobStatus.in_queue, JobStatus.in_progress}:
                return existing
            if existing.status == JobStatus.completed and self.cache.lookup(key) is not None:
                return existing
        return self._submit(task, request, key, job_id)

    def _submit(self, task: Task, request: BaseModel, key: str, job_id: str) -> JobRecord:
        record = JobRecord(
            id=job_id,
            model=task.model,
            endpoint=task.endpoint,
            request=canonical_request(request),
            cache_key=key,
            status=JobStatus.in_queue,
            submitted=_now(),
        )
        if self.cache.lookup(key) is not None:
            record.status, record.finished = JobStatus.completed, record.submitted
            self.records.save(record)
            self.metrics.jobs.labels(status=JobStatus.completed.value).inc()
            return record
        self.records.save(record)
        try:
            self.storage.queue.send(json.dumps({"job_id": record.id}))
        except StorageUnavailable:
            record.status, record.finished = JobStatus.failed, _now()
            record.error = ErrorBody(detail="the job could not be queued", code="not_queued")
            self._save_quietly(record)
            raise
        self.metrics.jobs.labels(status=JobStatus.in_queue.value).inc()
        logger.info("job %s queued for %s/%s", record.id, task.model, task.endpoint)
        return record

    def get(self, job_id: str) -> tuple[JobRecord, bytes | None]:
        """A job and, once completed, its result; 404 for an unknown id."""
        record = self.records.load(job_id) if is_job_id(job_id) else None
        if record is None:
            raise NotFound(f"no job with id {job_id!r}", field="id")
        result = self.cache.get(record.cache_key) if record.status == JobStatus.completed else None
        return record, result

    def _save_quietly(self, record: JobRecord) -> None:
        try:
            self.records.save(record)
        except StorageUnavailable:
            logger.warning("job %s: state not saved, storage unavailable", record.id)


class JobRunner:
    """Runs one delivery of a job; shared by the worker process and the queue-triggered Function."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        cache: ResultCache,
        tasks: TaskRegistry,
        datasets: DatasetManager,
        metrics: Metrics,
        slots: TrainingSlots | None = None,
        train: Train | None = None,
    ) -> None:
        self.settings = settings
        self.records = JobStore(storage)
        self.cache = cache
        self.tasks = tasks
        self.datasets = datasets
        self.metrics = metrics
        self.slots = slots
        self.train = train or in_process(settings)
        self.batches = BatchRunner(settings, storage, cache, datasets, tasks.batch_kind, self.train)

    def process(self, content: str, dequeue_count: int) -> bool:
        """Handle one delivery; True when the message is done with (delete it), False to retry."""
        unit = batch_message(content)  # a unit of a batch (common.serving.batch) shares the queue
        if unit is not None:
            return self.batches.process(*unit, dequeue_count)
        job_id = _job_id(content)
        if job_id is None:
            logger.error("dropping malformed job message %r", content[:200])
            return True
        token = job_id_var.set(job_id)
        try:
            return self._process(job_id, dequeue_count)
        finally:
            job_id_var.reset(token)

    def _process(self, job_id: str, dequeue_count: int) -> bool:
        record = self.records.load(job_id)
        if record is None:
            logger.error("dropping message of unknown job %s", job_id)
            return True
        if record.status in FINISHED:
            logger.info(
                "job %s already %s: duplicate delivery ignored", job_id, record.status.value
            )
            return True
        if self.cache.get(record.cache_key) is not None:
            self._finish(record, JobStatus.completed)
            return True
        if dequeue_count > self.settings.job_max_attempts:
            return self._give_up(record, dequeue_count)
        record.status, record.started, record.attempts = (
            JobStatus.in_progress,
            _now(),
            dequeue_count,
        )
        self.records.save(record)
        self.metrics.jobs.labels(status=JobStatus.in_progress.value).inc()
        return self._run(record, dequeue_count)

    def _run(self, record: JobRecord, dequeue_count: int) -> bool:
        started = time.monotonic()
        try:
            task = self.tasks.find(record.model, record.endpoint)
            store = self.datasets.require_store()
            request = self.tasks.parse(task, record.request)
            # Checked again (it was at submission): this process's data may be a newer version.
            task.validate(store, request, self.settings)
            work = lambda: self.train(task, store, request)  # noqa: E731
            payload = self.slots.run_unbounded(work) if self.slots else work()
        except StorageUnavailable:
            raise
        except ServiceError as error:
            if error.retryable:  # e.g. data not loaded yet: worth another delivery
                return self._retry_or_fail(record, error.body(), dequeue_count)
            self._finish(record, JobStatus.failed, error.body())  # bad request: final
            return True
        except Exception as error:
            logger.exception("job %s attempt %d failed", record.id, dequeue_count)
            body = ErrorBody(detail=f"{type(error).__name__}: {error}", code="job_error")
            return self._retry_or_fail(record, body, dequeue_count)
        record.cache_key = cache_key(store.version, task, request)
        self.cache.put(record.cache_key, payload)
        self.metrics.job_duration.labels(record.model, record.endpoint).observe(
            time.monotonic() - started
        )
        self._finish(record, JobStatus.completed)
        return True

    def _retry_or_fail(self, record: JobRecord, error: ErrorBody, dequeue_count: int) -> bool:
        record.error = error
        if dequeue_count >= self.settings.job_max_attempts:
            return self._give_up(record, dequeue_count)
        record.status = JobStatus.in_queue
        self.records.save(record)
        return False

    def _give_up(self, record: JobRecord, dequeue_count: int) -> bool:
        attempts = min(dequeue_count, self.settings.job_max_attempts)
        last = f": {record.error.detail}" if record.error else ""
        error = ErrorBody(detail=f"gave up after {attempts} attempts{last}", code="job_failed")
        self._finish(record, JobStatus.failed, error)
        return True

    def _finish(self, record: JobRecord, status: JobStatus, error: ErrorBody | None = None) -> None:
        record.status, record.finished = status, _now()
        if error is not None:
            record.error = error
        self.records.save(record)
        self.metrics.jobs.labels(status=status.value).inc()
        logger.info("job %s %s", record.id, status.value)


def _job_id(content: str) -> str | None:
    try:
        job_id = json.loads(content)["job_id"]
    except (ValueError, KeyError, TypeError):
        return None
    return job_id if isinstance(job_id, str) and is_job_id(job_id) else None


class QueueWorker:
    """Takes jobs off the queue one at a time and runs them; keeps its message hidden meanwhile."""

    def __init__(self, storage: Storage, runner: JobRunner, settings: Settings) -> None:
        self.queue = storage.queue
        self.runner = runner
        self.settings = settings

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; storage trouble is logged and retried after a pause."""
        while not stop.is_set():
            try:
                worked = self.run_once()
            except StorageUnavailable:
                worked = False
            if not worked and not self._help():
                stop.wait(self.settings.worker_poll_interval)

    def _help(self) -> bool:
        """With the queue empty: a step of a batch unit another worker is running, if any."""
        try:
            return self.runner.batches.help()
        except StorageUnavailable:
            return False

    def run_once(self) -> bool:
        """Take and handle one message; False when the queue had none."""
        timeout = self.settings.job_visibility_timeout
        message = self.queue.receive(timeout)
        if message is None:
            return False
        with self._kept_hidden(message) as current:
            done = self.runner.process(message.content, message.dequeue_count)
        if done:
            self.queue.delete(current())
        return True

    @contextmanager
    def _kept_hidden(self, message: QueueMessage) -> Iterator[Any]:
        """Extend the message's invisibility while the job runs (a dead worker stops doing so)."""
        latest = [message]
        stop = threading.Event()
        interval = self.settings.job_visibility_timeout / 3

        def heartbeat() -> None:
            while not stop.wait(interval):
                try:
                    latest[0] = self.queue.extend(latest[0], self.settings.job_visibility_timeout)
                except (StorageUnavailable, LookupError):
                    logger.warning("could not extend the visibility of message %s", message.id)

        thread = threading.Thread(target=heartbeat, name="job-heartbeat", daemon=True)
        thread.start()
        try:
            yield lambda: latest[0]
        finally:
            stop.set()
            thread.join()
