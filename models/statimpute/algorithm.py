"""Gap filling of one indicator series over the years: pandas interpolation, no web types.

The series is indexed by the integer years, which every method uses as x, so gaps are spaced as
the years are.
"""

from typing import Any

import numpy as np
import pandas as pd

from models.statimpute.schemas import ORDER_METHODS, Direction, Method

# Observed values each method needs, measured with pandas 3.1 and scipy 1.17 on series of 1..n
# points (test_algorithm.py checks the table against pandas). linear, nearest and zero run on one
# point but then only copy it to every year (linear) or fill nothing, so they need two too.
MIN_POINTS: dict[Method, int] = {
    Method.linear: 2,
    Method.nearest: 2,
    Method.zero: 2,
    Method.slinear: 2,
    Method.quadratic: 3,
    Method.cubic: 4,
    Method.piecewise_polynomial: 2,
    Method.pchip: 2,
    Method.akima: 2,
    Method.cubicspline: 2,
}
# Orders accepted: scipy's UnivariateSpline stops at 5; polynomials beyond 10 only oscillate.
# Either needs order + 1 observed values.
ORDER_RANGES: dict[Method, range] = {Method.spline: range(1, 6), Method.polynomial: range(1, 11)}
# pandas' "linear" ignores the index (rows equally spaced); "index" interpolates over the years.
PANDAS_METHODS: dict[Method, str] = {Method.linear: "index"}


class InterpolationError(ValueError):
    """pandas or scipy failed on the series, or produced values that are not finite."""


def min_points(method: Method, order: int | None) -> int:
    """How many observed values `method` (of `order`, for spline and polynomial) needs."""
    if method in ORDER_METHODS:
        return (order or min(ORDER_RANGES[method])) + 1
    return MIN_POINTS[method]


def fill_gaps(
    series: pd.Series, method: Method, direction: Direction, order: int | None = None
) -> pd.Series:
    """The series (indexed by year) with its gaps filled where the method and direction reach.

    Observed values are returned unchanged; gaps the method cannot reach (e.g. years before the
    first observation when filling forward) stay NaN.
    """
    missing = series.isna()
    if not missing.any() or missing.all():
        return series.copy()
    needed, observed = min_points(method, order), int((~missing).sum())
    if observed < needed:
        # Checked first: scipy's own error here (from FITPACK, for splines) is not a ValueError.
        raise InterpolationError(
            f"{method.value} needs at least {needed} observed values; the series has {observed}"
        )
    options: dict[str, Any] = {"order": order} if method in ORDER_METHODS else {}
    try:
        interpolated = series.interpolate(
            method=PANDAS_METHODS.get(method, method.value),
            limit_direction=direction.value,
            **options,
        )
    except ValueError as error:
        raise InterpolationError(f"{method.value} interpolation failed: {error}") from error
    filled = series.where(~missing, interpolated)
    if np.isinf(filled[missing]).any():
        raise InterpolationError(f"{method.value} interpolation produced infinite values")
    return filled
