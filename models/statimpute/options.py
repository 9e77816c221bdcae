"""What the time-series imputation model offers, and the checks of a request against the data.

Lists are derived from the loaded dataset once (memoised on the store) and then reused.
"""

import numpy as np
import pandas as pd

from common.core.errors import InvalidParameter, invalid_choice
from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from models.statimpute.algorithm import ORDER_RANGES, min_points
from models.statimpute.schemas import ORDER_METHODS, ImputeRequest, Method

MEMO = model_name(__name__)  # this model's namespace in the store's memo

# Fewer observed values than this and no method can fill a gap.
FEWEST_POINTS = min(min_points(method, None) for method in Method)


def sids_observed_counts(store: IndicatorStore) -> pd.DataFrame:
    """How many years each SIDS (rows, sorted) has a value of each indicator (columns)."""

    def compute() -> pd.DataFrame:
        counts = (~np.isnan(store.values[:, store.sids_mask, :])).sum(axis=0)
        return pd.DataFrame(
            counts, index=store.countries[store.sids_mask], columns=store.indicators
        ).sort_index()

    return store.memo((MEMO, "sids_observed_counts"), compute)


def target_options(store: IndicatorStore) -> dict[str, str]:
    """Indicators with at least one SIDS series that has values and gaps: code -> name."""

    def compute() -> dict[str, str]:
        counts = sids_observed_counts(store)
        with_gaps = ((counts > 0) & (counts < len(store.years))).any(axis=0)
        names = store.indicator_meta.loc[with_gaps[with_gaps].index, "Indicator"]
        return dict(zip(names.index, names))

    return store.memo((MEMO, "targets"), compute)


def country_options(store: IndicatorStore, target: str) -> list[str]:
    """The SIDS with at least one value of the target, sorted ISO3 codes."""
    counts = sids_observed_counts(store)[target]
    return list(counts.index[counts > 0])


def country_series(store: IndicatorStore, target: str, country: str) -> pd.Series:
    """One country's values of one indicator, indexed by the dataset's years (NaN: missing)."""
    values = store.values[:, store.countries.get_loc(country), store.indicators.get_loc(target)]
    return pd.Series(values, index=pd.Index(store.years, name="year"), name=(target, country))


def check_target(store: IndicatorStore, target: str) -> None:
    options = target_options(store)
    if target not in options:
        raise invalid_choice("target", target, options)


def check_impute_request(store: IndicatorStore, request: ImputeRequest) -> None:
    """Every check an impute request must pass before interpolating; raises `InvalidParameter`."""
    check_target(store, request.target)
    allowed_countries = country_options(store, request.target)
    if request.country not in allowed_countries:
        raise invalid_choice("country", request.country, allowed_countries)
    _check_order(request)
    _check_points(store, request)


def _check_order(request: ImputeRequest) -> None:
    if request.method not in ORDER_METHODS:
        return
    orders = ORDER_RANGES[request.method]
    if request.d is None or request.d not in orders:
        bounds = f"{orders[0]}..{orders[-1]}"
        requirement = "is required" if request.d is None else f"must be in {bounds}"
        raise InvalidParameter(
            f"d (the order) {requirement} when method is {request.method.value}",
            field="d",
            allowed=list(orders),
        )


def _check_points(store: IndicatorStore, request: ImputeRequest) -> None:
    """The series must have enough observed values for the method, unless it has no gap."""
    counts = sids_observed_counts(store)[request.target]
    observed = int(counts[request.country])
    if observed == len(store.years):
        return
    needed = min_points(request.method, request.d)
    if observed < FEWEST_POINTS:
        raise InvalidParameter(
            f"country {request.country!r} has a single observed value of {request.target}; "
            f"interpolation needs at least {FEWEST_POINTS}",
            field="country",
            allowed=list(counts.index[counts >= FEWEST_POINTS]),
        )
    if observed < needed:
        order = f" of order {request.d}" if request.method in ORDER_METHODS else ""
        raise InvalidParameter(
            f"method {request.method.value}{order} needs at least {needed} observed values; "
            f"{request.country} has {observed} of {request.target}: choose another method"
            f"{', a lower order' if order else ''} or country",
            field="method",
            allowed=[method.value for method in Method if min_points(method, None) <= observed],
        )
