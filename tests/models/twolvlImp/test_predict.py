"""/twolvlImp/predict and /estimate on the demo dataset: every option, bad input, invariants."""

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from common.core.sids import SIDS
from models.twolvlImp.imputation import impute
from models.twolvlImp.schemas import Method, PredictRequest
from tests.helpers import runtime_of


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


@pytest.fixture(scope="module")
def history_request(
    client: TestClient, demo_dataset_dir, manual_request: dict[str, Any]
) -> dict[str, Any]:
    """An AFS request for the first demo target of the year (sorted codes) with SIDS gaps both
    inside a series (values in other years) and without any value: both stages answer."""
    data = pd.read_csv(demo_dataset_dir / "indicatorData.csv")
    year = str(manual_request["target_year"])
    datasets = client.get("/twolvlImp/datasets", params={"target_year": year}).json()
    for dataset in sorted(datasets):
        query = {"target_year": year, "dataset": dataset}
        for target in sorted(client.get("/twolvlImp/targets", params=query).json()):
            rows = data[(data["Indicator Code"] == target) & data["Country Code"].isin(SIDS)]
            values = rows.drop(columns=["Country Code", "Indicator Code"])
            inside = (values[year].isna() & values.notna().any(axis=1)).sum()
            never = len(SIDS) - values.notna().any(axis=1).sum()  # the demo has every SIDS
            if inside >= 2 and never >= 1:
                return {
                    **manual_request, "dataset": dataset, "target": target, "scheme": "AFS",
                    "number_predictor": 5, "manual_predictors": None,
                }  # fmt: skip
    raise AssertionError("the demo data has no target with both kinds of SIDS gap")


@pytest.mark.parametrize("method", list(Method))
@pytest.mark.parametrize(
    "change",
    [
        {},
        {"scheme": "MANUAL", "number_predictor": None},
        {"scheme": "PCA", "number_predictor": 3},
        {"model": "gbr", "interval": "bootstrap"},
        {"model": "all", "interpolator": "SimpleImputer"},
    ],
    ids=["AFS", "MANUAL", "PCA", "gbr-bootstrap", "all-SimpleImputer"],
)
def test_every_method_predicts(
    client: TestClient,
    history_request: dict[str, Any],
    demo_dataset_dir,
    method: Method,
    change: dict[str, Any],
) -> None:
    request = {**history_request, "method": method.value, **change}
    if request["scheme"] == "MANUAL":
        predictors = client.post(
            "/twolvlImp/predictors",
            json={
                **{k: request[k] for k in ("target_year", "dataset", "target")},
                "scheme": "MANUAL",
            },
        ).json()
        request["manual_predictors"] = sorted(predictors)[:3]
    body = _predict(client, request)
    observed = _observed(demo_dataset_dir, request["target_year"], request["target"])
    _check_invariants(body, observed, request["target_year"])
    importances = body["indicatorJson"]["featureImportances"]["2015"]
    assert sum(importances.values()) == pytest.approx(1.0)
    predictors = set(importances) - {request["target"]}
    if request["scheme"] != "MANUAL":
        assert len(predictors) <= request["number_predictor"] + 3  # plus up to 3 companions
    else:
        assert set(request["manual_predictors"]) <= set(importances)


def test_history_method_is_the_default(client: TestClient, history_request: dict[str, Any]) -> None:
    explicit = _predict(client, {**history_request, "method": "history"})
    assert _predict(client, history_request) == explicit
    reference = _predict(client, {**history_request, "method": "cross_section"})
    assert reference["indicatorJson"]["data"] != explicit["indicatorJson"]["data"]


def test_history_method_credits_the_target_own_history(
    client: TestClient, history_request: dict[str, Any]
) -> None:
    history = _predict(client, history_request)["indicatorJson"]
    assert history["featureImportances"]["2015"].get(history_request["target"], 0) > 0
    reference = _predict(client, {**history_request, "method": "cross_section"})["indicatorJson"]
    assert history_request["target"] not in reference["featureImportances"]["2015"]
    # The response keeps its shape: the same keys, the same SIDS estimated.
    assert set(history) == set(reference)
    assert set(history["lowerIntervals"]["2015"]) == set(reference["lowerIntervals"]["2015"])


@pytest.mark.parametrize("method", list(Method))
def test_each_method_is_deterministic(
    client: TestClient, history_request: dict[str, Any], method: Method
) -> None:
    """Trained twice outside the result cache, the same request gives the same answer."""
    store = runtime_of(client).datasets.require_store()
    request = PredictRequest(**{**history_request, "method": method.value})
    first, second = impute(store, request), impute(store, request)
    assert first.model_dump() == second.model_dump()


def test_method_option_is_in_params_with_labels(client: TestClient) -> None:
    form = next(f for f in client.get("/params").json() if f["model"] == "twolvlImp")
    item = next(i for i in form["inputs"] if i["parameter"] == "method")
    assert item["type"] == "enum"
    assert item["values"] == Method.choices()
    assert [value for value, _ in item["values"]] == ["history", "cross_section"]
    assert all(label for _, label in item["values"])
    assert item["label"] == "Method"
    assert "default" in item["description"]
    assert item.get("conditions") is None  # optional: the default applies


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
    automatic_request = {
        **manual_request, "scheme": "AFS", "number_predictor": 10, "estimators": 100,
    }  # fmt: skip
    automatic = client.post("/twolvlImp/estimate", json=automatic_request).json()
    reference = client.post(
        "/twolvlImp/estimate", json={**automatic_request, "method": "cross_section"}
    ).json()
    assert 0 < manual < automatic < reference


BAD_REQUESTS = [
    ({"scheme": "XYZ"}, "scheme", ["AFS", "PCA", "MANUAL"]),
    ({"interpolator": "mean"}, "interpolator", ["KNNImputer", "IterativeImputer", "SimpleImputer"]),
    ({"model": "svm"}, "model", ["rfr", "gbr", "etr", "all"]),
    ({"interval": "conformal"}, "interval", ["bootstrap", "quantile"]),
    ({"method": "yearly"}, "method", ["history", "cross_section"]),
    ({"estimators": 0}, "estimators", None),
    ({"estimators": 1001}, "estimators", [1, 1000]),
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
