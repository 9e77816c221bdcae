"""`POST /correlation/correlate` on the demo data: the answer's shape and every bad input."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from common.core.sids import SIDS
from common.data.demo_data import DEMO_YEARS
from tests.helpers import assert_invalid

REQUEST = {"dataset": "demo_wdi", "category": "Economy", "country": "FJI", "year": 2015}


def _correlate(client: TestClient, **change: Any):
    return client.post("/correlation/correlate", json={**REQUEST, **change})


@pytest.fixture(scope="module")
def answer(client: TestClient) -> dict[str, Any]:
    response = _correlate(client)
    assert response.status_code == 200, response.text
    return response.json()


def test_answer_has_the_documented_shape(client: TestClient, answer: dict[str, Any]) -> None:
    ranking = answer["country_corr"]
    assert list(ranking) == ["Country Code", "FJI"]
    assert len(ranking["Country Code"]) == len(ranking["FJI"]) > 10
    assert answer["dataset_version"] == client.get("/").json()["dataset_version"]


def test_ranking_is_sorted_bounded_and_excludes_the_country(answer: dict[str, Any]) -> None:
    codes, correlations = answer["country_corr"]["Country Code"], answer["country_corr"]["FJI"]
    assert "FJI" not in codes
    assert len(set(codes)) == len(codes) and set(codes) <= SIDS
    assert correlations == sorted(correlations, reverse=True)
    assert all(-1 <= value <= 1 for value in correlations)


def test_same_request_gives_the_same_ranking(client: TestClient, answer: dict[str, Any]) -> None:
    assert _correlate(client).json() == answer


def test_year_as_a_string_is_accepted(client: TestClient, answer: dict[str, Any]) -> None:
    assert _correlate(client, year="2015").json() == answer


def test_unknown_dataset_is_rejected(client: TestClient) -> None:
    body = assert_invalid(_correlate(client, dataset="nope"), "dataset")
    assert "demo_wdi" in body["allowed"]


def test_unknown_category_is_rejected(client: TestClient) -> None:
    body = assert_invalid(_correlate(client, category="Health"), "category")
    assert "Economy" in body["allowed"]


def test_year_outside_the_data_is_rejected(client: TestClient) -> None:
    body = assert_invalid(_correlate(client, year=1999), "year")
    assert body["allowed"] == list(DEMO_YEARS)


@pytest.mark.parametrize("country", ["XXX", "FRA"])  # unknown; in the data but not a SIDS
def test_unknown_or_non_sids_country_is_rejected(client: TestClient, country: str) -> None:
    body = assert_invalid(_correlate(client, country=country), "country")
    assert "FJI" in body["allowed"] and country not in body["allowed"]


def test_sids_without_data_is_rejected(client: TestClient) -> None:
    request: dict[str, str | int] = {"dataset": "demo_wdi", "category": "Education", "year": 2015}
    with_data = client.get("/correlation/countries", params=request).json()
    without = sorted(SIDS - set(with_data))
    assert without, "the demo Education indicators miss some SIDS"
    response = client.post("/correlation/correlate", json={**request, "country": without[0]})
    assert assert_invalid(response, "country")["allowed"] == with_data


def test_category_with_too_few_indicators_is_rejected(client: TestClient) -> None:
    response = _correlate(client, dataset="demo_fao", category="Economy")  # two indicators
    body = assert_invalid(response, "category")
    assert "fewer than 3 indicators" in body["detail"]
    assert "Environment" in body["allowed"] and "Economy" not in body["allowed"]


@pytest.mark.parametrize("missing", ["dataset", "category", "country", "year"])
def test_missing_field_is_named(client: TestClient, missing: str) -> None:
    request = {key: value for key, value in REQUEST.items() if key != missing}
    assert_invalid(client.post("/correlation/correlate", json=request), missing)
