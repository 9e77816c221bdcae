"""Warm-up of the years' imputed predictor matrices: a `warm` job computes a year's matrix into
the shared blob store, so the first request of that year in another process reads it; with
WARM_IMPUTERS set, loading a dataset version submits one such job per year and imputer, once for
every replica (a job queued or completed is not queued again), and storage down never fails the
start-up."""

import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import InvalidSetting, Settings
from common.data.shared_frames import SHARED_PREFIX
from common.serving.jobs import JOBS_PREFIX, JobRecord, JobStatus
from common.serving.runtime import Runtime
from models.twolvlImp import history_method, options
from tests.fixtures.azurite import AzuriteServer, unique_storage_names
from tests.helpers import assert_invalid, runtime_of, wait_for_job

YEAR = 2019


def _counts(runtime: Runtime) -> dict[str, float]:
    """sids_shared_matrices_total by source in a runtime's metrics."""
    text = runtime.metrics.render().decode()
    found = re.findall(r'^sids_shared_matrices_total\{source="(\w+)"\} (\S+)$', text, re.M)
    return {source: float(value) for source, value in found}


def _azure(settings: Settings, azurite: AzuriteServer, **update: Any) -> Settings:
    """`settings` over Azurite, in a queue and container of the test's own."""
    return settings.model_copy(
        update={"azure_storage_connection_string": azurite.connection_string}
        | unique_storage_names()
        | update
    )


def _work_the_queue(settings: Settings) -> Runtime:
    """A worker process's runtime (its own memo) that runs every queued job, then stops."""
    worker = Runtime.create(settings)
    assert worker.datasets.load() is not None
    queue_worker = worker.queue_worker()
    while queue_worker.run_once():
        pass
    return worker


def _warm(year: int, imputer: str) -> dict[str, Any]:
    return {"model": "twolvlImp", "endpoint": "warm",
            "request": {"target_year": year, "interpolator": imputer}}  # fmt: skip


def _history_request(client: TestClient, interpolator: str) -> dict[str, Any]:
    """An AFS request with the history method in YEAR: it needs the year's imputed matrix."""
    store = runtime_of(client).datasets.require_store()
    dataset = sorted(options.dataset_options(store, YEAR))[0]
    target = sorted(options.target_options(store, YEAR, dataset))[0]
    return {"target_year": YEAR, "dataset": dataset, "target": target, "scheme": "AFS",
            "number_predictor": 3, "estimators": 5, "method": "history",
            "interpolator": interpolator, "model": "rfr", "interval": "quantile"}  # fmt: skip


def test_a_warm_job_shares_the_matrix_the_first_request_of_its_year_then_reads(
    azurite: AzuriteServer, demo_settings: Settings
) -> None:
    settings = _azure(demo_settings, azurite)
    with TestClient(create_app(Runtime.create(settings))) as api:
        submitted = api.post("/jobs", json=_warm(YEAR, "IterativeImputer"))
        assert submitted.status_code == 202, submitted.text
        assert submitted.json()["status"] == "in_queue"
        worker = _work_the_queue(settings)  # another process: it imputes and shares
        job = wait_for_job(api, submitted.json()["id"], {"completed", "failed"}, timeout=10)
    store = worker.datasets.require_store()
    assert job["status"] == "completed", job
    assert job["result"] == {
        "year": YEAR,
        "imputer": "IterativeImputer",
        "rows": len(store.countries),
        "columns": job["result"]["columns"],
        "dataset_version": store.version,
    }
    assert 0 < job["result"]["columns"] <= len(store.indicators)
    assert _counts(worker) == {"computed": 1.0}
    blobs = worker.storage.blobs.names(SHARED_PREFIX)
    assert len(blobs) == 1 and f"/{YEAR}/IterativeImputer/" in blobs[0]

    # A fresh app (another replica): its first IterativeImputer request of the year reads the
    # matrix instead of imputing it, and the same warm job is answered from the result cache.
    runtime = Runtime.create(settings)
    with TestClient(create_app(runtime)) as api:
        response = api.post("/twolvlImp/predict", json=_history_request(api, "IterativeImputer"))
        assert response.status_code == 200, response.text
        assert response.headers["x-cache"] == "miss"
        # The warmed year is read; the neighbouring years its SIDS without history learn from
        # were not warmed.
        neighbours = 2 * history_method.NEIGHBOURING_YEARS
        assert _counts(runtime) == {"shared": 1.0, "computed": float(neighbours)}
        again = api.post("/jobs", json=_warm(YEAR, "IterativeImputer"))
        assert again.status_code == 202 and again.json()["status"] == "completed"
        assert again.json()["result"] == job["result"]
    assert runtime.storage.queue.length() == 0


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"target_year": 1900, "interpolator": "KNNImputer"}, "target_year"),
        ({"target_year": YEAR, "interpolator": "Kriging"}, "request.interpolator"),
        ({"interpolator": "KNNImputer"}, "request.target_year"),
        ({"target_year": "soon", "interpolator": "KNNImputer"}, "request.target_year"),
    ],
)
def test_a_bad_warm_request_is_a_422_naming_the_field(
    client: TestClient, request_body: dict[str, Any], field: str
) -> None:
    body = {"model": "twolvlImp", "endpoint": "warm", "request": request_body}
    answer = assert_invalid(client.post("/jobs", json=body), field)
    if field == "target_year":
        assert answer["allowed"] == client.get("/twolvlImp/target_years").json()
    if field == "request.interpolator":
        assert answer["allowed"] == ["KNNImputer", "IterativeImputer", "SimpleImputer"]


def test_the_jobs_schema_names_the_warm_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["JobSubmission"]
    assert "`warm`" in schema["properties"]["endpoint"]["description"]


def _job_records(runtime: Runtime) -> list[JobRecord]:
    records = []
    for name in runtime.storage.blobs.names(JOBS_PREFIX):
        record = runtime.jobs.records.load(name.removeprefix(JOBS_PREFIX))
        assert record is not None
        records.append(record)
    return sorted(records, key=lambda record: record.submitted)


def _started(settings: Settings) -> Runtime:
    """A replica: an app over a runtime of its own, started (dataset loaded, warm-up submitted)."""
    runtime = Runtime.create(settings)
    with TestClient(create_app(runtime)):
        runtime.wait_for_warm_up(timeout=60)
    return runtime


def test_loading_a_version_submits_each_year_once_for_every_replica(
    azurite: AzuriteServer, demo_settings: Settings
) -> None:
    settings = _azure(demo_settings, azurite, warm_imputers=["SimpleImputer"])
    first = _started(settings)
    years = first.datasets.require_store().years
    records = _job_records(first)
    assert [record.request for record in records] == [
        {"target_year": year, "interpolator": "SimpleImputer"}
        for year in sorted(years, reverse=True)  # the front end's recent years first
    ]
    assert {record.status for record in records} == {JobStatus.in_queue}
    assert first.storage.queue.length() == len(years)

    # Another replica starting before any worker ran: the same jobs, no second message.
    second = _started(settings)
    assert [record.id for record in _job_records(second)] == [record.id for record in records]
    assert second.storage.queue.length() == len(years)

    worker = _work_the_queue(settings)
    assert _counts(worker) == {"computed": float(len(years))}  # each year imputed once
    assert len(worker.storage.blobs.names(SHARED_PREFIX)) == len(years)

    # A replica starting after: every job complete from the cache, nothing queued or imputed.
    third = _started(settings)
    assert {record.status for record in _job_records(third)} == {JobStatus.completed}
    assert third.storage.queue.length() == 0
    assert _counts(third) == {}


@pytest.fixture
def data_dir(demo_dataset_dir: Path, tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    shutil.copytree(demo_dataset_dir, folder)
    yield folder


def test_a_reload_warms_a_new_version_and_only_a_new_one(
    demo_settings: Settings, data_dir: Path
) -> None:
    settings = demo_settings.model_copy(
        update={
            "dataset_path": data_dir,
            "warm_imputers": ["SimpleImputer"],
            "embedded_worker": False,
        }
    )
    runtime = Runtime.create(settings)
    with TestClient(create_app(runtime)):
        runtime.wait_for_warm_up(timeout=60)
        years = len(runtime.datasets.require_store().years)
        assert runtime.storage.queue.length() == years
        runtime.datasets.reload()  # unchanged files
        runtime.datasets.load()  # the same version swapped in again
        runtime.wait_for_warm_up(timeout=60)
        assert runtime.storage.queue.length() == years
        meta = data_dir / "datasetMeta.csv"
        meta.write_text(meta.read_text().replace("(demo)", "(demo revised)"))
        runtime.datasets.reload()
        runtime.wait_for_warm_up(timeout=60)
        assert runtime.storage.queue.length() == 2 * years
        assert len(_job_records(runtime)) == 2 * years


def test_storage_down_skips_the_warm_up_without_failing_the_start_up(
    demo_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    server = AzuriteServer()  # one of its own, to stop
    server.start()
    runtime = Runtime.create(_azure(demo_settings, server, warm_imputers=["SimpleImputer"]))
    app = create_app(runtime)
    server.stop()
    with caplog.at_level(logging.WARNING, "common.serving.runtime"), TestClient(app) as api:
        runtime.wait_for_warm_up(timeout=60)
        assert api.get("/healthz").status_code == 200
        assert api.get("/twolvlImp/target_years").status_code == 200
    assert any(
        "warm-up of dataset" in record.getMessage() and "storage unavailable" in record.getMessage()
        for record in caplog.records
    )


def test_warm_imputers_is_comma_separated_and_checked_at_start_up(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARM_IMPUTERS", "IterativeImputer, KNNImputer")
    assert Settings(_env_file=None).warm_imputers == ["IterativeImputer", "KNNImputer"]
    monkeypatch.setenv("WARM_IMPUTERS", "")
    assert Settings(_env_file=None).warm_imputers == []
    bad = demo_settings.model_copy(update={"warm_imputers": ["IterativeImputer", "Kriging"]})
    with pytest.raises(InvalidSetting) as refused:
        Runtime.create(bad)
    assert str(refused.value) == (
        "WARM_IMPUTERS: 'Kriging' is not an imputer; allowed: KNNImputer, IterativeImputer, "
        "SimpleImputer (comma-separated, or empty for no warm-up)"
    )
