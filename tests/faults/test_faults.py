"""Injected faults against real parts: storage going away, clients hanging up.

(A worker killed mid-job is in tests/worker; a dataset replaced by a broken one in
tests/api_app/test_reload.py.)
"""

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.fixtures.azurite import AzuriteServer, unique_storage_names
from tests.fixtures.servers import start_server
from tests.helpers import runtime_of, wait_for_job


def _submit(api: TestClient, request: dict[str, Any]):
    return api.post("/jobs", json={"model": "twolvlImp", "endpoint": "predict", "request": request})


def test_storage_outage_refuses_new_jobs_and_loses_none(
    demo_settings: Settings, manual_request: dict[str, Any], tmp_path: Path
) -> None:
    azurite = AzuriteServer(location=tmp_path / "azurite")  # on disk: survives the restart
    azurite.start()
    settings = demo_settings.model_copy(
        update={"azure_storage_connection_string": azurite.connection_string}
        | unique_storage_names()
    )
    stop = threading.Event()
    try:
        with TestClient(create_app(Runtime.create(settings))) as api:
            runtime = runtime_of(api)
            accepted = [
                _submit(api, {**manual_request, "estimators": 40 + n}).json()["id"]
                for n in range(3)
            ]
            azurite.stop()
            refused = _submit(api, {**manual_request, "estimators": 50})
            assert refused.status_code == 503
            assert refused.json()["code"] == "storage_unavailable"
            assert "try again later" in refused.json()["detail"]
            assert refused.headers["retry-after"]
            ready = api.get("/readyz")
            assert ready.status_code == 503 and ready.json()["code"] == "storage_unavailable"
            assert api.get("/healthz").status_code == 200

            azurite.start()
            worker = threading.Thread(target=runtime.queue_worker().run, args=(stop,))
            worker.start()
            for job_id in accepted:
                job = wait_for_job(api, job_id, {"completed", "failed"}, timeout=120)
                assert job["status"] == "completed", job
            assert api.get("/readyz").status_code == 200
    finally:
        stop.set()
        azurite.stop()


def _in_progress(url: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("sids_trainings_in_progress "):
                return float(line.split()[1])
    raise AssertionError("no sids_trainings_in_progress metric")


def _post_status(url: str, body: dict[str, Any]) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{url}/twolvlImp/predict", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_client_hanging_up_mid_training_leaks_no_slot(
    demo_dataset_dir: Path, medium_request: dict[str, Any], manual_request: dict[str, Any]
) -> None:
    environment = {"MAX_CONCURRENCY": "1", "MAX_QUEUE_LENGTH": "0", "METRICS_PUBLIC": "true"}
    with start_server(demo_dataset_dir, environment) as url:
        host, port = url.removeprefix("http://").split(":")
        body = json.dumps({**medium_request, "estimators": 120}).encode()
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(
                b"POST /twolvlImp/predict HTTP/1.1\r\nHost: test\r\n"
                b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            deadline = time.monotonic() + 30
            while _in_progress(url) < 1:
                assert time.monotonic() < deadline, "the training never started"
                time.sleep(0.05)
        # The client is gone; the training finishes and gives its slot back.
        deadline = time.monotonic() + 120
        while _in_progress(url) > 0:
            assert time.monotonic() < deadline, "the slot was never given back"
            time.sleep(0.2)
        assert _post_status(url, {**manual_request, "estimators": 33}) == 200
