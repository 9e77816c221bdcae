"""/params describes the time-series imputation form: enums with labels, conditions, options."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.statimpute.schemas import Direction, Method


@pytest.fixture(scope="module")
def form(client: TestClient) -> dict[str, Any]:
    return next(item for item in client.get("/params").json() if item["model"] == "statimpute")


def _input(form: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in form["inputs"] if item["parameter"] == name)


def test_model_is_listed_with_its_main_endpoint(form: dict[str, Any]) -> None:
    assert form["label"] == "Time Series Imputation"
    assert form["endpoint"] == "/statimpute/impute"
    assert form["method"] == "POST"
    assert [item["parameter"] for item in form["inputs"]] == [
        "target",
        "country",
        "method",
        "direction",
        "d",
    ]


def test_enums_carry_their_labels(form: dict[str, Any]) -> None:
    method = _input(form, "method")
    assert method["type"] == "enum"
    assert method["values"] == Method.choices()
    assert ["slinear", "Spline of order 1 (slinear)"] in method["values"]
    assert ["pchip", "PCHIP"] in method["values"]
    assert method["conditions"] == [{"required": True}]
    direction = _input(form, "direction")
    assert direction["values"] == Direction.choices()
    assert "conditions" not in direction, "direction has a default"


def test_order_is_required_for_spline_and_polynomial(form: dict[str, Any]) -> None:
    order = _input(form, "d")
    assert order["type"] == "integer"
    assert order["conditions"] == [{"required": [{"method": "spline"}, {"method": "polynomial"}]}]


def test_options_come_from_the_model_endpoints(client: TestClient, form: dict[str, Any]) -> None:
    assert _input(form, "target")["req_endpoint"] == {
        "endpoint": "/targets",
        "method": "GET",
        "inputs": [],
    }
    assert _input(form, "country")["req_endpoint"] == {
        "endpoint": "/countries",
        "method": "GET",
        "inputs": ["target"],
    }
    paths = client.get("/openapi.json").json()["paths"]
    for name in ("target", "country"):
        endpoint = _input(form, name)["req_endpoint"]
        assert endpoint["method"].lower() in paths["/statimpute" + endpoint["endpoint"]]
