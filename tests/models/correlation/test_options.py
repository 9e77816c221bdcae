"""Option endpoints of the correlation model and their bad-input answers (demo data)."""

from fastapi.testclient import TestClient

from common.core.sids import SIDS
from common.data.demo_data import DEMO_YEARS
from tests.helpers import assert_invalid

DATASET = "demo_wdi"
YEAR = 2015


def test_datasets_are_those_with_sids_data(client: TestClient) -> None:
    datasets = client.get("/correlation/datasets").json()
    assert set(datasets) == {"demo_wdi", "demo_gho", "demo_ilo", "demo_fao"}
    assert all(name for name in datasets.values())


def test_years_are_integers_with_data(client: TestClient) -> None:
    years = client.get("/correlation/years", params={"dataset": DATASET}).json()
    assert years == list(DEMO_YEARS)


def test_categories_of_a_dataset_in_a_year(client: TestClient) -> None:
    categories = client.get(
        "/correlation/categories", params={"dataset": DATASET, "year": YEAR}
    ).json()
    assert "Economy" in categories
    assert "Health" not in categories  # a demo_gho / demo_fao category, not demo_wdi's


def test_countries_are_sids_with_data(client: TestClient) -> None:
    params: dict[str, str | int] = {"dataset": DATASET, "category": "Environment", "year": YEAR}
    countries = client.get("/correlation/countries", params=params).json()
    assert countries == sorted(countries)
    assert set(countries) < SIDS  # the demo Environment indicator misses some SIDS


def test_year_given_as_a_string_is_accepted(client: TestClient) -> None:
    response = client.get("/correlation/categories", params={"dataset": DATASET, "year": "2015"})
    assert response.status_code == 200


def test_unknown_dataset_lists_the_datasets(client: TestClient) -> None:
    body = assert_invalid(client.get("/correlation/years", params={"dataset": "nope"}), "dataset")
    assert set(body["allowed"]) == set(client.get("/correlation/datasets").json())


def test_unknown_year_lists_the_years(client: TestClient) -> None:
    response = client.get("/correlation/categories", params={"dataset": DATASET, "year": 1900})
    assert assert_invalid(response, "year")["allowed"] == list(DEMO_YEARS)


def test_non_numeric_year_is_a_422(client: TestClient) -> None:
    response = client.get("/correlation/categories", params={"dataset": DATASET, "year": "soon"})
    assert_invalid(response, "year")


def test_unknown_category_lists_the_dataset_categories(client: TestClient) -> None:
    params: dict[str, str | int] = {"dataset": DATASET, "category": "Health", "year": YEAR}
    body = assert_invalid(client.get("/correlation/countries", params=params), "category")
    assert "Economy" in body["allowed"] and "Health" not in body["allowed"]
