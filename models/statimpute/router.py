"""HTTP routes of the time-series imputation model (paths and shapes as the front end uses them)."""

from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query

from common.core.errors import InvalidParameter
from common.web.dependencies import StoreDep
from models.statimpute import algorithm, options
from models.statimpute.schemas import ImputeRequest, ImputeResponse, Method, SplitSeries

router = APIRouter(tags=["Time Series Imputation"])


@router.get("/targets")
def get_targets(store: StoreDep) -> dict[str, str]:
    """Indicators with at least one SIDS series that has gaps: code -> name."""
    return options.target_options(store)


@router.get("/countries")
def get_countries(
    store: StoreDep,
    target: Annotated[str, Query(description="An indicator code from /statimpute/targets.")],
) -> list[str]:
    """The SIDS with at least one value of the indicator (ISO3 codes, sorted)."""
    options.check_target(store, target)
    return options.country_options(store, target)


@router.post("/impute")
def impute(store: StoreDep, request: ImputeRequest) -> ImputeResponse:
    """Fill the gaps of one SIDS country's indicator series by interpolating over the years."""
    options.check_impute_request(store, request)
    series = options.country_series(store, request.target, request.country)
    try:
        filled = algorithm.fill_gaps(series, request.method, request.direction, request.d)
    except algorithm.InterpolationError as error:
        others = [method.value for method in Method if method != request.method]
        raise InvalidParameter(
            f"{error}; choose another method", field="method", allowed=others
        ) from error
    return _response(store.version, request, series, filled)


def _response(
    version: str, request: ImputeRequest, series: pd.Series, filled: pd.Series
) -> ImputeResponse:
    newly_filled = series.isna() & filled.notna()
    row = [None if np.isnan(value) else float(value) for value in filled]
    return ImputeResponse(
        missing_years=[int(year) for year in filled.index[newly_filled]],
        imputed_series=SplitSeries(
            index=[[request.target, request.country]],
            columns=[int(year) for year in filled.index],
            data=[row],
        ),
        dataset_version=version,
    )
