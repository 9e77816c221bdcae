"""/params: form descriptions generated from the OpenAPI schema of each model's main endpoint."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.twolvlImp.schemas import Interpolator, Interval, Method, Model, Scheme


@pytest.fixture(scope="module")
def twolvl_form(client: TestClient) -> dict[str, Any]:
    forms = client.get("/params").json()
    return next(form for form in forms if form["model"] == "twolvlImp")


def _input(form: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in form["inputs"] if item["parameter"] == name)


def test_every_model_has_a_labelled_form(client: TestClient) -> None:
    forms = client.get("/params").json()
    assert [form["model"] for form in forms] == client.get("/").json()["models"]
    twolvl = next(form for form in forms if form["model"] == "twolvlImp")
    assert twolvl["label"] == "Two Level Imputation"


def test_inputs_cover_every_request_field(twolvl_form: dict[str, Any]) -> None:
    names = {item["parameter"] for item in twolvl_form["inputs"]}
    assert names == {
        "manual_predictors",
        "number_predictor",
        "target_year",
        "target",
        "interpolator",
        "scheme",
        "estimators",
        "model",
        "interval",
        "dataset",
        "method",
    }
    assert all(item["label"] for item in twolvl_form["inputs"])


@pytest.mark.parametrize(
    ("parameter", "enum"),
    [
        ("scheme", Scheme),
        ("interpolator", Interpolator),
        ("interval", Interval),
        ("model", Model),
        ("method", Method),
    ],
)
def test_enums_list_names_and_labels(twolvl_form: dict[str, Any], parameter: str, enum) -> None:
    item = _input(twolvl_form, parameter)
    assert item["type"] == "enum"
    assert item["values"] == enum.choices()
    if parameter == "method":  # optional, with a default
        assert "conditions" not in item
    else:
        assert item["conditions"] == [{"required": True}]


def test_scheme_labels_are_the_front_ends(twolvl_form: dict[str, Any]) -> None:
    assert _input(twolvl_form, "scheme")["values"] == [
        ["AFS", "Automatic via feature selection"],
        ["PCA", "Automatic via PCA"],
        ["MANUAL", "Manual"],
    ]


def test_required_if_conditions(twolvl_form: dict[str, Any]) -> None:
    assert _input(twolvl_form, "manual_predictors")["conditions"] == [
        {"required": [{"scheme": "MANUAL"}]}
    ]
    assert _input(twolvl_form, "number_predictor")["conditions"] == [
        {"required": [{"scheme": "AFS"}, {"scheme": "PCA"}]}
    ]


def test_types_of_plain_fields(twolvl_form: dict[str, Any]) -> None:
    assert _input(twolvl_form, "manual_predictors")["type"] == "array"
    assert _input(twolvl_form, "number_predictor")["type"] == "integer"
    assert _input(twolvl_form, "estimators")["type"] == "integer"
    assert _input(twolvl_form, "target")["type"] == "string"
    assert "values" not in _input(twolvl_form, "target")


def test_option_endpoints_name_path_method_and_inputs(
    client: TestClient, twolvl_form: dict[str, Any]
) -> None:
    assert _input(twolvl_form, "target")["req_endpoint"] == {
        "endpoint": "/targets",
        "method": "GET",
        "inputs": ["target_year", "dataset"],
    }
    assert _input(twolvl_form, "manual_predictors")["req_endpoint"]["method"] == "POST"
    paths = client.get("/openapi.json").json()["paths"]
    for item in twolvl_form["inputs"]:
        if "req_endpoint" in item:
            endpoint = item["req_endpoint"]
            assert endpoint["method"].lower() in paths["/twolvlImp" + endpoint["endpoint"]]
