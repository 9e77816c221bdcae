"""Option endpoints of the time-series imputation model and their bad-input answers."""

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from common.core.sids import SIDS


def _sids_data(demo_dataset_dir) -> pd.DataFrame:
    """Every (indicator, SIDS) pair of the demo data x years; absent series are empty rows."""
    data = pd.read_csv(demo_dataset_dir / "indicatorData.csv")
    pairs = pd.MultiIndex.from_product(
        [sorted(set(data["Indicator Code"])), sorted(set(data["Country Code"]) & SIDS)]
    )
    return data.set_index(["Indicator Code", "Country Code"]).reindex(pairs)


def test_targets_are_indicators_with_a_gappy_sids_series(
    client: TestClient, demo_dataset_dir
) -> None:
    targets = client.get("/statimpute/targets").json()
    observed = _sids_data(demo_dataset_dir).notna().sum(axis=1)
    years = len(client.get("/twolvlImp/target_years").json())
    gappy = observed[(observed > 0) & (observed < years)]
    assert set(targets) == set(gappy.index.get_level_values(0))
    assert all(isinstance(name, str) and name for name in targets.values())


def test_countries_are_the_sids_with_a_value_sorted(client: TestClient, demo_dataset_dir) -> None:
    data = _sids_data(demo_dataset_dir)
    for target in sorted(client.get("/statimpute/targets").json())[:5]:
        countries = client.get("/statimpute/countries", params={"target": target}).json()
        rows = data.loc[target]
        expected = sorted(rows.index[rows.notna().any(axis=1)])
        assert countries == expected
        assert set(countries) <= SIDS


def test_sids_without_the_target_are_not_offered(client: TestClient, demo_dataset_dir) -> None:
    data = _sids_data(demo_dataset_dir)
    empty = data[data.isna().all(axis=1)].index
    assert len(empty), "the demo data has SIDS without a series"
    target, country = empty[0]
    countries = client.get("/statimpute/countries", params={"target": target}).json()
    assert country not in countries and countries


def test_unknown_target_names_field_and_allowed_targets(client: TestClient) -> None:
    response = client.get("/statimpute/countries", params={"target": "nope"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["field"] == "target"
    assert body["allowed"] == list(client.get("/statimpute/targets").json())


def test_missing_target_query_is_named(client: TestClient) -> None:
    response = client.get("/statimpute/countries")
    assert response.status_code == 422
    assert response.json()["field"] == "target"


def test_option_lists_are_json_lists_and_maps(client: TestClient) -> None:
    targets = client.get("/statimpute/targets").json()
    countries = client.get("/statimpute/countries", params={"target": next(iter(targets))}).json()
    assert isinstance(targets, dict) and isinstance(countries, list)
    assert np.all([len(code) == 3 for code in countries])
