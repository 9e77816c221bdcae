"""`POST /correlation/cluster` on the demo data, its bad inputs, and the model's `/params` form."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.data.demo_data import DEMO_YEARS
from tests.helpers import assert_invalid

REQUEST: dict[str, str | int] = {"dataset": "demo_wdi", "category": "Economy", "year": 2015, "k": 3}


def _cluster(client: TestClient, **change: Any):
    return client.post("/correlation/cluster", json={**REQUEST, **change})


@pytest.fixture(scope="module")
def answer(client: TestClient) -> dict[str, Any]:
    response = _cluster(client)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_sids_with_data_gets_a_label(client: TestClient, answer: dict[str, Any]) -> None:
    params = {key: REQUEST[key] for key in ("dataset", "category", "year")}
    assert answer["country"] == client.get("/correlation/countries", params=params).json()
    assert len(answer["label"]) == len(answer["country"])
    assert answer["dataset_version"] == client.get("/").json()["dataset_version"]


def test_labels_cover_k_values_in_order_of_first_appearance(answer: dict[str, Any]) -> None:
    labels = answer["label"]
    assert set(labels) == {0, 1, 2}
    firsts = list(dict.fromkeys(labels))
    assert firsts == sorted(firsts)


def test_same_request_gives_the_same_labels(client: TestClient, answer: dict[str, Any]) -> None:
    assert _cluster(client).json() == answer


def test_more_clusters_than_countries_is_capped(client: TestClient) -> None:
    response = _cluster(client, k=1000)
    assert response.status_code == 200, response.text
    body = response.json()
    assert max(body["label"]) < len(body["country"])


def test_one_cluster_puts_everyone_together(client: TestClient) -> None:
    assert set(_cluster(client, k=1).json()["label"]) == {0}


@pytest.mark.parametrize("k", [0, -2])
def test_k_below_one_is_rejected(client: TestClient, k: int) -> None:
    assert_invalid(_cluster(client, k=k), "k")


def test_unknown_dataset_is_rejected(client: TestClient) -> None:
    assert "demo_gho" in assert_invalid(_cluster(client, dataset="x"), "dataset")["allowed"]


def test_unknown_category_is_rejected(client: TestClient) -> None:
    body = assert_invalid(_cluster(client, dataset="demo_gho", category="Economy"), "category")
    assert body["allowed"] == ["Health"]


def test_year_outside_the_data_is_rejected(client: TestClient) -> None:
    assert assert_invalid(_cluster(client, year=2030), "year")["allowed"] == list(DEMO_YEARS)


def test_params_describes_the_cluster_form(client: TestClient) -> None:
    form = next(form for form in client.get("/params").json() if form["model"] == "correlation")
    assert form["label"] == "Country Correlation and Clustering"
    assert form["endpoint"] == "/correlation/cluster" and form["method"] == "POST"
    inputs = {item["parameter"]: item for item in form["inputs"]}
    assert set(inputs) == {"dataset", "year", "category", "k"}
    assert inputs["k"]["type"] == "integer"
    assert inputs["category"]["req_endpoint"] == {
        "endpoint": "/categories",
        "method": "GET",
        "inputs": ["dataset", "year"],
    }
    paths = client.get("/openapi.json").json()["paths"]
    for item in inputs.values():
        if item.get("req_endpoint"):
            assert "get" in paths["/correlation" + item["req_endpoint"]["endpoint"]]
    assert "post" in paths["/correlation/correlate"]
