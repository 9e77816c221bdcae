"""Trainings in worker processes (TRAINING_PROCESSES > 0): real spawned processes, one app.

The processes are started a few times for the whole module (a spawn costs seconds), so the
tests share one app over the demo data with one training process; a test that crashes or
cancels it leaves a replacement behind. That app serves only the probe model, so a replacement
does not import scikit-learn; the predict answers are compared on an app of their own.
"""

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import psutil
import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.errors import ClientGone, ErrorBody, Overloaded, TrainingTimeout
from common.core.metrics import Metrics
from common.core.settings import Settings
from common.serving.cache import ResultCache
from common.serving.executor import Caller, TaskExecutor, TrainingSlots
from common.serving.jobs import JobStatus
from common.serving.registry import discover_models
from common.serving.runtime import Runtime
from common.serving.tasks import cache_key
from tests.common.serving.probe_model import PROBE, PROBE_MODEL, ProbeRequest

WAIT_SECONDS = 60  # generous: a replacement process spawns and imports scikit-learn


def _one_process(demo_settings: Settings) -> Settings:
    return demo_settings.model_copy(update={"training_processes": 1, "max_concurrency": 1})


@pytest.fixture(scope="module")
def runtime(demo_settings: Settings) -> Runtime:
    return Runtime.create(_one_process(demo_settings), models=[PROBE_MODEL])


@pytest.fixture(scope="module")
def processes_client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def predict_client(demo_settings: Settings) -> Iterator[TestClient]:
    """The twolvlImp model's app, trainings in one worker process."""
    runtime = Runtime.create(_one_process(demo_settings), models=discover_models("twolvlImp"))
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def _probe(client: TestClient, **fields: Any) -> Any:
    return client.post("/probe/run", json=fields)


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _executor(runtime: Runtime, running: int = 1, waiting: int = 0, **update: Any) -> TaskExecutor:
    """An executor of its own settings and slots, training on the module's processes."""
    assert runtime.processes is not None
    settings = runtime.settings.model_copy(update=update)
    metrics = Metrics()
    cache = ResultCache(None, 16, metrics)
    slots = TrainingSlots(running, waiting)
    return TaskExecutor(settings, cache, slots, metrics, runtime.processes.train)


def test_predict_answers_are_the_same_bytes_as_in_process(
    predict_client: TestClient, client: TestClient, manual_request: dict[str, Any]
) -> None:
    request = {**manual_request, "estimators": 12}
    in_process = client.post("/twolvlImp/predict", json=request)
    in_worker = predict_client.post("/twolvlImp/predict", json=request)
    assert in_worker.status_code == in_process.status_code == 200
    assert in_worker.headers["x-cache"] == "miss"
    assert in_worker.content == in_process.content


def test_trainings_run_in_another_process_which_keeps_serving(
    processes_client: TestClient,
) -> None:
    first = _probe(processes_client, value=2).json()
    second = _probe(processes_client, value=3).json()
    assert first["doubled"] == 4 and second["doubled"] == 6
    assert first["pid"] != os.getpid()
    assert second["pid"] == first["pid"]  # the same worker, not one per request


def test_an_error_raised_in_the_worker_answers_as_it_would_in_process(
    processes_client: TestClient,
) -> None:
    before = _probe(processes_client, value=11).json()["pid"]
    answer = _probe(processes_client, action="fail")
    assert answer.status_code == 422
    assert answer.json()["field"] == "value" and answer.json()["allowed"] == [1, 2]
    assert _probe(processes_client, value=12).json()["pid"] == before  # the worker lives on


def test_a_crashed_worker_fails_its_request_alone_and_is_replaced(
    processes_client: TestClient, runtime: Runtime
) -> None:
    before = _probe(processes_client, value=21).json()["pid"]
    crashed = _probe(processes_client, action="crash")
    assert crashed.status_code == 500
    body = crashed.json()
    assert body["code"] == "training_crashed"
    assert "exit code 3" in body["detail"]
    assert ErrorBody.model_validate(body).code == "training_crashed"  # the service's one shape
    assert not psutil.pid_exists(before) or psutil.Process(before).status() == "zombie"
    after = _probe(processes_client, value=22)
    assert after.status_code == 200
    assert after.json()["pid"] not in {before, os.getpid()}
    assert runtime.processes is not None and runtime.processes.crashes >= 1


def test_a_worker_out_of_memory_answers_500_and_is_recycled(
    processes_client: TestClient,
) -> None:
    before = _probe(processes_client, value=31).json()["pid"]
    answer = _probe(processes_client, action="oom")
    assert answer.status_code == 500
    assert answer.json()["code"] == "internal_error"
    assert _probe(processes_client, value=32).json()["pid"] != before


def test_cached_answers_are_served_while_a_training_runs(
    processes_client: TestClient, runtime: Runtime
) -> None:
    assert _probe(processes_client, value=41).status_code == 200  # now cached
    training = threading.Thread(
        target=_probe,
        args=(processes_client,),
        kwargs={"value": 42, "seconds": 3, "action": "sleep"},
    )
    training.start()
    _until(lambda: runtime.slots.running == 1, "the training never started")
    hit = _probe(processes_client, value=41)
    assert hit.status_code == 200 and hit.headers["x-cache"] == "hit"
    assert training.is_alive() and runtime.slots.running == 1  # answered during the training
    training.join(WAIT_SECONDS)


def test_cancelling_kills_the_worker_and_frees_the_slot(runtime: Runtime) -> None:
    executor = _executor(runtime)
    hung_up = threading.Event()

    async def disconnected() -> None:
        while not hung_up.is_set():
            await asyncio.sleep(0.02)

    async def scenario() -> tuple[int, int]:
        pid = _pid_of(
            await executor.run(PROBE, ProbeRequest(value=51), runtime.datasets.require_store())
        )
        abandoned = asyncio.ensure_future(
            executor.run(
                PROBE,
                ProbeRequest(value=52, action="sleep", seconds=60),
                runtime.datasets.require_store(),
                Caller("a", disconnected),
            )
        )
        await asyncio.to_thread(_until, lambda: executor.slots.running == 1, "never started")
        hung_up.set()
        with pytest.raises(ClientGone):
            await abandoned
        return pid, 0

    pid, _ = asyncio.run(scenario())
    _until(lambda: executor.slots.running == 0, "the slot was not given back")
    _until(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie",
        "the sleeping worker still runs",
    )
    payload, hit = asyncio.run(
        executor.run(PROBE, ProbeRequest(value=53), runtime.datasets.require_store())
    )
    assert not hit and _pid_of((payload, hit)) != pid


def _pid_of(result: tuple[bytes, bool]) -> int:
    return json.loads(result[0])["pid"]


def test_a_timed_out_training_is_still_cached(runtime: Runtime) -> None:
    executor = _executor(runtime, sync_timeout_seconds=0.3)
    store = runtime.datasets.require_store()
    request = ProbeRequest(value=61, action="sleep", seconds=1.5)
    with pytest.raises(TrainingTimeout):
        asyncio.run(executor.run(PROBE, request, store))
    key = cache_key(store.version, PROBE, request)
    _until(lambda: executor.cached(key) is not None, "the result was never cached")
    payload, hit = asyncio.run(executor.run(PROBE, request, store))
    assert hit and _pid_of((payload, hit)) != os.getpid()


def test_load_shedding_is_unchanged(runtime: Runtime) -> None:
    executor = _executor(runtime, running=1, waiting=0, retry_after_seconds=9)
    store = runtime.datasets.require_store()

    async def scenario() -> None:
        busy = asyncio.ensure_future(
            executor.run(PROBE, ProbeRequest(value=71, action="sleep", seconds=1), store)
        )
        await asyncio.to_thread(_until, lambda: executor.slots.running == 1, "never started")
        with pytest.raises(Overloaded) as refused:
            await executor.run(PROBE, ProbeRequest(value=72), store)
        assert refused.value.retry_after_seconds == 9
        await busy

    asyncio.run(scenario())


def test_a_job_whose_worker_died_is_retried(processes_client: TestClient) -> None:
    def submit(**request: Any) -> str:
        body = {"model": "probe", "endpoint": "run", "request": request}
        answer = processes_client.post("/jobs", json=body)
        assert answer.status_code in (200, 202), answer.text
        return answer.json()["id"]

    def job(job_id: str) -> dict[str, Any]:
        return processes_client.get(f"/jobs/{job_id}").json()

    crash = submit(value=81, action="crash")
    _until(lambda: job(crash).get("error") is not None, "the crashed job never reported")
    record = job(crash)
    assert record["status"] == JobStatus.in_queue.value  # to be delivered again
    assert record["error"]["code"] == "training_crashed"
    ok = submit(value=82)
    _until(lambda: job(ok)["status"] == JobStatus.completed.value, "the next job never completed")
