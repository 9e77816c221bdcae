"""A batch through the jobs queue on Azurite with two `python -m worker` processes, one killed
mid-batch: every unit ends once, the files are the platform's format and the command line's."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from azure.storage.blob import BlobServiceClient
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.fixtures.azurite import AzuriteServer, unique_storage_names
from tests.helpers import wait_for_job

REPO = Path(__file__).resolve().parents[2]
VISIBILITY_SECONDS = 3
TARGETS = [
    "demo_wdi-access_to_electricity_percent_of_population",
    "demo_wdi-central_government_debt_percent_of_gdp",
]
BATCH = {"datasets": ["demo_wdi"], "first_year": 2010, "last_year": 2012, "targets": TARGETS,
         "estimators": 5, "model_number": 2, "output_prefix": "ml/"}  # fmt: skip
FILE_KEYS = {
    "data",
    "upperIntervals",
    "lowerIntervals",
    "featureImportances",
    "categoryImportances",
}


def _settings(demo_settings: Settings, azurite: AzuriteServer) -> Settings:
    names = unique_storage_names()
    update = {"azure_storage_connection_string": azurite.connection_string, **names}
    return demo_settings.model_copy(
        update=update | {"batch_container": f"ml-{names['jobs_queue_name'][5:]}"}
    )


def _start_worker(settings: Settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATASET_PATH": str(settings.dataset_path),
        "DEMO_DATA_FALLBACK": "false",
        "AZURE_STORAGE_CONNECTION_STRING": settings.azure_storage_connection_string or "",
        "JOBS_QUEUE_NAME": settings.jobs_queue_name,
        "RESULTS_CONTAINER": settings.results_container,
        "BATCH_CONTAINER": settings.batch_container,
        "JOB_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        "WORKER_POLL_INTERVAL": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "worker"], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _wait_for_a_training(settings: Settings, timeout: float = 120) -> None:
    """Until the first year's result is cached: the workers are inside their units."""
    service = BlobServiceClient.from_connection_string(
        settings.azure_storage_connection_string or ""
    )
    container = service.get_container_client(settings.results_container)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if container.exists() and any(container.list_blob_names(name_starts_with="results/")):
            return
        time.sleep(0.1)
    raise TimeoutError("no training finished")


def test_a_batch_survives_a_killed_worker_and_matches_the_command_line(
    azurite: AzuriteServer, demo_settings: Settings, tmp_path: Path
) -> None:
    settings = _settings(demo_settings, azurite)
    with TestClient(create_app(Runtime.create(settings))) as api:
        submitted = api.post(
            "/jobs", json={"model": "twolvlImp", "endpoint": "batch", "request": BATCH}
        )
        assert submitted.status_code == 202, submitted.text
        job = submitted.json()
        assert job["progress"] == {
            "done": 0,
            "failed": 0,
            "total": 2,
            "steps": 6,
            "seconds_left": None,
        }
        workers = [_start_worker(settings), _start_worker(settings)]
        try:
            _wait_for_a_training(settings)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            finished = wait_for_job(api, job["id"], {"completed", "failed"}, timeout=240)
        finally:
            workers[1].terminate()
            workers[1].wait(timeout=60)
    assert finished["status"] == "completed", finished
    assert finished["progress"]["done"] == 2 and finished["result"]["failures"] == []
    blobs = BlobServiceClient.from_connection_string(settings.azure_storage_connection_string or "")
    results = blobs.get_container_client(settings.results_container)
    states = list(results.list_blob_names(name_starts_with=f"batches/{job['id']}/units/"))
    assert sorted(states) == [
        f"batches/{job['id']}/units/{n:06d}.done" for n in (0, 1)
    ]  # once each
    attempts = [json.loads(results.download_blob(name).readall())["attempts"] for name in states]
    assert max(attempts) == 2  # the killed worker's unit was delivered again
    assert len(list(results.list_blob_names(name_starts_with="results/"))) == 6  # one per year
    output = blobs.get_container_client(settings.batch_container)
    job_files = {
        name.removeprefix("ml/"): output.download_blob(name).readall()
        for name in output.list_blob_names(name_starts_with="ml/")
    }
    assert set(job_files) == {"ML Model Metadata.json"} | {
        f"model2/demo_wdi/{t}.json" for t in TARGETS
    }
    for target in TARGETS:
        document = json.loads(job_files[f"model2/demo_wdi/{target}.json"])
        assert set(document) == FILE_KEYS
        assert all(sorted(document[key]) == ["2010", "2011", "2012"] for key in FILE_KEYS)
        for year, values in document["data"].items():
            assert set(document["upperIntervals"][year]) <= set(values)  # estimated ones only
            assert len(document["upperIntervals"][year]) < len(values)
    metadata = json.loads(job_files["ML Model Metadata.json"])
    assert set(metadata["Model 2"]) == {
        "Modelling Approach", "Model Name", "Parameters",
        "Model Description", "Model Advantage", "Model Drawback",
    }  # fmt: skip

    command = [sys.executable, "-m", "models.twolvlImp.batch", "--dataset", "demo_wdi",
               "--years", "2010-2012", "--model-number", "2", "--estimators", "5",
               "--out", str(tmp_path), "--processes", "1", "--targets", *TARGETS]  # fmt: skip
    env = {**os.environ, "DATASET_PATH": str(settings.dataset_path), "DEMO_DATA_FALLBACK": "false"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "2/2 units" in done.stderr
    for name, content in job_files.items():
        assert json.loads((tmp_path / name).read_bytes()) == json.loads(content), name
