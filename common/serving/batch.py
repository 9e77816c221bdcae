"""Batch runs: one request fanned out over the jobs queue as units, each unit one output file.

A model declares a `BatchKind`: how a request becomes units (`plan`), the task requests of a unit
(`steps`, e.g. one predict request per year), how their results make the unit's file (`combine`)
and the file describing the batch (`describe`). This module does the rest, the same way for every
kind and for the API, `python -m worker`, the queue-triggered Function and local command lines:

- the batch record `batches/<id>.json` (request, units, output) and one message per unit on the
  jobs queue (`{"batch_id", "unit"}`), so every worker of the queue shares the units;
- each step goes through the task's result cache key, so a step is trained once: on a retried
  unit, a duplicate delivery or a re-run of the same batch on the same data it is a cache hit;
- a unit ends with one state blob `batches/<id>/units/<n>.<done|failed>`: a delivery of a unit
  that has one does nothing, and progress is counted by listing them (correct with any number
  of concurrent workers, nothing is updated in place);
- a step failing with a final error (a bad request for that year) is recorded at once; any other
  error retries the unit (the message reappears after the visibility timeout, as a killed
  worker's does) and is recorded on the JOB_MAX_ATTEMPTS-th delivery; the batch still finishes;
- a unit's file is written whole or not at all (one blob upload; a temporary file renamed into
  place in a folder);
- a worker that finds the queue empty helps the units still running (`BatchRunner.help`): it
  trains the step their owner will reach last, so the owner finds it cached. The owner still
  runs, records and writes its unit alone (a helper only fills the result cache), so the tail of
  a batch is not one worker's last unit while the others idle.
"""

import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from common.core.errors import (
    ErrorBody,
    NotFound,
    ServiceError,
    StorageUnavailable,
    field_problems,
    validation_error,
)
from common.core.settings import Settings
from common.data.datasets import DatasetManager, IndicatorStore
from common.serving.cache import ResultCache
from common.serving.processes import Train
from common.serving.storage import BlobStore, Storage, open_azure_container
from common.serving.tasks import Task, cache_key, is_job_id, new_job_id

logger = logging.getLogger(__name__)

BATCHES_PREFIX = "batches/"
DEFAULT_LOCAL_OUTPUT = Path("./batch-output")  # BATCH_OUTPUT_DIR unset with the memory backend
PREFIX_PATTERN = r"^([A-Za-z0-9_.-]+/)*$"  # "" or folders ending in "/", no leading "/"


def check_prefix(prefix: str) -> str:
    """An output prefix, refused when a folder of it is "." or ".." (it would leave the output)."""
    if any(part in {".", ".."} for part in prefix.split("/")):
        raise ValueError('a folder of the prefix may not be "." or ".."')
    return prefix


class UnitPlan(BaseModel):
    """One unit of a batch: its name, its output file (relative to the output prefix) and what
    the kind needs to rebuild its steps."""

    name: str
    path: str
    params: dict[str, Any]


class Output(BaseModel):
    """Where a batch's files land: a blob container and prefix, or a folder and prefix."""

    kind: str = Field(description="`blob` or `folder`.")
    location: str = Field(description="The blob container, or the folder's absolute path.")
    prefix: str = ""

    def describe(self) -> str:
        if self.kind == "blob":
            return f"blob container {self.location!r}, prefix {self.prefix!r}"
        return str(Path(self.location) / self.prefix)


class BatchRecord(BaseModel):
    """The stored batch: written once at submission, read by every unit's worker."""

    id: str
    model: str
    endpoint: str
    request: dict[str, Any]
    dataset_version: str
    units: list[UnitPlan]
    steps: int
    output: Output
    submitted: datetime
    error: ErrorBody | None = Field(
        None,
        description="Why the batch failed as a whole (`not_queued`: storage failed while "
        "its messages were sent); its units are not run.",
    )


class StepFailure(BaseModel):
    """A step of a unit (e.g. a target in a year) that gave no result, and why."""

    unit: str
    step: str
    error: ErrorBody


class UnitState(BaseModel):
    """How a unit ended; stored once, under a name that says done or failed."""

    unit: int
    status: str
    attempts: int
    trained: int = Field(description="Steps trained in the last attempt (the rest were cached).")
    cpu_seconds: float = Field(
        0.0,
        description="CPU time of the last attempt in its worker process (steps a helper trained "
        "are counted in the helper's).",
    )
    failures: list[StepFailure] = []
    finished: datetime


class BatchStatus(str, Enum):
    in_queue = "in_queue"
    in_progress = "in_progress"
    completed = "completed"
    failed = "failed"


class BatchProgress(BaseModel):
    """Units finished so far; `failed` units had at least one failed step (their file holds the
    other steps, if any)."""

    done: int
    failed: int
    total: int
    steps: int = Field(description="Trainings the batch asks for (units x their years).")
    seconds_left: float | None = Field(
        description="Estimated from the pace so far; null until a unit has finished."
    )


@dataclass(frozen=True)
class BatchView:
    """A batch as `GET /jobs/{id}` shows it."""

    record: BatchRecord
    status: BatchStatus
    progress: BatchProgress
    finished: datetime | None
    failures: list[StepFailure]
    cpu_seconds: float | None = None  # once finished: the units' and helpers' CPU time


class BatchKind(Protocol):
    """What a model provides to run batches of one of its tasks."""

    model: str
    endpoint: str
    request_model: type[BaseModel]
    task: Task

    def plan(self, store: IndicatorStore, request: Any) -> list[UnitPlan]:
        """The units of a request; raises `InvalidParameter` (a 422) for a request the data
        cannot serve."""
        ...

    def steps(self, request: Any, unit: UnitPlan) -> list[tuple[str, BaseModel]]:
        """(label, task request) for each step of a unit."""
        ...

    def combine(self, request: Any, unit: UnitPlan, results: dict[str, bytes]) -> bytes:
        """The unit's file from the results of its successful steps, by label."""
        ...

    def describe(self, request: Any, existing: bytes | None) -> tuple[str, bytes]:
        """The batch's description file (path under the prefix, content), merged into the one
        already there."""
        ...


def parse_request(kind: BatchKind, request: dict[str, Any]) -> BaseModel:
    """Validate a batch request; errors name `request.<field>` as a job's do."""
    try:
        return kind.request_model.model_validate(request)
    except ValidationError as error:
        raise validation_error(field_problems(error.errors(), prefix="request")) from error


# ---- output ----------------------------------------------------------------------------------


class OutputSink(Protocol):
    def read(self, path: str) -> bytes | None: ...
    def write(self, path: str, data: bytes) -> None: ...


class FolderSink:
    """Files under a folder; each written to a temporary file, then renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> bytes | None:
        file = self.root / path
        return file.read_bytes() if file.is_file() else None

    def write(self, path: str, data: bytes) -> None:
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_name(f".{file.name}.{uuid.uuid4().hex}.partial")
        partial.write_bytes(data)
        os.replace(partial, file)  # atomic: readers see the old file or the new one


class BlobSink:
    """Blobs under a prefix; one upload each, so a blob is whole or absent."""

    def __init__(self, blobs: BlobStore, prefix: str) -> None:
        self.blobs, self.prefix = blobs, prefix

    def read(self, path: str) -> bytes | None:
        return self.blobs.get(self.prefix + path)

    def write(self, path: str, data: bytes) -> None:
        self.blobs.put(self.prefix + path, data)


def default_output(settings: Settings, storage: Storage, prefix: str) -> Output:
    """Where an API batch writes: BATCH_OUTPUT_DIR, else BATCH_CONTAINER with Azure Storage, else
    ./batch-output (the memory backend has no blob container to publish)."""
    if settings.batch_output_dir is None and storage.kind == "azure":
        return Output(kind="blob", location=settings.batch_container, prefix=prefix)
    folder = settings.batch_output_dir or DEFAULT_LOCAL_OUTPUT
    return Output(kind="folder", location=str(folder.resolve()), prefix=prefix)


def open_sink(output: Output, settings: Settings, storage: Storage) -> OutputSink:
    if output.kind == "folder":
        return FolderSink(Path(output.location) / output.prefix)
    if storage.kind != "azure":  # the memory backend (tests, local): output beside the results
        return BlobSink(storage.blobs, f"{output.location}/{output.prefix}")
    return BlobSink(open_azure_container(settings, output.location), output.prefix)


# ---- records and unit states -----------------------------------------------------------------


class BatchStore:
    """Batch records and unit states as blobs of the results container."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def load(self, batch_id: str) -> BatchRecord | None:
        data = self.blobs.get(f"{BATCHES_PREFIX}{batch_id}.json")
        return BatchRecord.model_validate_json(data) if data is not None else None

    def save(self, record: BatchRecord) -> None:
        self.blobs.put(f"{BATCHES_PREFIX}{record.id}.json", record.model_dump_json().encode())

    def finished_units(self, batch_id: str) -> dict[int, str]:
        """unit index -> `done` or `failed`, for the units that have ended."""
        states = {}
        for name in self.blobs.names(f"{BATCHES_PREFIX}{batch_id}/units/"):
            unit, _, status = name.rsplit("/", 1)[1].partition(".")
            states[int(unit)] = status
        return states

    def unit_state(self, batch_id: str, unit: int, status: str) -> UnitState | None:
        data = self.blobs.get(_unit_blob(batch_id, unit, status))
        return UnitState.model_validate_json(data) if data is not None else None

    def record_unit(self, batch_id: str, state: UnitState) -> None:
        self.blobs.put(
            _unit_blob(batch_id, state.unit, state.status), state.model_dump_json().encode()
        )

    def claims(self, batch_id: str) -> set[tuple[int, int]]:
        """(unit, step) pairs a helper has taken (see `BatchRunner.help`)."""
        taken = set()
        for name in self.blobs.names(f"{BATCHES_PREFIX}{batch_id}/claims/"):
            unit, _, step = name.rsplit("/", 1)[1].partition(".")
            taken.add((int(unit), int(step)))
        return taken

    def claim(self, batch_id: str, unit: int, step: int, cpu_seconds: float | None = None) -> None:
        """Taken (no content), then helped (the helper's CPU seconds)."""
        content = b"" if cpu_seconds is None else json.dumps(round(cpu_seconds, 3)).encode()
        self.blobs.put(_claim_blob(batch_id, unit, step), content)

    def helpers_cpu_seconds(self, batch_id: str) -> float:
        total = 0.0
        for unit, step in self.claims(batch_id):
            content = self.blobs.get(_claim_blob(batch_id, unit, step))
            total += float(json.loads(content)) if content else 0.0
        return total


def _claim_blob(batch_id: str, unit: int, step: int) -> str:
    return f"{BATCHES_PREFIX}{batch_id}/claims/{unit:06d}.{step}"


def _unit_blob(batch_id: str, unit: int, status: str) -> str:
    return f"{BATCHES_PREFIX}{batch_id}/units/{unit:06d}.{status}"


def _now() -> datetime:
    return datetime.now(UTC)


# ---- submission and status -------------------------------------------------------------------


class BatchService:
    """Submit a batch (record, description file, one message per unit) and tell its progress."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.records = BatchStore(storage.blobs)

    def submit(
        self, kind: BatchKind, request: BaseModel, store: IndicatorStore, output: Output
    ) -> BatchRecord:
        units = kind.plan(store, request)
        record = BatchRecord(
            id=new_job_id(),
            model=kind.model,
            endpoint=kind.endpoint,
            request=request.model_dump(mode="json"),
            dataset_version=store.version,
            units=units,
            steps=sum(len(kind.steps(request, unit)) for unit in units),
            output=output,
            submitted=_now(),
        )
        self.records.save(record)
        sink = open_sink(output, self.settings, self.storage)
        path, content = kind.describe(request, sink.read(_describe_path(kind, request)))
        sink.write(path, content)
        self._queue_units(record)
        logger.info("batch %s queued: %d units, %d steps", record.id, len(units), record.steps)
        return record

    def _queue_units(self, record: BatchRecord) -> None:
        """One message per unit. Storage failing part-way fails the batch visibly (its record
        says so; workers drop the messages already sent) and raises StorageUnavailable: a new
        submission of the same batch reuses whatever its units trained meanwhile."""
        queued = 0
        try:
            for index in range(len(record.units)):
                self.storage.queue.send(json.dumps({"batch_id": record.id, "unit": index}))
                queued += 1
        except StorageUnavailable as error:
            detail = (
                f"batch {record.id} could not be queued ({queued} of {len(record.units)} units "
                "were); submit it again"
            )
            record.error = ErrorBody(detail=detail, code="not_queued")
            try:
                self.records.save(record)
            except StorageUnavailable:
                logger.warning("batch %s: not queued, and that could not be saved", record.id)
            raise StorageUnavailable(
                f"{detail} later", retry_after_seconds=error.retry_after_seconds
            ) from error

    def find(self, batch_id: str) -> BatchView | None:
        record = self.records.load(batch_id)
        return self.view(record) if record is not None else None

    def get(self, batch_id: str) -> BatchView:
        view = self.find(batch_id)
        if view is None:
            raise NotFound(f"no batch with id {batch_id!r}", field="id")
        return view

    def view(self, record: BatchRecord) -> BatchView:
        if record.error is not None:  # never queued whole: nothing runs
            total = len(record.units)
            progress = BatchProgress(
                done=0, failed=0, total=total, steps=record.steps, seconds_left=None
            )
            return BatchView(record, BatchStatus.failed, progress, record.submitted, [])
        finished = self.records.finished_units(record.id)
        done = sum(status == "done" for status in finished.values())
        failed = len(finished) - done
        total = len(record.units)
        progress = BatchProgress(
            done=done,
            failed=failed,
            total=total,
            steps=record.steps,
            seconds_left=_seconds_left(record.submitted, len(finished), total),
        )
        status = _status(done, failed, total)
        failures, last, cpu = [], None, None
        if status in (BatchStatus.completed, BatchStatus.failed):
            states = [
                self.records.unit_state(record.id, unit, state)
                for unit, state in sorted(finished.items())
            ]
            ended = [state for state in states if state is not None]
            failures = [failure for state in ended for failure in state.failures]
            last = max((state.finished for state in ended), default=None)
            cpu = sum(state.cpu_seconds for state in ended)
            cpu += self.records.helpers_cpu_seconds(record.id)
        return BatchView(record, status, progress, last, failures, cpu)


def _describe_path(kind: BatchKind, request: BaseModel) -> str:
    return kind.describe(request, None)[0]


def _status(done: int, failed: int, total: int) -> BatchStatus:
    if done + failed < total:
        return BatchStatus.in_progress if done + failed else BatchStatus.in_queue
    return BatchStatus.completed if done or not failed else BatchStatus.failed


def _seconds_left(submitted: datetime, finished: int, total: int) -> float | None:
    if finished == 0:
        return None
    elapsed = (_now() - submitted).total_seconds()
    return round(elapsed / finished * (total - finished), 1)


# ---- running units ---------------------------------------------------------------------------


def batch_message(content: str) -> tuple[str, int] | None:
    """(batch id, unit index) of a batch unit's message; None for any other message."""
    try:
        message = json.loads(content)
    except ValueError:
        return None
    if not isinstance(message, dict) or set(message) != {"batch_id", "unit"}:
        return None
    batch_id, unit = message["batch_id"], message["unit"]
    if not (isinstance(batch_id, str) and is_job_id(batch_id)):
        return None
    return (batch_id, unit) if isinstance(unit, int) and unit >= 0 else None


class UnitRetry(Exception):
    """A unit's attempt failed in a way worth another delivery."""


def in_owner_order[T](steps: list[T], unit: int) -> list[T]:
    """A unit's steps in the order its owner runs them: rotated by the unit's index, so workers
    that start together begin on different steps (years) and compute what those share (a
    year's imputed matrix, `common.data.shared_frames`) once between them, not all at once."""
    shift = unit % len(steps) if steps else 0
    return steps[shift:] + steps[:shift]


@dataclass(frozen=True)
class _HelpStep:
    """A step of another worker's unit that a helper trains (`BatchRunner.help`)."""

    task: Task
    store: IndicatorStore
    unit: int
    index: int
    request: BaseModel


# A helper leaves the owner of a unit this many untrained steps ahead of the one it takes, so
# the owner is unlikely to reach that step before the helper has cached it.
OWNER_LEAD_STEPS = 2


class BatchRunner:
    """Runs one delivery of a unit; called by the job runner for batch messages."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        cache: ResultCache,
        datasets: DatasetManager,
        kinds: Callable[[str, str], BatchKind],
        train: Train,
    ) -> None:
        self.settings = settings
        self.train = train  # the job runner's: in a training process when there are some
        self.storage = storage
        self.records = BatchStore(storage.blobs)
        self.cache = cache
        self.datasets = datasets
        self.kinds = kinds
        self._helping: BatchRecord | None = None  # the batch of the last unit this worker ran

    def process(self, batch_id: str, unit: int, dequeue_count: int) -> bool:
        """True when the message is done with (delete it), False to have it delivered again."""
        record = self.records.load(batch_id)
        if record is None or unit >= len(record.units):
            logger.error("dropping message of unknown batch unit %s/%s", batch_id, unit)
            return True
        if record.error is not None:
            logger.info("batch %s failed (%s): unit %d dropped", batch_id, record.error.code, unit)
            return True
        self._helping = record
        if unit in self.records.finished_units(batch_id):
            logger.info("batch %s unit %d already finished: duplicate ignored", batch_id, unit)
            return True
        plan = record.units[unit]
        if dequeue_count > self.settings.job_max_attempts:  # the last attempt's worker died
            error = ErrorBody(
                detail=f"gave up after {self.settings.job_max_attempts} attempts",
                code="job_failed",
            )
            gave_up = StepFailure(unit=plan.name, step="*", error=error)
            self._record(record, unit, dequeue_count, 0, [gave_up])
            return True
        try:
            kind = self.kinds(record.model, record.endpoint)
        except KeyError:
            logger.error("batch %s: this process does not mount %s", batch_id, record.model)
            return False
        try:
            self._run(kind, record, unit, dequeue_count)
        except UnitRetry:
            return False
        except ServiceError as error:  # e.g. no data loaded yet in this process
            if not error.retryable:
                raise
            logger.warning("batch %s unit %d: %s; delivered again later", batch_id, unit, error)
            return False
        return True

    def _run(self, kind: BatchKind, record: BatchRecord, unit: int, dequeue_count: int) -> None:
        request = kind.request_model.model_validate(record.request)
        plan = record.units[unit]
        store = self.datasets.require_store()
        final = dequeue_count >= self.settings.job_max_attempts
        started = time.process_time()
        results: dict[str, bytes] = {}
        failures: list[StepFailure] = []
        trained = 0
        for label, step in in_owner_order(kind.steps(request, plan), unit):
            try:
                result, computed = self._step(kind.task, store, step)
            except StorageUnavailable:
                raise
            except ServiceError as error:
                if error.retryable and not final:
                    raise UnitRetry from error
                failures.append(StepFailure(unit=plan.name, step=label, error=error.body()))
                continue
            except Exception as error:
                logger.exception("batch %s unit %s step %s failed", record.id, plan.name, label)
                if not final:
                    raise UnitRetry from error
                body = ErrorBody(detail=f"{type(error).__name__}: {error}", code="job_error")
                failures.append(StepFailure(unit=plan.name, step=label, error=body))
                continue
            results[label] = result
            trained += computed
        if results:
            sink = open_sink(record.output, self.settings, self.storage)
            sink.write(plan.path, kind.combine(request, plan, results))
        cpu = time.process_time() - started
        self._record(record, unit, dequeue_count, trained, failures, cpu)

    def help(self) -> bool:
        """With no message to take: train one step of an unfinished unit of the last batch this
        worker ran, the last one its owner has not reached (owners go through their steps in
        order). True when it trained one; False, and the batch forgotten, when nothing is left
        to help with.

        The step is claimed first (a blob), so helpers do not take the same one; a helper that
        dies leaves only a claim, and the owner trains the step itself when it gets there."""
        record = self._helping
        if record is None:
            return False
        try:
            found = self._step_to_help(record)
            if found is not None:
                self.records.claim(record.id, found.unit, found.index)
        except Exception as error:  # storage, data or model missing here: stop helping
            logger.info("batch %s: not helping (%s)", record.id, error)
            found = None
        if found is None:
            self._helping = None
            return False
        started = time.process_time()
        try:
            self._step(found.task, found.store, found.request)
        except ServiceError as error:  # the owner records it (or retries a retryable one)
            logger.info("batch %s unit %d: a helped step failed: %s", record.id, found.unit, error)
        except Exception:
            logger.exception("batch %s unit %d: a helped step failed", record.id, found.unit)
        cpu = time.process_time() - started
        with contextlib.suppress(StorageUnavailable):
            self.records.claim(record.id, found.unit, found.index, cpu)
        return True

    def _step_to_help(self, record: BatchRecord) -> "_HelpStep | None":
        """The step to help with, if any."""
        finished = self.records.finished_units(record.id)
        if len(finished) == len(record.units):
            return None
        kind = self.kinds(record.model, record.endpoint)
        store = self.datasets.require_store()
        if store.version != record.dataset_version:
            return None  # a newer dataset: the owners' results would not be these
        request = kind.request_model.model_validate(record.request)
        claims = self.records.claims(record.id)
        for unit, plan in enumerate(record.units):
            if unit in finished:
                continue
            steps = [step for _, step in in_owner_order(kind.steps(request, plan), unit)]
            index = self._last_untaken(kind.task, store, steps, unit, claims)
            if index is not None:
                return _HelpStep(kind.task, store, unit, index, steps[index])
        return None

    def _last_untaken(
        self,
        task: Task,
        store: IndicatorStore,
        steps: list[BaseModel],
        unit: int,
        claims: set[tuple[int, int]],
    ) -> int | None:
        """The last step of a unit neither cached nor claimed, if OWNER_LEAD_STEPS steps before
        it are untaken too (the owner is working on the first of those, or before)."""

        def taken(index: int) -> bool:
            if (unit, index) in claims:
                return True
            return self.cache.get(cache_key(store.version, task, steps[index])) is not None

        index = len(steps) - 1
        while index >= 0 and taken(index):
            index -= 1
        lead = range(index - OWNER_LEAD_STEPS, index)
        if index < OWNER_LEAD_STEPS or any(taken(before) for before in lead):
            return None
        return index

    def _step(self, task: Task, store: IndicatorStore, request: BaseModel) -> tuple[bytes, int]:
        """A step's result from the cache, or trained and cached; and whether it was trained."""
        task.validate(store, request, self.settings)
        key = cache_key(store.version, task, request)
        cached = self.cache.lookup(key)
        if cached is not None:
            return cached, 0
        result = self.train(task, store, request)
        self.cache.put(key, result)
        return result, 1

    def _record(
        self,
        record: BatchRecord,
        unit: int,
        attempts: int,
        trained: int,
        failures: list[StepFailure],
        cpu_seconds: float = 0.0,
    ) -> None:
        state = UnitState(
            unit=unit,
            status="failed" if failures else "done",
            attempts=min(attempts, self.settings.job_max_attempts),
            trained=trained,
            cpu_seconds=round(cpu_seconds, 3),
            failures=failures,
            finished=_now(),
        )
        self.records.record_unit(record.id, state)
        logger.info("batch %s unit %d %s", record.id, unit, state.status)


def wait_for_batch(
    service: BatchService,
    batch_id: str,
    on_progress: Callable[[BatchProgress], None],
    interval: float = 0.5,
) -> BatchView:
    """Poll a batch until every unit has finished, reporting progress on the way."""
    while True:
        view = service.get(batch_id)
        on_progress(view.progress)
        if view.status in (BatchStatus.completed, BatchStatus.failed):
            return view
        time.sleep(interval)
