"""Batch requests through `POST /jobs`: refused with a 422 naming the field, or run and shown
with their progress on the memory backend."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.helpers import assert_invalid, wait_for_job

GOOD: dict[str, Any] = {"dataset": "demo_fao", "first_year": 2010, "last_year": 2010,
                        "targets": ["demo_fao-cereal_yield_kg_per_hectare"], "estimators": 5,
                        "model_number": 1}  # fmt: skip


def _submit(client: TestClient, **change: Any) -> Any:
    body = {"model": "twolvlImp", "endpoint": "batch", "request": GOOD | change}
    return client.post("/jobs", json=body)


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        ({"first_year": 1900}, "first_year", 2005),
        ({"last_year": 2100}, "last_year", 2022),
        ({"dataset": "nope"}, "datasets", "demo_fao"),
        ({"targets": ["demo_wdi-access_to_electricity_percent_of_population"]}, "targets",
         "demo_fao-cereal_yield_kg_per_hectare"),
        ({"estimators": 5000}, "estimators", 1000),
    ],
)  # fmt: skip
def test_requests_the_data_cannot_serve_get_422_with_the_allowed_values(
    client: TestClient, change: dict[str, Any], field: str, allowed: Any
) -> None:
    body = assert_invalid(_submit(client, **change), field)
    assert allowed in body["allowed"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scheme": "MANUAL"}, "request.scheme"),
        ({"model": "svm"}, "request.model"),
        ({"first_year": 2012, "last_year": 2010}, "request"),
        ({"model_number": 0}, "request.model_number"),
        ({"output_prefix": "../etc/"}, "request.output_prefix"),
        ({"surprise": 1}, "request.surprise"),
    ],
)
def test_malformed_batch_requests_get_422_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    response = _submit(client, **change)
    assert response.status_code == 422, response.text
    fields = [problem["field"] for problem in response.json()["errors"]]
    assert field in fields, fields


def test_an_unknown_endpoint_lists_the_batch_among_the_allowed(client: TestClient) -> None:
    body = {"model": "twolvlImp", "endpoint": "batches", "request": GOOD}
    answer = assert_invalid(client.post("/jobs", json=body), "endpoint")
    assert answer["allowed"] == ["batch", "predict", "warm"]


def test_a_batch_job_reports_progress_and_where_its_files_are(
    demo_settings: Settings, tmp_path: Path
) -> None:
    settings = demo_settings.model_copy(update={"batch_output_dir": tmp_path})
    with TestClient(create_app(Runtime.create(settings))) as client:
        submitted = _submit(client)
        assert submitted.status_code == 202, submitted.text
        assert submitted.headers["Location"] == f"/jobs/{submitted.json()['id']}"
        assert submitted.json()["progress"]["total"] == 1
        job = wait_for_job(client, submitted.json()["id"], {"completed", "failed"})
    assert job["status"] == "completed" and job["progress"]["done"] == 1, job
    assert job["progress"]["seconds_left"] == 0
    assert job["result"]["files"] == ["model1/demo_fao/demo_fao-cereal_yield_kg_per_hectare.json"]
    assert (tmp_path / job["result"]["files"][0]).is_file()
    assert (tmp_path / "ML Model Metadata.json").is_file()
