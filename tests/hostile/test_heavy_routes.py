"""Every heavy route (training, survey clustering, dataset reload) goes through the same
admission control: bounded slots with 503 + Retry-After, the sync timeout's 504, all declared in
OpenAPI."""

import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.fixtures.servers import http, metric, start_server

HEAVY_ROUTES = [
    ("/twolvlImp/predict", "post"),
    ("/survey/clustering", "post"),
    ("/datasets/reload", "post"),
]


def _survey(rows: int) -> dict[str, Any]:
    return {
        "data": [
            {"q": f"a{n % 7}", "x": float(n % 13), "lat": 1.0, "lon": 2.0} for n in range(rows)
        ],
        "metadata": [
            {"Question Name": "q", "Type": "categorical", "Factor": "f"},
            {"Question Name": "x", "Type": "continuous", "Factor": "f"},
            {"Question Name": "lat", "Type": "GPS latitude"},
            {"Question Name": "lon", "Type": "GPS longitude"},
        ],
        "factor": "f",
        "max_k": 20,
    }


@pytest.mark.parametrize(("path", "method"), HEAVY_ROUTES)
def test_heavy_routes_declare_their_503_504_and_429(
    client: TestClient, path: str, method: str
) -> None:
    responses = client.get("/openapi.json").json()["paths"][path][method]["responses"]
    for status in ("429", "503", "504"):
        assert status in responses, f"{path} does not declare {status}"
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ErrorBody")


@pytest.fixture(scope="module")
def one_slot(demo_dataset_dir: Path, admin_keys: tuple[str, str]) -> Iterator[str]:
    environment = {
        "MAX_CONCURRENCY": "1",
        "MAX_QUEUE_LENGTH": "0",
        "RETRY_AFTER_SECONDS": "9",
        "ADMIN_API_KEYS": admin_keys[0],
    }
    with start_server(demo_dataset_dir, environment) as url:
        yield url


def test_survey_and_reload_are_shed_when_every_slot_is_busy(
    one_slot: str, medium_request: dict[str, Any], admin_keys: tuple[str, str]
) -> None:
    key = admin_keys[0]
    training = threading.Thread(
        target=http, args=("POST", f"{one_slot}/twolvlImp/predict", medium_request)
    )
    training.start()
    deadline = time.monotonic() + 30
    while metric(one_slot, "sids_trainings_in_progress", key) < 1:
        assert time.monotonic() < deadline, "the slow training never started"
        time.sleep(0.05)
    admin = {"Authorization": f"Bearer {key}"}
    for path, body, headers in (
        ("/survey/clustering", _survey(50), {}),
        ("/datasets/reload", None, admin),
    ):
        started = time.monotonic()
        status, response_headers, answer = http("POST", f"{one_slot}{path}", body, headers)
        assert status == 503, (path, answer)
        assert response_headers["retry-after"] == "9" and b'"code":"overloaded"' in answer
        assert time.monotonic() - started < 1.0  # refused at once
    training.join(timeout=180)
    assert http("POST", f"{one_slot}/survey/clustering", _survey(50))[0] == 200
    assert http("POST", f"{one_slot}/datasets/reload", None, admin)[0] == 200


def test_a_survey_past_the_sync_timeout_is_a_504(demo_settings: Settings) -> None:
    settings = demo_settings.model_copy(update={"sync_timeout_seconds": 0.2})
    with TestClient(create_app(Runtime.create(settings))) as api:
        response = api.post("/survey/clustering", json=_survey(6_000))
    assert response.status_code == 504, response.text
    assert response.json()["code"] == "training_timeout"


def test_a_reload_past_the_sync_timeout_is_a_504(
    demo_settings: Settings, demo_dataset_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    shutil.copytree(demo_dataset_dir, folder)
    key = secrets.token_urlsafe(16)
    settings = demo_settings.model_copy(
        update={
            "dataset_path": folder,
            "sync_timeout_seconds": 0.005,  # a real parse of the demo data takes far longer
            "admin_api_keys": [SecretStr(key)],
        }
    )
    with TestClient(create_app(Runtime.create(settings)), headers={"X-API-Key": key}) as api:
        meta = folder / "datasetMeta.csv"
        meta.write_text(meta.read_text().replace("(demo)", "(demo revised)"))
        response = api.post("/datasets/reload")
        assert response.status_code == 504 and response.json()["code"] == "training_timeout"
