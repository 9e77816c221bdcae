"""One predict request end to end: dataset slice, algorithm, the response the front end reads."""

import math

import numpy as np
import pandas as pd

from common.datasets import IndicatorStore
from models.twolvlImp import algorithm
from models.twolvlImp.options import predictors_for
from models.twolvlImp.schemas import (
    IndicatorJson,
    Interpolator,
    Model,
    PredictRequest,
    PredictResponse,
    Scheme,
)

# Seconds a request of each scheme takes on the reference machine with 10 trees and the KNN imputer
# (see the README's benchmark); `estimate_seconds` scales them.
BASE_SECONDS = {Scheme.MANUAL: 0.5, Scheme.PCA: 0.6, Scheme.AFS: 1.7}
ITERATIVE_IMPUTER_SECONDS = 15.0


def impute(store: IndicatorStore, request: PredictRequest, n_jobs: int = 1) -> PredictResponse:
    """Estimate the SIDS gaps of the requested target (the request was checked beforehand)."""
    year = request.target_year
    matrix = store.year_matrix(year)
    sids_mask = store.sids_mask
    data = algorithm.split_training_data(
        matrix, request.target, predictors_for(store, year, request.target), sids_mask
    )
    features, to_predict = algorithm.fill_predictor_gaps(
        data.features, data.to_predict, request.interpolator
    )
    chosen = algorithm.select_features(
        features,
        data.target,
        request.scheme,
        request.number_predictor,
        request.manual_predictors,
        n_jobs,
    )
    training_sids = sids_mask[matrix.index.get_indexer(features.index)]
    estimate = algorithm.fit_and_predict(
        features[chosen],
        data.target,
        to_predict[chosen],
        algorithm.sample_weights(features.index, training_sids),
        model=request.model,
        estimators=request.estimators,
        interval=request.interval,
        n_jobs=n_jobs,
    )
    observed_sids = matrix.loc[sids_mask, request.target].dropna()
    return _response(store, year, observed_sids, estimate, features[chosen], data.target)


def _response(
    store: IndicatorStore,
    year: int,
    observed_sids: pd.Series,
    estimate: algorithm.Estimate,
    chosen_features: pd.DataFrame,
    target: pd.Series,
) -> PredictResponse:
    key = str(year)
    importances = estimate.feature_importances
    categories = store.indicator_meta.loc[importances.index, "Category"]
    category_importances = importances.groupby(categories.to_numpy()).sum()
    relative = algorithm.relative_rmse(estimate.rmse, target)
    return PredictResponse(
        rmse=estimate.rmse,
        rmse_deviation=relative,
        indicatorJson=IndicatorJson(
            data={key: _floats(pd.concat([observed_sids, estimate.prediction]).sort_index())},
            upperIntervals={key: _floats(estimate.upper)},
            lowerIntervals={key: _floats(estimate.lower)},
            featureImportances={key: _floats(importances)},
            categoryImportances={key: _floats(category_importances)},
            correlation={key: _correlation(chosen_features)},
            rmse={key: estimate.rmse},
            rmse_deviation={key: relative},
        ),
        dataset_version=store.version,
    )


def _floats(series: pd.Series) -> dict[str, float]:
    return {str(key): float(value) for key, value in series.items() if np.isfinite(value)}


def _correlation(features: pd.DataFrame) -> dict[str, list]:
    """Pearson correlations in pandas' split orient; undefined ones (constant columns) are null."""
    split = features.corr().to_dict(orient="split")
    split["data"] = [[None if math.isnan(v) else v for v in row] for row in split["data"]]
    return split


def estimate_seconds(request: PredictRequest) -> float:
    """A rough duration of a predict request, for the front end's progress display."""
    seconds = BASE_SECONDS[request.scheme] * max(request.estimators / 10, 1)
    if request.model == Model.all:
        seconds *= 3
    if request.interpolator == Interpolator.IterativeImputer:
        seconds += ITERATIVE_IMPUTER_SECONDS
    return round(seconds, 1)
