"""The pure gap filling of the time-series imputation model, on small generated series."""

from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.statimpute import algorithm
from models.statimpute.schemas import ORDER_METHODS, Direction, Method

YEARS = range(2000, 2023)
PLAIN_METHODS = [method for method in Method if method not in ORDER_METHODS]
ORDERED = [(method, order) for method in ORDER_METHODS for order in algorithm.ORDER_RANGES[method]]


def _series(positions: list[int], values: list[float] | None = None) -> pd.Series:
    data = np.full(len(YEARS), np.nan)
    data[positions] = values if values is not None else [1.0 + p * p for p in positions]
    return pd.Series(data, index=pd.Index(YEARS))


def _spread(count: int) -> list[int]:
    """`count` positions two years apart: every observation has a gap after it."""
    return list(range(0, 2 * count, 2))


def _pandas_fill(series: pd.Series, method: Method, order: int | None) -> pd.Series:
    options: dict[str, Any] = {"order": order} if order is not None else {}
    name = algorithm.PANDAS_METHODS.get(method, method.value)
    return series.interpolate(method=name, limit_direction="both", **options)


@pytest.mark.parametrize(
    ("method", "order"), [*[(method, None) for method in PLAIN_METHODS], *ORDERED], ids=str
)
def test_min_points_is_what_pandas_needs(method: Method, order: int | None) -> None:
    needed = algorithm.min_points(method, order)
    enough = _series(_spread(needed))
    assert _pandas_fill(enough, method, order).notna().sum() > needed
    too_few = _series(_spread(needed - 1))
    try:
        fewer = _pandas_fill(too_few, method, order)
    except Exception:  # scipy's errors differ by method (FITPACK's is not even a ValueError)
        return
    # linear, nearest and zero run on one point, but only copy it or fill nothing.
    assert needed - 1 == 1 and fewer.dropna().nunique() == 1


@pytest.mark.parametrize("method", list(Method), ids=str)
def test_too_few_points_is_an_interpolation_error(method: Method) -> None:
    order = 2 if method in ORDER_METHODS else None
    series = _series(_spread(algorithm.min_points(method, order) - 1))
    with pytest.raises(algorithm.InterpolationError, match="at least"):
        algorithm.fill_gaps(series, method, Direction.both, order)


@pytest.mark.parametrize("method", list(Method), ids=str)
@pytest.mark.parametrize("direction", list(Direction), ids=str)
def test_observed_values_stay_and_filled_values_are_finite(
    method: Method, direction: Direction
) -> None:
    series = _series([2, 3, 5, 9, 10, 14, 15, 18])
    filled = algorithm.fill_gaps(series, method, direction, 3 if method in ORDER_METHODS else None)
    observed = series.notna()
    pd.testing.assert_series_equal(filled[observed], series[observed])
    assert np.isfinite(filled.dropna()).all()
    assert filled.loc[2004:2008].notna().all(), "inner gaps are filled"
    if direction == Direction.forward:
        assert filled.loc[:2001].isna().all()
    if direction == Direction.backward:
        assert filled.loc[2019:].isna().all()


def test_linear_uses_the_years_as_x() -> None:
    series = pd.Series([0.0, np.nan, np.nan, 30.0], index=pd.Index([2000, 2001, 2002, 2010]))
    filled = algorithm.fill_gaps(series, Method.linear, Direction.both)
    assert filled.loc[2001] == pytest.approx(3.0)
    assert filled.loc[2002] == pytest.approx(6.0)


def test_series_without_gaps_or_values_comes_back_unchanged() -> None:
    complete = pd.Series(np.arange(len(YEARS), dtype=float), index=pd.Index(YEARS))
    empty = pd.Series(np.nan, index=pd.Index(YEARS))
    for series in (complete, empty):
        filled = algorithm.fill_gaps(series, Method.cubic, Direction.both)
        pd.testing.assert_series_equal(filled, series)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_scipy_failure_becomes_an_interpolation_error() -> None:
    # Slopes between values near the float limit overflow: scipy rejects non-finite derivatives.
    series = _series([5, 6, 8], [1.7e308, -1.7e308, 1.7e308])
    with pytest.raises(algorithm.InterpolationError, match="pchip"):
        algorithm.fill_gaps(series, Method.pchip, Direction.both)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_infinite_results_are_an_interpolation_error() -> None:
    series = _series([5, 6, 8], [1.7e308, -1.7e308, 1.7e308])
    with pytest.raises(algorithm.InterpolationError, match="infinite"):
        algorithm.fill_gaps(series, Method.linear, Direction.both)
