"""The platform front end's side of the contract, as its published code has it.

SIDS-Dashboard/SIDSDataPlatform (every branch): `src/services/index.js` posts to
`/twolvlImp/estimate` and `/twolvlImp/predict` with the header `Access-Control-Allow-Origin: *`
(so browsers preflight every call); `IndicatorsML.vue` builds the body from its form and reads the
answer's top-level fields (bar and pie charts, heat map, the RMSE chip); `IndicatorsChoroChart.vue`
merges `prediction` into the year's map values and draws its intervals. The page's year comes from
its route, so `target_year` usually arrives as a string.
"""

import math
from typing import Any

# Where the front end is served from: production (built with publicPath /sids/ and uploaded to
# data.undp.org) and staging (GitHub Pages of the SIDS-Dashboard organisation).
PLATFORM_ORIGINS = ("https://data.undp.org", "https://sids-dashboard.github.io")
# What axios sends with each call, and so what a browser's preflight asks to send.
REQUEST_HEADERS = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}
PREFLIGHT_HEADERS = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "access-control-allow-origin,content-type",
}

# The form's option lists and its initial choices.
OPTIONS: dict[str, list[Any]] = {
    "interpolator": ["KNNImputer", "IterativeImputer", "SimpleImputer"],
    "scheme": ["AFS", "PCA", "MANUAL"],
    "number_predictor": [5, 10, 20],
    "estimators": [10, 100, 500, 1000],
    "model": ["rfr", "gbr", "etr", "all"],
    "interval": ["bootstrap", "quantile"],
}
DEFAULTS: dict[str, Any] = {
    "interpolator": "KNNImputer",
    "scheme": "AFS",
    "number_predictor": 10,
    "estimators": 100,
    "model": "rfr",
    "interval": "quantile",
}
PREDICTION_KEYS = {"Country Code", "prediction", "lower", "upper"}


def frontend_request(
    target: str, year: int | str, dataset: str, manual_predictors: list[str], **choices: Any
) -> dict[str, Any]:
    """The body `getMLData` posts: the form's choices, then the predictors by scheme."""
    form = {**DEFAULTS, **choices}
    body = {
        "target": target,
        "interval": form["interval"],
        "target_year": year,
        "interpolator": form["interpolator"],
        "scheme": form["scheme"],
        "estimators": form["estimators"],
        "model": form["model"],
        "dataset": dataset,
    }
    if form["scheme"] == "MANUAL":
        body["manual_predictors"] = manual_predictors
    else:
        body["number_predictor"] = form["number_predictor"]
    return body


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _numbers(values: Any) -> bool:
    return isinstance(values, list) and all(_is_number(value) for value in values)


def _strings(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(value, str) for value in values)


def assert_frontend_answer(answer: dict[str, Any], request: dict[str, Any], gaps: set[str]) -> None:
    """Every field the front end reads, its type and shape, and that it carries the same numbers
    as `indicatorJson` (the precomputed files' shape); `gaps`: the SIDS without a value."""
    year = str(request["target_year"])
    view = answer["indicatorJson"]
    assert isinstance(answer["dataset_version"], str) and answer["dataset_version"]

    # Bar chart: names and importances zipped into {name: importance}.
    names, importances = answer["model_feature_names"], answer["model_feature_importance"]
    assert _strings(names) and names and len(set(names)) == len(names)
    assert _numbers(importances) and len(importances) == len(names)
    assert all(value >= 0 for value in importances)
    assert dict(zip(names, importances)) == view["featureImportances"][year]
    assert names == list(view["featureImportances"][year])

    # Heat map: the chosen predictors' correlations, pandas split orient.
    correlation = answer["correlation"]
    assert set(correlation) == {"index", "columns", "data"}
    chosen = correlation["index"]
    assert _strings(chosen) and correlation["columns"] == chosen
    assert len(correlation["data"]) == len(chosen)
    for i, row in enumerate(correlation["data"]):
        assert len(row) == len(chosen)
        assert all(value is None or (_is_number(value) and -1 - 1e-9 <= value <= 1 + 1e-9)
                   for value in row)  # fmt: skip
        assert row[i] is None or math.isclose(row[i], 1.0)
    assert correlation == view["correlation"][year]
    if request["scheme"] == "MANUAL":
        assert set(chosen) == set(request["manual_predictors"])
    else:
        assert len(chosen) == request["number_predictor"]
    assert set(chosen) <= set(names)

    # Pie chart: importances summed by category.
    pie = answer["feature_importance_pie"]
    assert set(pie) == {"category", "value"}
    assert _strings(pie["category"]) and _numbers(pie["value"])
    assert len(pie["category"]) == len(pie["value"]) == len(set(pie["category"])) > 0
    assert dict(zip(pie["category"], pie["value"])) == view["categoryImportances"][year]
    assert math.isclose(sum(pie["value"]), sum(importances), rel_tol=1e-9, abs_tol=1e-12)

    # The RMSE chip: Math.ceil(rmse_deviation), coloured by its size.
    for key in ("rmse", "rmse_deviation"):
        assert _is_number(answer[key]) and answer[key] >= 0
        assert answer[key] == view[key][year]

    # The map: one entry per SIDS gap, merged into the year's values, with its interval.
    prediction = answer["prediction"]
    assert set(prediction) == PREDICTION_KEYS
    codes = prediction["Country Code"]
    assert _strings(codes) and set(codes) == gaps and len(codes) == len(gaps)
    values, lower, upper = prediction["prediction"], prediction["lower"], prediction["upper"]
    assert _numbers(values) and _numbers(lower) and _numbers(upper)
    assert len(values) == len(lower) == len(upper) == len(codes)
    for code, low, value, high in zip(codes, lower, values, upper):
        assert low <= value <= high, (code, low, value, high)
        assert view["data"][year][code] == value
        assert view["lowerIntervals"][year][code] == low
        assert view["upperIntervals"][year][code] == high
    assert set(view["lowerIntervals"][year]) == set(view["upperIntervals"][year]) == gaps
