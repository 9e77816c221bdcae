"""Correlation and clustering on the real Gapminder dataset (CC BY 4.0); skipped when absent."""

from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.core.sids import SIDS
from common.serving.runtime import Runtime

YEAR = 2015
DATASET = "wdi"
CATEGORY = "Economy"
COUNTRY = "FJI"


@pytest.fixture(scope="module")
def real_client(gapminder_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(Runtime.create(gapminder_settings))) as client:
        yield client


@pytest.fixture(scope="module")
def sids_profiles(gapminder_settings: Settings) -> pd.DataFrame:
    """The SIDS x wdi Economy indicators of YEAR, straight from the CSV files."""
    folder = gapminder_settings.dataset_path
    meta = pd.read_csv(folder / "indicatorMeta.csv")
    codes = meta.loc[(meta["Dataset"] == DATASET) & (meta["Category"] == CATEGORY)]
    data = pd.read_csv(folder / "indicatorData.csv")
    data = data[
        data["Country Code"].isin(SIDS) & data["Indicator Code"].isin(codes["Indicator Code"])
    ]
    frame = data.pivot(index="Country Code", columns="Indicator Code", values=str(YEAR))
    return frame.dropna(how="all").dropna(axis=1, how="all")


def test_options_offer_the_real_datasets(real_client: TestClient) -> None:
    assert DATASET in real_client.get("/correlation/datasets").json()
    years = real_client.get("/correlation/years", params={"dataset": DATASET}).json()
    assert YEAR in years and all(2000 <= year <= 2022 for year in years)
    params: dict[str, str | int] = {"dataset": DATASET, "year": YEAR}
    assert CATEGORY in real_client.get("/correlation/categories", params=params).json()


def test_correlations_match_pairwise_complete_z_scores(
    real_client: TestClient, sids_profiles: pd.DataFrame
) -> None:
    request = {"dataset": DATASET, "category": CATEGORY, "year": YEAR, "country": COUNTRY}
    response = real_client.post("/correlation/correlate", json=request)
    assert response.status_code == 200, response.text
    ranking = response.json()["country_corr"]
    got = pd.Series(ranking[COUNTRY], index=ranking["Country Code"])
    assert got.is_monotonic_decreasing and COUNTRY not in got.index
    informative = sids_profiles.loc[:, sids_profiles.nunique() > 1]
    z = (informative - informative.mean()) / informative.std(ddof=0)
    expected = z.T.corr(min_periods=3)[COUNTRY].drop(COUNTRY).dropna()
    assert set(got.index) == set(expected.index)
    assert got.to_numpy() == pytest.approx(expected[got.index].to_numpy(), abs=1e-9)


def test_clusters_are_deterministic_and_cover_k(real_client: TestClient) -> None:
    request: dict[str, str | int] = {"dataset": DATASET, "category": CATEGORY, "year": YEAR, "k": 4}
    first = real_client.post("/correlation/cluster", json=request).json()
    assert first == real_client.post("/correlation/cluster", json=request).json()
    assert set(first["label"]) == {0, 1, 2, 3}
    params = {key: request[key] for key in ("dataset", "category", "year")}
    assert first["country"] == real_client.get("/correlation/countries", params=params).json()


def test_every_category_of_a_year_answers_or_explains(real_client: TestClient) -> None:
    """Sparse real categories either give an answer or a 422 naming the field, never a 500."""
    for dataset in real_client.get("/correlation/datasets").json():
        params = {"dataset": dataset, "year": YEAR}
        response = real_client.get("/correlation/categories", params=params)
        if response.status_code == 422:
            assert response.json()["field"] == "year"
            continue
        for category in response.json():
            request = {**params, "category": category}
            countries = real_client.get("/correlation/countries", params=request).json()
            answers = [
                real_client.post("/correlation/cluster", json={**request, "k": 3}),
                real_client.post(
                    "/correlation/correlate", json={**request, "country": countries[0]}
                ),
            ]
            for answer in answers:
                assert answer.status_code in (200, 422), (dataset, category, answer.text)
                if answer.status_code == 422:
                    assert answer.json()["field"] in ("category", "country")
