"""What the two-level imputation model offers for a year, and the checks of a request against it.

All lists are derived from the loaded dataset once (memoised on the store) and then reused.
"""

import math

import numpy as np
import pandas as pd

from common.core.errors import InvalidParameter, invalid_choice
from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from models.twolvlImp.schemas import PredictRequest, Scheme

MEMO = model_name(__name__)  # this model's namespace in the store's memo

# A target may be missing for at most 80% of countries (so at least 20% train the model) and
# must be missing for at least one SIDS (otherwise there is no gap to fill).
TARGET_MAX_MISSING = 0.8
# A predictor may be missing for less than 30% of the training countries.
PREDICTOR_MAX_MISSING = 0.3


def target_sample_size(store: IndicatorStore) -> int:
    """How many countries must have a value for an indicator to be a target."""
    return math.ceil(len(store.countries) * (1 - TARGET_MAX_MISSING))


def predictor_sample_size(store: IndicatorStore) -> int:
    """How many countries must have a value for an indicator to be a predictor."""
    return math.ceil(len(store.countries) * (1 - PREDICTOR_MAX_MISSING))


def targets_of_year(store: IndicatorStore, year: int) -> pd.Index:
    """Indicators that can be targets in a year, across all datasets."""

    def compute() -> pd.Index:
        matrix = store.values[store.year_index(year)]
        missing_share = np.isnan(matrix).mean(axis=0)
        sids_missing = np.isnan(matrix[store.sids_mask]).any(axis=0)
        return store.indicators[(missing_share < TARGET_MAX_MISSING) & sids_missing]

    return store.memo((MEMO, "targets", year), compute)


def dataset_options(store: IndicatorStore, year: int) -> dict[str, str]:
    """Datasets with at least one target in a year: code -> name (do not modify: memoised)."""

    def compute() -> dict[str, str]:
        codes = set(store.indicator_meta.loc[targets_of_year(store, year), "Dataset"])
        return {code: store.dataset_names.get(code, code) for code in sorted(codes)}

    return store.memo((MEMO, "datasets", year), compute)


def target_options(store: IndicatorStore, year: int, dataset: str) -> dict[str, str]:
    """Targets of one dataset in a year: code -> indicator name (do not modify: memoised)."""

    def compute() -> dict[str, str]:
        meta = store.indicator_meta.loc[targets_of_year(store, year)]
        meta = meta[meta["Dataset"] == dataset]
        return dict(zip(meta.index, meta["Indicator"]))

    return store.memo((MEMO, "target_options", year, dataset), compute)


def predictors_for(store: IndicatorStore, year: int, target: str) -> pd.Index:
    """Candidate predictors of a target: under 30% missing among countries that have the target."""

    def compute() -> pd.Index:
        matrix = store.values[store.year_index(year)]
        target_column = store.indicators.get_loc(target)
        training_rows = matrix[~np.isnan(matrix[:, target_column])]
        missing_share = np.isnan(training_rows).mean(axis=0)
        usable = missing_share < PREDICTOR_MAX_MISSING
        usable[target_column] = False
        return store.indicators[usable]

    return store.memo((MEMO, "predictors", year, target), compute)


def predictor_options(store: IndicatorStore, year: int, target: str) -> dict[str, str]:
    """Predictors of a target for the MANUAL scheme: code -> "Indicator - Dimension" (do not
    modify: memoised)."""

    def compute() -> dict[str, str]:
        meta = store.indicator_meta.loc[predictors_for(store, year, target)]
        return {str(code): f"{row.Indicator} - {row.Dimension}" for code, row in meta.iterrows()}

    return store.memo((MEMO, "predictor_options", year, target), compute)


def number_options(store: IndicatorStore, year: int, target: str) -> dict[int, int]:
    """Allowed predictor counts for the AFS and PCA schemes."""
    return {n: n for n in range(1, len(predictors_for(store, year, target)) + 1)}


def dimension_options(
    store: IndicatorStore, year: int, dataset: str, target: str
) -> list[dict[str, str]]:
    """Targets sharing the indicator name of `target` (a code or a name), one per dimension."""
    meta = store.indicator_meta
    name = meta.at[target, "Indicator"] if target in meta.index else target
    options = target_options(store, year, dataset)
    same_name = meta.loc[list(options)]
    same_name = same_name[same_name["Indicator"] == name]
    return [{"label": row.Dimension, "value": str(code)} for code, row in same_name.iterrows()]


def check_year(store: IndicatorStore, year: int) -> None:
    if year not in store.years:
        raise invalid_choice("target_year", year, store.years)


def check_dataset(store: IndicatorStore, year: int, dataset: str) -> None:
    check_year(store, year)
    options = dataset_options(store, year)
    if dataset not in options:
        raise invalid_choice("dataset", dataset, options)


def check_target(store: IndicatorStore, year: int, dataset: str, target: str) -> None:
    check_dataset(store, year, dataset)
    options = target_options(store, year, dataset)
    if target not in options:
        raise invalid_choice("target", target, options)


def check_dimension_target(store: IndicatorStore, year: int, dataset: str, target: str) -> None:
    """`target` of `/dimensions` may be an indicator code or an indicator name."""
    check_dataset(store, year, dataset)
    options = target_options(store, year, dataset)
    if target not in options and target not in set(options.values()):
        raise invalid_choice("target", target, options)


def check_predict_request(store: IndicatorStore, request: PredictRequest) -> None:
    """Every check a predict request must pass before training; raises `InvalidParameter`."""
    check_target(store, request.target_year, request.dataset, request.target)
    available = predictors_for(store, request.target_year, request.target)
    if request.scheme == Scheme.MANUAL:
        _check_manual_predictors(request, available)
    else:
        _check_number_predictor(request, len(available))


def _check_manual_predictors(request: PredictRequest, available: pd.Index) -> None:
    if not request.manual_predictors:
        raise InvalidParameter(
            "manual_predictors is required when scheme is MANUAL",
            field="manual_predictors",
            allowed=list(available),
        )
    if request.target in request.manual_predictors:
        raise InvalidParameter(
            f"manual_predictors must not contain the target {request.target!r} itself",
            field="manual_predictors",
            allowed=list(available),
        )
    unknown = [code for code in request.manual_predictors if code not in available]
    if unknown:
        raise InvalidParameter(
            f"manual_predictors {unknown} are not available predictors for this target and year",
            field="manual_predictors",
            allowed=list(available),
        )
    if len(set(request.manual_predictors)) != len(request.manual_predictors):
        raise InvalidParameter(
            "manual_predictors lists a predictor more than once", field="manual_predictors"
        )


def _check_number_predictor(request: PredictRequest, available_count: int) -> None:
    number = request.number_predictor
    if number is None or not 1 <= number <= available_count:
        requirement = "is required" if number is None else f"must be in 1..{available_count}"
        raise InvalidParameter(
            f"number_predictor {requirement} when scheme is {request.scheme.value} "
            f"({available_count} predictors are available)",
            field="number_predictor",
            allowed=[1, available_count],
        )
