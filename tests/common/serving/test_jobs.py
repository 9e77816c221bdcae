"""Job behaviour on both storage backends: the in-process memory one and Azure Storage (Azurite).

The task here is a small stand-in model whose run counts its calls and can fail on request, so
that retries, poison handling and duplicate deliveries are observable.
"""

import json
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from common.core.errors import InvalidParameter, NotFound
from common.core.settings import Settings
from common.serving.jobs import JobStatus
from common.serving.registry import ModelSpec
from common.serving.runtime import Runtime
from common.serving.storage import Storage, open_storage
from common.serving.tasks import Task
from tests.fixtures.azurite import (
    AzuriteServer,
    unique_storage_names,
)

VISIBILITY_SECONDS = 1


class EchoRequest(BaseModel):
    value: int
    fail: str | None = None  # "always": an unexpected error; "bad": a 422-class error


class EchoResponse(BaseModel):
    doubled: int


@dataclass
class CountingModel:
    calls: int = 0

    def run(self, store, request: EchoRequest, settings) -> EchoResponse:
        self.calls += 1
        if request.fail == "always":
            raise RuntimeError("the model crashed")
        if request.fail == "bad":
            raise InvalidParameter("value is not usable", field="value")
        return EchoResponse(doubled=2 * request.value)

    def task(self) -> Task:
        return Task("echo", "double", EchoRequest, lambda store, request: None, self.run)


@pytest.fixture(params=["memory", "azurite"])
def settings(request, demo_settings: Settings) -> Settings:
    update: dict[str, Any] = {"job_visibility_timeout": VISIBILITY_SECONDS, "job_max_attempts": 3}
    if request.param == "azurite":
        server: AzuriteServer = request.getfixturevalue("azurite")
        update |= {"azure_storage_connection_string": server.connection_string}
        update |= unique_storage_names()
    return demo_settings.model_copy(update=update)


def _spec(task: Task) -> ModelSpec:
    """A model serving just `task`."""
    return ModelSpec(task.model, task.model, APIRouter(), "/", tasks=(task,))


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return open_storage(settings)


@pytest.fixture
def model() -> CountingModel:
    return CountingModel()


@pytest.fixture
def runtime(settings: Settings, storage: Storage, model: CountingModel) -> Runtime:
    runtime = Runtime.create(settings, [_spec(model.task())], storage=storage)
    runtime.datasets.load()
    return runtime


def _submit(runtime: Runtime, model: CountingModel, **request) -> str:
    task = model.task()
    parsed = runtime.tasks.parse(task, request)
    return runtime.jobs.submit(task, parsed, runtime.datasets.require_store().version).id


def _drain(runtime: Runtime, rounds: int = 20) -> None:
    """Work the queue until it is empty, waiting out visibility timeouts of retried messages."""
    worker = runtime.queue_worker()
    stop = threading.Event()
    for _ in range(rounds):
        if runtime.storage.queue.length() == 0:
            return
        if not worker.run_once():
            stop.wait(0.25)
    raise AssertionError("the queue did not drain")


def test_submitted_job_completes_with_its_result(runtime: Runtime, model: CountingModel) -> None:
    job_id = _submit(runtime, model, value=21)
    record, result = runtime.jobs.get(job_id)
    assert record.status == JobStatus.in_queue and result is None
    assert runtime.queue_worker().run_once()
    record, result = runtime.jobs.get(job_id)
    assert record.status == JobStatus.completed and result is not None
    assert json.loads(result) == {"doubled": 42}
    assert record.started is not None and record.finished is not None
    assert record.finished >= record.started
    assert runtime.storage.queue.length() == 0


def test_duplicate_delivery_does_not_recompute(runtime: Runtime, model: CountingModel) -> None:
    job_id = _submit(runtime, model, value=1)
    runtime.queue_worker().run_once()
    runtime.storage.queue.send(json.dumps({"job_id": job_id}))  # the same message, again
    assert runtime.queue_worker().run_once()
    assert model.calls == 1
    assert runtime.jobs.get(job_id)[0].status == JobStatus.completed
    assert runtime.storage.queue.length() == 0


def test_same_request_is_served_from_the_cache(runtime: Runtime, model: CountingModel) -> None:
    first = _submit(runtime, model, value=5)
    _drain(runtime)
    second = _submit(runtime, model, value=5)
    record, result = runtime.jobs.get(second)
    assert record.status == JobStatus.completed and result is not None
    assert json.loads(result) == {"doubled": 10}
    assert first != second and model.calls == 1


def test_abandoned_job_is_finished_by_another_worker(
    runtime: Runtime, model: CountingModel
) -> None:
    job_id = _submit(runtime, model, value=3)
    taken = runtime.storage.queue.receive(VISIBILITY_SECONDS)  # a worker takes it, then dies
    assert taken is not None and runtime.storage.queue.receive(VISIBILITY_SECONDS) is None
    _drain(runtime)
    record, result = runtime.jobs.get(job_id)
    assert record.status == JobStatus.completed and record.attempts == 2
    assert result is not None and json.loads(result) == {"doubled": 6}


def test_job_that_keeps_failing_ends_failed(runtime: Runtime, model: CountingModel) -> None:
    job_id = _submit(runtime, model, value=1, fail="always")
    _drain(runtime)
    record, result = runtime.jobs.get(job_id)
    assert record.status == JobStatus.failed and result is None
    assert model.calls == 3 and record.error is not None
    assert "gave up after 3 attempts" in record.error.detail
    assert "the model crashed" in record.error.detail


def test_bad_input_found_while_running_fails_at_once(
    runtime: Runtime, model: CountingModel
) -> None:
    job_id = _submit(runtime, model, value=1, fail="bad")
    _drain(runtime)
    record, _ = runtime.jobs.get(job_id)
    assert record.status == JobStatus.failed and model.calls == 1 and record.error is not None
    assert record.error.code == "invalid_parameter" and record.error.field == "value"


def test_malformed_message_is_dropped(runtime: Runtime) -> None:
    runtime.storage.queue.send("not json")
    assert runtime.queue_worker().run_once()
    assert runtime.storage.queue.length() == 0


def test_unknown_job_id_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        runtime.jobs.get("0" * 32)


def test_long_job_keeps_its_message_hidden(settings: Settings, storage: Storage) -> None:
    # A job running for several visibility timeouts is not delivered to a second worker.
    release = threading.Event()

    def slow(store, request, settings) -> EchoResponse:
        release.wait(10)
        return EchoResponse(doubled=0)

    task = Task("echo", "double", EchoRequest, lambda store, request: None, slow)
    runtime = Runtime.create(settings, [_spec(task)], storage=storage)
    runtime.datasets.load()
    parsed = runtime.tasks.parse(task, {"value": 0})
    job_id = runtime.jobs.submit(task, parsed, runtime.datasets.require_store().version).id
    busy = threading.Thread(target=runtime.queue_worker().run_once)
    busy.start()
    try:
        threading.Event().wait(VISIBILITY_SECONDS * 2.5)
        assert runtime.storage.queue.receive(VISIBILITY_SECONDS) is None
    finally:
        release.set()
        busy.join()
    assert runtime.jobs.get(job_id)[0].status == JobStatus.completed
