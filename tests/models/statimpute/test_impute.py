"""/statimpute/impute on the demo dataset: every method and direction, bad input, invariants."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api_app import create_app
from common.core.settings import Settings
from common.core.sids import SIDS
from common.serving.runtime import Runtime
from models.statimpute.algorithm import ORDER_RANGES
from models.statimpute.schemas import ORDER_METHODS, Direction, Method
from tests.helpers import assert_invalid

ORDER = 3  # the order used for spline and polynomial where the test does not vary it


@pytest.fixture(scope="module")
def sids_data(demo_dataset_dir: Path) -> pd.DataFrame:
    """Every (indicator, SIDS) pair of the demo data x years (ints); absent series are empty."""
    data = pd.read_csv(demo_dataset_dir / "indicatorData.csv")
    pairs = pd.MultiIndex.from_product(
        [sorted(set(data["Indicator Code"])), sorted(set(data["Country Code"]) & SIDS)]
    )
    data = data.set_index(["Indicator Code", "Country Code"]).reindex(pairs)
    data.columns = data.columns.astype(int)
    return data


def _row(data: pd.DataFrame, case: tuple[str, str]) -> pd.Series:
    """The series of one (indicator, SIDS) pair: a whole key of the index picks a row."""
    row = data.loc[case]
    assert isinstance(row, pd.Series)
    return row


def _has_inner_gap(row: pd.Series) -> bool:
    observed = np.flatnonzero(row.notna().to_numpy())
    return len(observed) >= 2 and observed[-1] - observed[0] + 1 > len(observed)


@pytest.fixture(scope="module")
def gappy(sids_data: pd.DataFrame) -> tuple[str, str]:
    """A series with leading, inner and trailing gaps and enough values for every method."""
    observed = sids_data.notna()
    candidates = sids_data[
        ~observed.iloc[:, 0]
        & ~observed.iloc[:, -1]
        & (observed.sum(axis=1) >= 1 + max(ORDER_RANGES[Method.polynomial]))
        & sids_data.apply(_has_inner_gap, axis=1)
    ]
    assert len(candidates), "the demo data has SIDS series with inner gaps"
    return sorted(candidates.index)[0]


def _impute(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/statimpute/impute", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _request(case: tuple[str, str], method: Method, **change: Any) -> dict[str, Any]:
    order = ORDER if method in ORDER_METHODS else None
    return {"target": case[0], "country": case[1], "method": method.value, "d": order, **change}


def _check_invariants(body: dict[str, Any], observed: pd.Series) -> pd.Series:
    """Observed values unchanged, filled ones finite, missing_years the filled years."""
    series = body["imputed_series"]
    assert series["index"] == [list(cast(tuple[str, str], observed.name))]
    assert series["columns"] == list(observed.index)
    result = pd.Series(series["data"][0], index=series["columns"], dtype=float)
    known = observed.notna()
    assert result[known].tolist() == observed[known].tolist()
    filled = result[~known].dropna()
    assert np.isfinite(filled).all()
    assert body["missing_years"] == list(filled.index)
    return result


@pytest.mark.parametrize("direction", list(Direction), ids=str)
@pytest.mark.parametrize("method", list(Method), ids=str)
def test_every_method_and_direction_fills_the_inner_gaps(
    client: TestClient,
    sids_data: pd.DataFrame,
    gappy: tuple[str, str],
    method: Method,
    direction: Direction,
) -> None:
    body = _impute(client, **_request(gappy, method, direction=direction.value))
    observed = _row(sids_data, gappy)
    result = _check_invariants(body, observed)
    known = np.flatnonzero(observed.notna().to_numpy())
    inner = observed.iloc[known[0] : known[-1] + 1]
    assert result[inner.index].notna().all(), "every inner gap is filled"
    if direction == Direction.forward:
        assert result.iloc[: known[0]].isna().all()
    if direction == Direction.backward:
        assert result.iloc[known[-1] + 1 :].isna().all()
    assert body["dataset_version"] == client.get("/").json()["dataset_version"]


def test_linear_interpolates_over_the_years(
    client: TestClient, sids_data: pd.DataFrame, gappy: tuple[str, str]
) -> None:
    observed = _row(sids_data, gappy)
    body = _impute(client, **_request(gappy, Method.linear))
    result = _check_invariants(body, observed)
    known = observed.dropna()
    expected = np.interp(result.index, known.index, known.to_numpy())
    np.testing.assert_allclose(result.to_numpy(), expected)


@pytest.mark.parametrize("method", ORDER_METHODS, ids=str)
def test_every_order_of_spline_and_polynomial_answers(
    client: TestClient, sids_data: pd.DataFrame, gappy: tuple[str, str], method: Method
) -> None:
    for order in ORDER_RANGES[method]:
        body = _impute(client, **_request(gappy, method, d=order))
        _check_invariants(body, _row(sids_data, gappy))


def test_order_changes_the_spline(client: TestClient, gappy: tuple[str, str]) -> None:
    linear = _impute(client, **_request(gappy, Method.spline, d=1))
    cubic = _impute(client, **_request(gappy, Method.spline, d=3))
    assert linear["imputed_series"] != cubic["imputed_series"]


def test_order_is_ignored_by_other_methods(client: TestClient, gappy: tuple[str, str]) -> None:
    plain = _impute(client, **_request(gappy, Method.cubic))
    assert _impute(client, **_request(gappy, Method.cubic, d=99)) == plain


def test_direction_defaults_to_both(client: TestClient, gappy: tuple[str, str]) -> None:
    request = _request(gappy, Method.pchip)
    both = _impute(client, **request, direction="both")
    assert _impute(client, **request) == both


def test_series_without_gaps_answers_no_missing_years(
    client: TestClient, sids_data: pd.DataFrame
) -> None:
    targets = client.get("/statimpute/targets").json()
    complete = sids_data[sids_data.notna().all(axis=1)]
    target, country = next(key for key in sorted(complete.index) if key[0] in targets)
    body = _impute(client, target=target, country=country, method="cubic")
    assert body["missing_years"] == []
    assert body["imputed_series"]["data"][0] == complete.loc[(target, country)].tolist()


def test_same_request_gives_the_same_answer(client: TestClient, gappy: tuple[str, str]) -> None:
    request = _request(gappy, Method.spline, d=2)
    assert _impute(client, **request) == _impute(client, **request)


def _assert_invalid(response, field: str) -> dict[str, Any]:
    body = assert_invalid(response, field)
    assert field in body["detail"]
    return body


def test_unknown_target_is_rejected(client: TestClient, gappy: tuple[str, str]) -> None:
    response = client.post("/statimpute/impute", json=_request(("nope", gappy[1]), Method.linear))
    body = _assert_invalid(response, "target")
    assert gappy[0] in body["allowed"]


@pytest.mark.parametrize("country", ["XXX", "USA", "jam"])
def test_unknown_or_non_sids_country_is_rejected(
    client: TestClient, gappy: tuple[str, str], country: str
) -> None:
    response = client.post("/statimpute/impute", json=_request((gappy[0], country), Method.linear))
    body = _assert_invalid(response, "country")
    assert (
        body["allowed"] == client.get("/statimpute/countries", params={"target": gappy[0]}).json()
    )


def test_sids_without_a_value_is_rejected(client: TestClient, sids_data: pd.DataFrame) -> None:
    targets = client.get("/statimpute/targets").json()
    empty = sids_data[sids_data.isna().all(axis=1)]
    target, country = next(key for key in sorted(empty.index) if key[0] in targets)
    response = client.post("/statimpute/impute", json=_request((target, country), Method.linear))
    body = _assert_invalid(response, "country")
    assert country not in body["allowed"] and body["allowed"]


@pytest.mark.parametrize("method", ORDER_METHODS, ids=str)
@pytest.mark.parametrize("order", [None, 0, -1, "max+1"])
def test_missing_or_out_of_range_order_is_rejected(
    client: TestClient, gappy: tuple[str, str], method: Method, order: Any
) -> None:
    orders = ORDER_RANGES[method]
    d = orders[-1] + 1 if order == "max+1" else order
    response = client.post("/statimpute/impute", json=_request(gappy, method, d=d))
    body = _assert_invalid(response, "d")
    assert body["allowed"] == list(orders)
    assert method.value in body["detail"]


def test_too_few_points_for_the_order_is_rejected(
    client: TestClient, sids_data: pd.DataFrame
) -> None:
    targets = client.get("/statimpute/targets").json()
    order = max(ORDER_RANGES[Method.polynomial])
    counts = sids_data.notna().sum(axis=1)
    short = counts[(counts > 1) & (counts <= order)]
    target, country = next(key for key in sorted(short.index) if key[0] in targets)
    request = _request((target, country), Method.polynomial, d=order)
    body = _assert_invalid(client.post("/statimpute/impute", json=request), "method")
    assert f"at least {order + 1}" in body["detail"]
    assert "polynomial" in body["detail"]
    assert "cubic" in body["allowed"]


BAD_BODIES = [
    ({"method": "loess"}, "method", [method.value for method in Method]),
    ({"direction": "sideways"}, "direction", ["forward", "backward", "both"]),
    ({"method": "spline", "d": "three"}, "d", None),
    ({"method": "spline", "d": 2.5}, "d", None),
    ({"target": None}, "target", None),
    ({"country": 42}, "country", None),
]


@pytest.mark.parametrize(("change", "field", "allowed"), BAD_BODIES)
def test_malformed_fields_are_named(
    client: TestClient,
    gappy: tuple[str, str],
    change: dict[str, Any],
    field: str,
    allowed: list[str] | None,
) -> None:
    request = {**_request(gappy, Method.linear), **change}
    body = _assert_invalid(client.post("/statimpute/impute", json=request), field)
    if allowed is not None:
        assert body["allowed"] == allowed


def test_missing_required_field_is_named(client: TestClient, gappy: tuple[str, str]) -> None:
    request = _request(gappy, Method.linear)
    del request["method"]
    _assert_invalid(client.post("/statimpute/impute", json=request), "method")


# A tiny dataset with the series the demo data lacks: one with a single value, and one whose
# values near the float limit make scipy fail (pchip) or linear interpolation overflow.
EDGE_YEARS = list(range(2000, 2011))
HUGE = 1.7e308
EDGE_SERIES: dict[str, list[float | None]] = {
    "JAM": [None] * 5 + [HUGE, -HUGE, None, HUGE] + [None] * 2,
    "FJI": [None] * 3 + [4.0] + [None] * 7,
    "USA": [float(year) for year in EDGE_YEARS],
}


@pytest.fixture(scope="module")
def edge_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("statimpute-edge")
    rows = [
        {"Country Code": country, "Indicator Code": "edge-x", **dict(zip(EDGE_YEARS, values))}
        for country, values in EDGE_SERIES.items()
    ]
    pd.DataFrame(rows).to_csv(folder / "indicatorData.csv", index=False)
    meta = {"Indicator": "Edge", "Dimension": "Edge", "Category": "Test", "Dataset": "edge"}
    pd.DataFrame([{"Indicator Code": "edge-x", **meta}]).to_csv(
        folder / "indicatorMeta.csv", index=False
    )
    pd.DataFrame([{"Dataset Code": "edge", "Dataset Name": "Edge"}]).to_csv(
        folder / "datasetMeta.csv", index=False
    )
    # Values this large are refused as corrupt by default (DATASET_MAX_ABS_VALUE): allowed here.
    settings = Settings(
        dataset_path=folder, demo_data_fallback=False, dataset_max_abs_value=1.8e308
    )
    with TestClient(create_app(Runtime.create(settings))) as client:
        yield client


def test_single_value_series_is_rejected_with_the_usable_countries(
    edge_client: TestClient,
) -> None:
    assert edge_client.get("/statimpute/countries", params={"target": "edge-x"}).json() == [
        "FJI",
        "JAM",
    ]
    request = {"target": "edge-x", "country": "FJI", "method": "nearest"}
    body = _assert_invalid(edge_client.post("/statimpute/impute", json=request), "country")
    assert body["allowed"] == ["JAM"]
    assert "single" in body["detail"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", ["pchip", "akima", "cubicspline", "linear"])
def test_scipy_failures_and_overflows_are_a_422(edge_client: TestClient, method: str) -> None:
    request = {"target": "edge-x", "country": "JAM", "method": method}
    body = _assert_invalid(edge_client.post("/statimpute/impute", json=request), "method")
    assert method in body["detail"]
    assert method not in body["allowed"] and body["allowed"]
