"""Jobs and the result cache through the HTTP API, on the memory backend and on Azurite."""

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from common.serving.storage import open_storage
from tests.fixtures.azurite import AzuriteServer, unique_storage_names

POLL_SECONDS = 60


def _runtime(settings: Settings, storage=None) -> Runtime:
    return Runtime.create(settings.model_copy(update={"model_service": None}), storage=storage)


@pytest.fixture(params=["memory", "azurite"])
def backend_settings(request, demo_settings: Settings) -> Settings:
    demo_settings = demo_settings.model_copy(update={"metrics_public": True})  # read below
    if request.param == "memory":
        return demo_settings
    server: AzuriteServer = request.getfixturevalue("azurite")
    update = {"azure_storage_connection_string": server.connection_string}
    return demo_settings.model_copy(update=update | unique_storage_names())


@pytest.fixture
def shared_storage(backend_settings: Settings):
    """One storage for the apps of a test: the same Azurite queue and container, or memory."""
    return open_storage(backend_settings)


@pytest.fixture
def app(backend_settings: Settings, shared_storage) -> Iterator[FastAPI]:
    """The app, with a job worker: the embedded one (memory) or a worker thread (Azurite)."""
    runtime = _runtime(backend_settings, shared_storage)
    app = create_app(runtime)
    stop = threading.Event()
    if shared_storage.kind != "memory":
        worker = threading.Thread(target=runtime.queue_worker().run, args=(stop,), daemon=True)
        worker.start()
    yield app
    stop.set()


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def _wait_for(api: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        job = api.get(f"/jobs/{job_id}").json()
        if job["status"] in {"completed", "failed"}:
            return job
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} not finished within {POLL_SECONDS} s")


def _submit(api: TestClient, request: dict[str, Any]):
    return api.post("/jobs", json={"model": "twolvlImp", "endpoint": "predict", "request": request})


def test_submit_poll_complete(api: TestClient, manual_request: dict[str, Any]) -> None:
    request = {**manual_request, "estimators": 12}
    submitted = _submit(api, request)
    assert submitted.status_code == 202
    body = submitted.json()
    assert body["status"] == "in_queue" and body["result"] is None
    assert submitted.headers["location"] == body["links"]["self"] == f"/jobs/{body['id']}"
    job = _wait_for(api, body["id"])
    assert job["status"] == "completed", job
    sync = api.post("/twolvlImp/predict", json=request)
    assert sync.headers["x-cache"] == "hit"
    assert job["result"] == sync.json()


def test_sync_route_caches_and_says_so(api: TestClient, manual_request: dict[str, Any]) -> None:
    request = {**manual_request, "estimators": 13}
    first = api.post("/twolvlImp/predict", json=request)
    second = api.post("/twolvlImp/predict", json=request)
    assert first.headers["x-cache"] == "miss" and second.headers["x-cache"] == "hit"
    assert first.json() == second.json()
    job = _submit(api, request).json()
    assert job["status"] == "completed" and job["result"] == first.json()


def test_equivalent_requests_share_a_cache_entry(
    api: TestClient, manual_request: dict[str, Any]
) -> None:
    request = {**manual_request, "estimators": 14}
    api.post("/twolvlImp/predict", json=request)
    reordered = dict(reversed(list(request.items())))
    as_text_year = {**reordered, "target_year": str(request["target_year"])}
    assert api.post("/twolvlImp/predict", json=as_text_year).headers["x-cache"] == "hit"


def test_cache_is_shared_by_app_instances(
    api: TestClient, backend_settings: Settings, shared_storage, manual_request: dict[str, Any]
) -> None:
    request = {**manual_request, "estimators": 15}
    assert api.post("/twolvlImp/predict", json=request).headers["x-cache"] == "miss"
    other = create_app(_runtime(backend_settings, shared_storage))
    with TestClient(other) as second_instance:
        response = second_instance.post("/twolvlImp/predict", json=request)
    assert response.headers["x-cache"] == "hit"


def test_new_dataset_version_never_serves_an_old_result(
    api: TestClient,
    backend_settings: Settings,
    shared_storage,
    manual_request: dict[str, Any],
    demo_dataset_dir: Path,
    tmp_path: Path,
) -> None:
    request = {**manual_request, "estimators": 16}
    api.post("/twolvlImp/predict", json=request)
    changed = tmp_path / "changed"
    shutil.copytree(demo_dataset_dir, changed)
    meta = changed / "datasetMeta.csv"
    meta.write_text(meta.read_text().replace("(demo)", "(demo revised)"))
    settings = backend_settings.model_copy(update={"dataset_path": changed})
    with TestClient(create_app(_runtime(settings, shared_storage))) as revised:
        response = revised.post("/twolvlImp/predict", json=request)
    assert response.headers["x-cache"] == "miss"
    assert response.json()["dataset_version"] != api.get("/").json()["dataset_version"]


def test_bad_job_request_is_rejected_now(api: TestClient, manual_request: dict[str, Any]) -> None:
    response = _submit(api, {**manual_request, "scheme": "nope"})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "request.scheme" and body["allowed"] == ["AFS", "PCA", "MANUAL"]
    unknown_target = _submit(api, {**manual_request, "target": "nope"})
    assert unknown_target.status_code == 422 and unknown_target.json()["field"] == "target"


@pytest.mark.parametrize(
    ("model", "endpoint", "field"),
    [("nope", "predict", "model"), ("twolvlImp", "nope", "endpoint")],
)
def test_unknown_job_target_names_field(
    api: TestClient, manual_request: dict[str, Any], model: str, endpoint: str, field: str
) -> None:
    response = api.post("/jobs", json={"model": model, "endpoint": endpoint, "request": {}})
    assert response.status_code == 422
    assert response.json()["field"] == field and response.json()["allowed"]


def test_unknown_job_is_404(api: TestClient) -> None:
    for job_id in ("0" * 32, "not-an-id"):
        response = api.get(f"/jobs/{job_id}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_request_id_is_returned_and_kept(api: TestClient) -> None:
    generated = api.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    given = api.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"


def test_metrics_count_requests_cache_and_jobs(
    api: TestClient, manual_request: dict[str, Any]
) -> None:
    request = {**manual_request, "estimators": 17}
    api.post("/twolvlImp/predict", json=request)
    api.post("/twolvlImp/predict", json=request)
    _wait_for(api, _submit(api, {**request, "estimators": 18}).json()["id"])
    text = api.get("/metrics").text
    assert 'sids_http_requests_total{method="POST",route="/twolvlImp/predict",status="200"}' in text
    assert 'sids_cache_lookups_total{result="hit"}' in text
    assert 'sids_jobs_total{status="completed"}' in text
    assert "sids_job_duration_seconds_bucket" in text
    assert "sids_trainings_in_progress 0.0" in text
    assert "sids_http_request_duration_seconds_bucket" in text
