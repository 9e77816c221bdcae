"""/sampleapi/summary and /sampleapi/indicators on the demo dataset, checked against its CSV."""

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from common.core.sids import SIDS
from common.data.demo_data import DEMO_YEARS

YEAR = 2015


@pytest.fixture(scope="module")
def demo_values(demo_dataset_dir: Path) -> pd.DataFrame:
    return pd.read_csv(demo_dataset_dir / "indicatorData.csv")


@pytest.fixture(scope="module")
def indicator(demo_values: pd.DataFrame) -> str:
    """An indicator that some SIDS, but not all, have in YEAR."""
    sids_rows = demo_values[demo_values["Country Code"].isin(SIDS)]
    counts = sids_rows.groupby("Indicator Code")[str(YEAR)].count()
    return sorted(counts[(counts > 1) & (counts < len(SIDS))].index)[0]


def _values(demo_values: pd.DataFrame, indicator: str, sids_only: bool) -> pd.Series:
    rows = demo_values[demo_values["Indicator Code"] == indicator]
    if sids_only:
        rows = rows[rows["Country Code"].isin(SIDS)]
    return rows[str(YEAR)].dropna()


@pytest.mark.parametrize(("group", "sids_only"), [(None, True), ("sids", True), ("all", False)])
def test_summary_matches_the_csv(
    client: TestClient,
    demo_values: pd.DataFrame,
    indicator: str,
    group: str | None,
    sids_only: bool,
) -> None:
    request = {"indicator": indicator, "year": YEAR} | ({"group": group} if group else {})
    response = client.post("/sampleapi/summary", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = _values(demo_values, indicator, sids_only)
    assert (body["indicator"], body["year"], body["count"]) == (indicator, YEAR, len(expected))
    assert body["mean"] == pytest.approx(expected.mean())
    assert body["min"] == pytest.approx(expected.min())
    assert body["max"] == pytest.approx(expected.max())
    assert body["dataset_version"] == client.get("/").json()["dataset_version"]


def test_indicators_are_every_code_with_its_name(
    client: TestClient, demo_dataset_dir: Path
) -> None:
    meta = pd.read_csv(demo_dataset_dir / "indicatorMeta.csv")
    expected = dict(zip(meta["Indicator Code"], meta["Indicator"]))
    assert client.get("/sampleapi/indicators").json() == expected


def test_unknown_indicator_lists_the_indicators(client: TestClient, indicator: str) -> None:
    response = client.post("/sampleapi/summary", json={"indicator": "nope", "year": YEAR})
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid_parameter", "indicator")
    assert indicator in body["allowed"]


def test_unknown_year_lists_the_years(client: TestClient, indicator: str) -> None:
    response = client.post("/sampleapi/summary", json={"indicator": indicator, "year": 1900})
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid_parameter", "year")
    assert body["allowed"] == list(DEMO_YEARS)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"group": "islands"}, "group"),
        ({"year": "soon"}, "year"),
        ({"indicator": None}, "indicator"),
    ],
)
def test_malformed_fields_are_named(
    client: TestClient, indicator: str, change: dict, field: str
) -> None:
    request = {"indicator": indicator, "year": YEAR} | change
    response = client.post("/sampleapi/summary", json=request)
    assert response.status_code == 422
    assert response.json()["field"] == field
