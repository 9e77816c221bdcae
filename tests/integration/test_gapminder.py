"""Integration on the real Gapminder dataset (CC BY 4.0); skipped when it is absent."""

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from benchmarks import twolvlimp_accuracy as accuracy
from common.core.settings import Settings
from common.core.sids import SIDS
from common.data.datasets import parse_dataset, read_folder
from common.serving.runtime import Runtime
from models.twolvlImp.options import target_options

YEAR = 2015
DATASET = "wdi"


@pytest.fixture(scope="module")
def real_client(gapminder_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(Runtime.create(gapminder_settings))) as client:
        yield client


@pytest.fixture(scope="module")
def observed(gapminder_settings: Settings) -> pd.Series:
    data = pd.read_csv(gapminder_settings.dataset_path / "indicatorData.csv")
    return data.set_index(["Indicator Code", "Country Code"])[str(YEAR)]


def _request(client: TestClient, target: str, **change: Any) -> dict[str, Any]:
    predictors = client.post(
        "/twolvlImp/predictors",
        json={"target_year": YEAR, "dataset": DATASET, "target": target, "scheme": "MANUAL"},
    ).json()
    return {
        "target_year": YEAR, "dataset": DATASET, "target": target, "scheme": "MANUAL",
        "manual_predictors": sorted(predictors)[:3], "interpolator": "KNNImputer",
        "model": "rfr", "estimators": 10, "interval": "quantile", **change,
    }  # fmt: skip


@pytest.mark.parametrize(
    "change", [{}, {"scheme": "AFS", "number_predictor": 10, "manual_predictors": None}]
)
def test_real_data_predictions_fill_only_sids_gaps(
    real_client: TestClient, observed: pd.Series, change: dict[str, Any]
) -> None:
    targets = real_client.get(
        "/twolvlImp/targets", params={"target_year": YEAR, "dataset": DATASET}
    ).json()
    target = sorted(targets)[0]
    response = real_client.post("/twolvlImp/predict", json=_request(real_client, target, **change))
    assert response.status_code == 200, response.text
    result = response.json()["indicatorJson"]
    data, lower, upper = (
        result[key][str(YEAR)] for key in ("data", "lowerIntervals", "upperIntervals")
    )
    truth = observed.loc[target].dropna()
    observed_sids = {code: value for code, value in truth.items() if code in SIDS}
    assert set(data) <= SIDS
    assert set(lower) == set(data) - set(observed_sids)
    assert lower, "SIDS gaps were filled"
    for code, value in observed_sids.items():
        assert data[code] == pytest.approx(value)
    for code in lower:
        assert lower[code] <= data[code] <= upper[code]


def test_real_data_years_and_datasets(real_client: TestClient) -> None:
    assert real_client.get("/twolvlImp/target_years").json() == list(range(2000, 2023))
    info = real_client.get("/datasets").json()
    assert info["countries"] == 241
    assert sum(dataset["indicators"] for dataset in info["datasets"]) == 477


def test_holdout_history_beats_the_year_by_year_method(
    gapminder_settings: Settings, tmp_path
) -> None:
    """Known SIDS values blanked in a copy of the real data: inside a series the history method
    is far closer to the truth than the year-by-year method, and its intervals hold the truth."""
    store = parse_dataset(read_folder(gapminder_settings.dataset_path))
    offered = [(YEAR, DATASET, target) for target in sorted(target_options(store, YEAR, DATASET))]
    cases = accuracy.pick_cases(store, offered, seed=1, case_count=1, cells=10, number_predictor=3)
    accuracy.write_blanked(gapminder_settings.dataset_path, tmp_path, cases)
    case = cases[0]
    blanked = Settings(dataset_path=tmp_path, demo_data_fallback=False)
    with TestClient(create_app(Runtime.create(blanked))) as client:
        predictors = client.post(
            "/twolvlImp/predictors",
            json={
                "target_year": YEAR,
                "dataset": DATASET,
                "target": case.target,
                "scheme": "MANUAL",
            },
        ).json()
        manual = {"scheme": "MANUAL", "manual_predictors": sorted(predictors)[:3]}
        answers = {
            method: accuracy.ask_service(client, case, {**manual, "method": method})[0]
            for method in ("history", "cross_section")
        }
    inner = [cell for cell in case.cells if cell.kind == "inner"]
    scores = {
        method: accuracy.score(inner, [by_country[c.country] for c in inner])
        for method, by_country in answers.items()
    }
    assert scores["history"]["median_error"] < 0.5 * scores["cross_section"]["median_error"]
    assert scores["history"]["coverage"] >= 0.6
