"""Bad inputs that need sparse data: a tiny hand-written dataset with gaps in the right places.

Dataset `tiny` (2000-2002): category Wide has four indicators with SIDS data in 2000 only;
category Lone has one indicator, only FJI has it (2000 and 2001); in 2002 only France (not a
SIDS) has data. Dataset `other` has French data only, so it is not offered.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.serving.runtime import Runtime
from tests.helpers import assert_invalid

NAN = np.nan
# (country, indicator): values of 2000, 2001, 2002
DATA: dict[tuple[str, str], tuple[float, float, float]] = {
    ("FJI", "tiny-w1"): (1, NAN, NAN),
    ("FJI", "tiny-w2"): (2, NAN, NAN),
    ("FJI", "tiny-w3"): (3, NAN, NAN),
    ("TON", "tiny-w2"): (5, NAN, NAN),
    ("TON", "tiny-w3"): (1, NAN, NAN),
    ("TON", "tiny-w4"): (7, NAN, NAN),
    ("WSM", "tiny-w1"): (4, NAN, NAN),
    ("WSM", "tiny-w4"): (2, NAN, NAN),
    ("MUS", "tiny-w4"): (3, NAN, NAN),
    ("FJI", "tiny-l1"): (1, 1, NAN),
    ("FRA", "tiny-w1"): (NAN, NAN, 5),
    ("FRA", "tiny-l1"): (NAN, NAN, 5),
    ("FRA", "other-o1"): (1, 2, 3),
}
CATEGORIES = {"tiny-w1": "Wide", "tiny-w2": "Wide", "tiny-w3": "Wide", "tiny-w4": "Wide"}


def _write_dataset(folder: Path) -> None:
    rows = [
        {"Country Code": country, "Indicator Code": code, "2000": a, "2001": b, "2002": c}
        for (country, code), (a, b, c) in DATA.items()
    ]
    pd.DataFrame(rows).to_csv(folder / "indicatorData.csv", index=False)
    codes = sorted({code for _, code in DATA})
    meta = pd.DataFrame(
        {
            "Indicator Code": codes,
            "Indicator": codes,
            "Dimension": codes,
            "Category": [CATEGORIES.get(code, "Lone") for code in codes],
            "Dataset": [code.split("-")[0] for code in codes],
        }
    )
    meta.to_csv(folder / "indicatorMeta.csv", index=False)
    datasets = pd.DataFrame({"Dataset Code": ["tiny", "other"], "Dataset Name": ["Tiny", "Other"]})
    datasets.to_csv(folder / "datasetMeta.csv", index=False)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("tiny-dataset")
    _write_dataset(folder)
    settings = Settings(dataset_path=folder, demo_data_fallback=False)
    with TestClient(create_app(Runtime.create(settings))) as client:
        assert client.get("/readyz").status_code == 200
        yield client


def _post(client: TestClient, route: str, **request: Any):
    return client.post(f"/correlation/{route}", json={"dataset": "tiny", "year": 2000, **request})


def test_only_datasets_and_years_with_sids_data_are_offered(tiny: TestClient) -> None:
    assert tiny.get("/correlation/datasets").json() == {"tiny": "Tiny"}
    assert tiny.get("/correlation/years", params={"dataset": "tiny"}).json() == [2000, 2001]
    categories = tiny.get("/correlation/categories", params={"dataset": "tiny", "year": 2001})
    assert categories.json() == ["Lone"]


def test_dataset_without_sids_data_is_rejected(tiny: TestClient) -> None:
    body = assert_invalid(_post(tiny, "cluster", dataset="other", category="Wide", k=2), "dataset")
    assert body["allowed"] == ["tiny"]


def test_year_without_sids_data_in_the_dataset_is_rejected(tiny: TestClient) -> None:
    response = tiny.get("/correlation/categories", params={"dataset": "tiny", "year": 2002})
    assert assert_invalid(response, "year")["allowed"] == [2000, 2001]


@pytest.mark.parametrize("route", ["correlate", "cluster"])
def test_year_without_data_in_the_category_is_rejected(tiny: TestClient, route: str) -> None:
    response = _post(tiny, route, category="Wide", year=2001, country="FJI", k=2)
    body = assert_invalid(response, "year")
    assert body["allowed"] == [2000]
    assert "no SIDS data" in body["detail"]


def test_too_few_countries_to_cluster_is_rejected(tiny: TestClient) -> None:
    body = assert_invalid(_post(tiny, "cluster", category="Lone", k=2), "category")
    assert body["allowed"] == ["Wide"]
    assert "too few to cluster" in body["detail"]


def test_k_is_capped_at_the_countries_with_data(tiny: TestClient) -> None:
    response = _post(tiny, "cluster", category="Wide", k=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["country"] == ["FJI", "MUS", "TON", "WSM"]
    assert sorted(body["label"]) == [0, 1, 2, 3]


@pytest.mark.parametrize("country", ["WSM", "FJI"])  # two indicators; three, but two shared at most
def test_too_few_shared_indicators_to_correlate_is_rejected(tiny: TestClient, country: str) -> None:
    body = assert_invalid(_post(tiny, "correlate", category="Wide", country=country), "country")
    assert body["allowed"] == ["FJI", "TON"]
    assert "too few to correlate" in body["detail"]
