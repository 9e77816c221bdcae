"""Option endpoints of the two-level imputation model and their bad-input answers."""

import math
from typing import Any

from fastapi.testclient import TestClient

from common.data.demo_data import DEMO_YEARS


def test_sample_sizes_follow_the_thresholds(client: TestClient) -> None:
    countries = client.get("/datasets").json()["countries"]
    assert client.get("/twolvlImp/target_sample_size").json() == math.ceil(countries * 0.2)
    assert client.get("/twolvlImp/predictor_sample_size").json() == math.ceil(countries * 0.7)


def test_target_years_are_the_years_of_the_data(client: TestClient) -> None:
    assert client.get("/twolvlImp/target_years").json() == list(DEMO_YEARS)


def test_datasets_of_a_year_have_names(client: TestClient) -> None:
    datasets = client.get("/twolvlImp/datasets", params={"target_year": 2010}).json()
    assert datasets and all(name for name in datasets.values())


def test_targets_are_indicators_with_sids_gaps(client: TestClient, case: dict[str, Any]) -> None:
    targets = client.get(
        "/twolvlImp/targets",
        params={"target_year": case["target_year"], "dataset": case["dataset"]},
    ).json()
    assert case["target"] in targets
    assert all(code.startswith(case["dataset"] + "-") for code in targets)


def test_manual_predictors_exclude_the_target(client: TestClient, case: dict[str, Any]) -> None:
    assert case["target"] not in case["predictors"]
    assert len(case["predictors"]) >= 10
    assert all(" - " in label for label in case["predictors"].values())


def test_automatic_schemes_get_the_allowed_counts(client: TestClient, case: dict[str, Any]) -> None:
    body = {key: case[key] for key in ("target_year", "dataset", "target")}
    counts = client.post("/twolvlImp/predictors", json={**body, "scheme": "AFS"}).json()
    assert list(counts) == [str(n) for n in range(1, len(case["predictors"]) + 1)]


def test_dimensions_of_a_target(client: TestClient, case: dict[str, Any]) -> None:
    params = {key: case[key] for key in ("target_year", "dataset", "target")}
    dimensions = client.get("/twolvlImp/dimensions", params=params).json()
    assert {"label", "value"} <= set(dimensions[0])
    assert case["target"] in [option["value"] for option in dimensions]


def test_unknown_year_names_field_and_allowed_years(client: TestClient) -> None:
    response = client.get("/twolvlImp/datasets", params={"target_year": 1900})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "target_year"
    assert body["allowed"] == list(DEMO_YEARS)


def test_non_numeric_year_is_a_422(client: TestClient) -> None:
    response = client.get("/twolvlImp/datasets", params={"target_year": "soon"})
    assert response.status_code == 422
    assert response.json()["field"] == "target_year"


def test_unknown_dataset_lists_the_datasets(client: TestClient) -> None:
    response = client.get("/twolvlImp/targets", params={"target_year": 2010, "dataset": "nope"})
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "dataset"
    assert "demo_wdi" in body["allowed"]


def test_unknown_target_lists_the_targets(client: TestClient, case: dict[str, Any]) -> None:
    body = {"target_year": case["target_year"], "dataset": case["dataset"], "scheme": "AFS"}
    response = client.post("/twolvlImp/predictors", json={**body, "target": "nope"})
    assert response.status_code == 422
    assert response.json()["field"] == "target"
    assert case["target"] in response.json()["allowed"]


def test_missing_query_parameter_is_named(client: TestClient) -> None:
    response = client.get("/twolvlImp/targets", params={"target_year": 2010})
    assert response.status_code == 422
    assert response.json()["field"] == "dataset"
