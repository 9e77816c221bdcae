"""The `estimators` cap is the MAX_ESTIMATORS setting: enforced on every route that takes a
predict body (sync, estimate, jobs) and shown by the OpenAPI schema and `/params`."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.helpers import assert_invalid

CAP = 50


def _estimators_input(client: TestClient) -> dict[str, Any]:
    form = next(form for form in client.get("/params").json() if form["model"] == "twolvlImp")
    return next(item for item in form["inputs"] if item["parameter"] == "estimators")


@pytest.fixture(scope="module")
def capped(demo_dataset_dir: Path) -> Iterator[TestClient]:
    settings = Settings(dataset_path=demo_dataset_dir, demo_data_fallback=False, max_estimators=CAP)
    with TestClient(create_app(Runtime.create(settings))) as client:
        yield client


def test_the_default_cap_is_the_front_ends_largest_choice(client: TestClient) -> None:
    assert Settings().max_estimators == 1000
    item = _estimators_input(client)
    assert (item["minimum"], item["maximum"]) == (1, 1000)
    schema = client.get("/openapi.json").json()["components"]["schemas"]["PredictRequest"]
    assert schema["properties"]["estimators"]["maximum"] == 1000


def test_params_and_schema_show_the_configured_cap(capped: TestClient) -> None:
    item = _estimators_input(capped)
    assert item["maximum"] == CAP
    schema = capped.get("/openapi.json").json()["components"]["schemas"]["PredictRequest"]
    assert schema["properties"]["estimators"]["maximum"] == CAP


@pytest.mark.parametrize("route", ["/twolvlImp/predict", "/twolvlImp/estimate"])
def test_more_trees_than_the_setting_is_a_422_naming_it(
    capped: TestClient, manual_request: dict[str, Any], route: str
) -> None:
    body = assert_invalid(
        capped.post(route, json={**manual_request, "estimators": CAP + 1}), "estimators"
    )
    assert body["allowed"] == [1, CAP]
    assert "MAX_ESTIMATORS" in body["detail"]
    assert capped.post(route, json={**manual_request, "estimators": CAP}).status_code == 200


def test_a_job_over_the_cap_is_refused_at_submission(
    capped: TestClient, manual_request: dict[str, Any]
) -> None:
    submission = {"model": "twolvlImp", "endpoint": "predict"}
    response = capped.post(
        "/jobs", json={**submission, "request": {**manual_request, "estimators": CAP + 1}}
    )
    body = assert_invalid(response, "estimators")
    assert "MAX_ESTIMATORS" in body["detail"]


def test_the_api_docs_say_which_requests_to_send_as_jobs(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    predict = openapi["paths"]["/twolvlImp/predict"]["post"]["description"]
    estimate = openapi["paths"]["/twolvlImp/estimate"]["post"]["description"]
    field = openapi["components"]["schemas"]["PredictRequest"]["properties"]["estimators"]
    for text in (predict, estimate, field["description"]):
        assert "POST /jobs" in text and "SYNC_TIMEOUT_SECONDS" in text
