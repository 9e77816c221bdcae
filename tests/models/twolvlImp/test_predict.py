"""/twolvlImp/predict and /estimate on the demo dataset: every option, bad input, invariants."""

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from common.sids import SIDS


def _predict(client: TestClient, request: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/twolvlImp/predict", json=request)
    assert response.status_code == 200, response.text
    return response.json()


def _observed(demo_dataset_dir, year: int, target: str) -> pd.Series:
    data = pd.read_csv(demo_dataset_dir / "indicatorData.csv")
    rows = data[data["Indicator Code"] == target].set_index("Country Code")[str(year)]
    return rows.dropna()


def _check_invariants(body: dict[str, Any], observed: pd.Series, year: int) -> None:
    key = str(year)
    data = body["indicatorJson"]["data"][key]
    lower = body["indicatorJson"]["lowerIntervals"][key]
    upper = body["indicatorJson"]["upperIntervals"][key]
    observed_sids = {code: value for code, value in observed.items() if code in SIDS}
    imputed = set(data) - set(observed_sids)
    assert imputed, "the demo target has SIDS gaps to fill"
    assert set(data) <= SIDS
    assert set(lower) == set(upper) == imputed
    for code, value in observed_sids.items():
        assert data[code] == pytest.approx(value)
    for code in imputed:
        assert lower[code] <= data[code] <= upper[code]
    assert body["rmse"] >= 0 and np.isfinite(body["rmse_deviation"])


def test_manual_prediction_fills_only_sids_gaps(
    client: TestClient, manual_request: dict[str, Any], demo_dataset_dir
) -> None:
    body = _predict(client, manual_request)
    observed = _observed(demo_dataset_dir, manual_request["target_year"], manual_request["target"])
    _check_invariants(body, observed, manual_request["target_year"])
    importances = body["indicatorJson"]["featureImportances"]["2015"]
    assert set(importances) == set(manual_request["manual_predictors"])
    assert sum(importances.values()) == pytest.approx(1.0)
    assert sum(body["indicatorJson"]["categoryImportances"]["2015"].values()) == pytest.approx(1.0)
    correlation = body["indicatorJson"]["correlation"]["2015"]
    assert correlation["index"] == correlation["columns"] == manual_request["manual_predictors"]
    assert body["dataset_version"] == client.get("/").json()["dataset_version"]


@pytest.mark.parametrize(
    "change",
    [
        {"scheme": "AFS", "number_predictor": 5, "manual_predictors": None},
        {"scheme": "PCA", "number_predictor": 4, "manual_predictors": None},
        {"interpolator": "SimpleImputer"},
        {"interpolator": "IterativeImputer"},
        *[
            {"model": model, "interval": interval}
            for model in ("rfr", "gbr", "etr", "all")
            for interval in ("quantile", "bootstrap")
        ],
    ],
    ids=lambda change: "-".join(str(v) for v in change.values() if v and not isinstance(v, int)),
)
def test_every_option_predicts(
    client: TestClient, manual_request: dict[str, Any], demo_dataset_dir, change: dict[str, Any]
) -> None:
    request = {**manual_request, **change}
    body = _predict(client, request)
    observed = _observed(demo_dataset_dir, request["target_year"], request["target"])
    _check_invariants(body, observed, request["target_year"])
    importances = body["indicatorJson"]["featureImportances"]["2015"]
    if request["scheme"] != "MANUAL":
        assert len(importances) == request["number_predictor"]


def test_bootstrap_and_quantile_intervals_differ(
    client: TestClient, manual_request: dict[str, Any]
) -> None:
    quantile = _predict(client, manual_request)["indicatorJson"]["upperIntervals"]
    bootstrap = _predict(client, {**manual_request, "interval": "bootstrap"})
    assert bootstrap["indicatorJson"]["upperIntervals"] != quantile


def test_same_request_gives_the_same_answer(
    client: TestClient, manual_request: dict[str, Any]
) -> None:
    request = {**manual_request, "scheme": "AFS", "number_predictor": 4, "manual_predictors": None}
    assert _predict(client, request) == _predict(client, request)


def test_estimate_answers_seconds(client: TestClient, manual_request: dict[str, Any]) -> None:
    manual = client.post("/twolvlImp/estimate", json=manual_request).json()
    automatic = client.post(
        "/twolvlImp/estimate",
        json={**manual_request, "scheme": "AFS", "number_predictor": 10, "estimators": 100},
    ).json()
    assert 0 < manual < automatic


BAD_REQUESTS = [
    ({"scheme": "XYZ"}, "scheme", ["AFS", "PCA", "MANUAL"]),
    ({"interpolator": "mean"}, "interpolator", ["KNNImputer", "IterativeImputer", "SimpleImputer"]),
    ({"model": "svm"}, "model", ["rfr", "gbr", "etr", "all"]),
    ({"interval": "conformal"}, "interval", ["bootstrap", "quantile"]),
    ({"estimators": 0}, "estimators", None),
    ({"estimators": 501}, "estimators", None),
    ({"target_year": 1850}, "target_year", "years"),
    ({"dataset": "nope"}, "dataset", "datasets"),
    ({"target": "nope"}, "target", "targets"),
    ({"manual_predictors": None}, "manual_predictors", "predictors"),
    ({"manual_predictors": ["nope"]}, "manual_predictors", "predictors"),
    ({"manual_predictors": []}, "manual_predictors", None),
    ({"scheme": "AFS", "number_predictor": None}, "number_predictor", "range"),
    ({"scheme": "PCA", "number_predictor": 0}, "number_predictor", "range"),
    ({"scheme": "AFS", "number_predictor": 100000}, "number_predictor", "range"),
]


@pytest.mark.parametrize(("change", "field", "allowed"), BAD_REQUESTS)
def test_bad_input_names_field_and_allowed_values(
    client: TestClient,
    manual_request: dict[str, Any],
    case: dict[str, Any],
    change: dict[str, Any],
    field: str,
    allowed: Any,
) -> None:
    for route in ("/twolvlImp/predict", "/twolvlImp/estimate"):
        response = client.post(route, json={**manual_request, **change})
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "invalid_parameter"
        assert body["field"] == field
        assert field in body["detail"]
        if isinstance(allowed, list):
            assert body["allowed"] == allowed
        elif allowed == "predictors":
            assert set(body["allowed"]) == set(case["predictors"])
        elif allowed == "range":
            assert body["allowed"] == [1, len(case["predictors"])]
        elif allowed is not None:
            assert body["allowed"], f"allowed {allowed} listed"


def test_target_as_manual_predictor_is_rejected(
    client: TestClient, manual_request: dict[str, Any]
) -> None:
    request = {**manual_request, "manual_predictors": [manual_request["target"]]}
    body = client.post("/twolvlImp/predict", json=request).json()
    assert body["field"] == "manual_predictors"
    assert "target" in body["detail"]


def test_missing_field_and_malformed_json_are_422(
    client: TestClient, manual_request: dict[str, Any]
) -> None:
    missing = {key: value for key, value in manual_request.items() if key != "target"}
    response = client.post("/twolvlImp/predict", json=missing)
    assert response.status_code == 422
    assert response.json()["field"] == "target"
    malformed = client.post(
        "/twolvlImp/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["code"] == "invalid_parameter"
