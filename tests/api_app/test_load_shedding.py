"""Load shedding and responsiveness through a real uvicorn server while a model trains."""

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from common.serving.runtime import Runtime
from tests.fixtures.servers import http, start_server

HEALTH_BUDGET_SECONDS = 1.0


def _in_progress(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("sids_trainings_in_progress "):
                return float(line.split()[1])
    raise AssertionError("no sids_trainings_in_progress metric")


@pytest.fixture(scope="module")
def one_slot_server(demo_dataset_dir) -> Iterator[str]:
    with start_server(
        demo_dataset_dir,
        {
            "MAX_CONCURRENCY": "1",
            "MAX_QUEUE_LENGTH": "0",
            "TRAINING_PROCESSES": "1",  # the production default's mode: shedding is unchanged
            "RETRY_AFTER_SECONDS": "7",
            "METRICS_PUBLIC": "true",
        },
    ) as url:
        yield url


def test_busy_service_sheds_load_and_stays_responsive(
    one_slot_server: str, medium_request: dict[str, Any], manual_request: dict[str, Any]
) -> None:
    url = one_slot_server
    slow = threading.Thread(target=http, args=("POST", f"{url}/twolvlImp/predict", medium_request))
    slow.start()
    deadline = time.monotonic() + 30
    while _in_progress(url) < 1:
        assert time.monotonic() < deadline, "the slow training never started"
        time.sleep(0.05)

    started = time.monotonic()
    status, headers, body = http(
        "POST", f"{url}/twolvlImp/predict", {**manual_request, "estimators": 31}
    )
    assert status == 503
    assert headers["retry-after"] == "7"
    assert json.loads(body)["code"] == "overloaded"
    assert time.monotonic() - started < HEALTH_BUDGET_SECONDS  # refused at once, not queued

    for probe in ("/healthz", "/readyz"):
        started = time.monotonic()
        with urllib.request.urlopen(f"{url}{probe}", timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started < HEALTH_BUDGET_SECONDS
    slow.join(timeout=120)
    assert _in_progress(url) == 0
    status, _, _ = http("POST", f"{url}/twolvlImp/predict", {**manual_request, "estimators": 31})
    assert status == 200


def test_sync_training_past_its_timeout_is_a_504_and_still_cached(
    demo_settings, slow_request: dict[str, Any]
) -> None:
    from fastapi.testclient import TestClient

    from api_app import create_app

    settings = demo_settings.model_copy(update={"sync_timeout_seconds": 0.5})
    request = {**slow_request, "estimators": 40, "interpolator": "KNNImputer"}
    with TestClient(create_app(Runtime.create(settings))) as client:
        response = client.post("/twolvlImp/predict", json=request)
        assert response.status_code == 504
        assert response.json()["code"] == "training_timeout"
        assert "POST /jobs" in response.json()["detail"]
        deadline = time.monotonic() + 120
        while client.post("/twolvlImp/predict", json=request).headers.get("x-cache") != "hit":
            assert time.monotonic() < deadline, "the abandoned training never reached the cache"
            time.sleep(0.5)
