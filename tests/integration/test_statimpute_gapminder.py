"""Time-series imputation on the real Gapminder dataset (CC BY 4.0); skipped when it is absent."""

from collections.abc import Iterator
from typing import cast

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.core.sids import SIDS
from common.serving.runtime import Runtime
from models.statimpute.schemas import ORDER_METHODS, Direction, Method

ORDER = 3
# pandas' spline is scipy's smoothing spline, which warns when it cannot meet its smoothing target.
pytestmark = pytest.mark.filterwarnings("ignore:(?s).*maximal number of iterations:UserWarning")


@pytest.fixture(scope="module")
def real_client(gapminder_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(Runtime.create(gapminder_settings))) as client:
        yield client


@pytest.fixture(scope="module")
def sids_data(gapminder_settings: Settings) -> pd.DataFrame:
    """SIDS series of the real data: (indicator, country) x years (ints)."""
    data = pd.read_csv(gapminder_settings.dataset_path / "indicatorData.csv")
    data = data[data["Country Code"].isin(SIDS)].set_index(["Indicator Code", "Country Code"])
    data.columns = data.columns.astype(int)
    return data


@pytest.fixture(scope="module")
def gappy(real_client: TestClient, sids_data: pd.DataFrame) -> tuple[str, str]:
    """The first series (sorted) with a leading gap, an inner gap and 10 or more values."""
    targets = real_client.get("/statimpute/targets").json()
    for key, row in sids_data.sort_index().iterrows():
        case = cast(tuple[str, str], key)  # a row's key in the two-level index
        observed = np.flatnonzero(row.notna().to_numpy())
        inner_gap = len(observed) and observed[-1] - observed[0] + 1 > len(observed)
        if case[0] in targets and inner_gap and observed[0] > 0 and len(observed) >= 10:
            return case
    raise AssertionError("the real data has SIDS series with inner gaps")


def test_real_data_options(real_client: TestClient, gappy: tuple[str, str]) -> None:
    targets = real_client.get("/statimpute/targets").json()
    assert gappy[0] in targets
    countries = real_client.get("/statimpute/countries", params={"target": gappy[0]}).json()
    assert gappy[1] in countries
    assert countries == sorted(countries) and set(countries) <= SIDS


@pytest.mark.parametrize("method", list(Method), ids=str)
def test_real_series_is_filled_by_every_method(
    real_client: TestClient, sids_data: pd.DataFrame, gappy: tuple[str, str], method: Method
) -> None:
    for direction in Direction:
        request = {
            "target": gappy[0], "country": gappy[1], "method": method.value,
            "direction": direction.value, "d": ORDER if method in ORDER_METHODS else None,
        }  # fmt: skip
        response = real_client.post("/statimpute/impute", json=request)
        assert response.status_code == 200, response.text
        body = response.json()
        observed = sids_data.loc[gappy]
        assert isinstance(observed, pd.Series)  # a whole key of the index picks a row
        series = body["imputed_series"]
        assert series["columns"] == list(range(2000, 2023))
        result = pd.Series(series["data"][0], index=series["columns"], dtype=float)
        known = observed.notna()
        assert result[known].tolist() == observed[known].tolist()
        assert np.isfinite(result[~known].dropna()).all()
        assert body["missing_years"] == list(result[~known].dropna().index)
        assert body["missing_years"], "the inner gap is filled"


def test_real_series_never_answer_a_server_error(real_client: TestClient) -> None:
    targets = sorted(real_client.get("/statimpute/targets").json())
    for target in targets[:: len(targets) // 4]:
        for country in real_client.get("/statimpute/countries", params={"target": target}).json():
            for method, order in (("cubic", None), ("spline", 5), ("akima", None)):
                request = {"target": target, "country": country, "method": method, "d": order}
                response = real_client.post("/statimpute/impute", json=request)
                assert response.status_code in (200, 422), response.text
