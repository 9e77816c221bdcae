"""`python -m worker` as real processes against Azurite: a worker killed mid-job loses nothing."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.fixtures.azurite import AzuriteServer, unique_storage_names
from tests.helpers import wait_for_job

REPO = Path(__file__).resolve().parents[2]
VISIBILITY_SECONDS = 3


def _worker_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATASET_PATH": str(settings.dataset_path),
        "DEMO_DATA_FALLBACK": "false",
        "AZURE_STORAGE_CONNECTION_STRING": settings.azure_storage_connection_string or "",
        "JOBS_QUEUE_NAME": settings.jobs_queue_name,
        "RESULTS_CONTAINER": settings.results_container,
        "JOB_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        "WORKER_POLL_INTERVAL": "0.2",
    }


def _start_worker(settings: Settings) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "worker"],
        cwd=REPO,
        env=_worker_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _settings(demo_settings: Settings, azurite: AzuriteServer) -> Settings:
    update = {"azure_storage_connection_string": azurite.connection_string}
    return demo_settings.model_copy(update=update | unique_storage_names())


def test_job_of_a_killed_worker_completes_on_another(
    azurite: AzuriteServer, demo_settings: Settings, medium_request: dict[str, Any]
) -> None:
    settings = _settings(demo_settings, azurite)
    with TestClient(create_app(Runtime.create(settings))) as api:
        body = {"model": "twolvlImp", "endpoint": "predict", "request": medium_request}
        job_id = api.post("/jobs", json=body).json()["id"]
        first = _start_worker(settings)
        try:
            wait_for_job(api, job_id, {"in_progress"}, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        second = _start_worker(settings)
        try:
            job = wait_for_job(api, job_id, {"completed", "failed"}, timeout=180)
        finally:
            second.terminate()
            second.wait(timeout=60)
    assert job["status"] == "completed", job
    assert job["attempts"] == 2
    assert job["result"]["indicatorJson"]["data"]


def test_worker_stops_cleanly_on_sigterm(azurite: AzuriteServer, demo_settings: Settings) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-m", "worker"],
        cwd=REPO,
        env=_worker_env(_settings(demo_settings, azurite)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stderr is not None  # a pipe
    for line in worker.stderr:  # the logs, until the worker says it works the queue
        if "worker started" in line:
            break
    assert worker.poll() is None, "the worker runs until told to stop"
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0


def test_worker_refuses_to_start_without_shared_storage(demo_settings: Settings) -> None:
    env = _worker_env(demo_settings)
    env.pop("AZURE_STORAGE_CONNECTION_STRING")
    result = subprocess.run(
        [sys.executable, "-m", "worker"], cwd=REPO, env=env, capture_output=True, timeout=60
    )
    assert result.returncode != 0
    assert b"needs shared storage" in result.stderr
