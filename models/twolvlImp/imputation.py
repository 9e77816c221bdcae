"""One predict request end to end: dataset slice, algorithm, the response the front end reads."""

import math
from functools import partial

import numpy as np
import pandas as pd

from common.data.datasets import IndicatorStore
from common.serving.registry import model_name
from models.twolvlImp import calibration, cross_section, history, history_method
from models.twolvlImp.options import predictors_for
from models.twolvlImp.schemas import (
    FeatureImportancePie,
    IndicatorJson,
    Interpolator,
    Method,
    Model,
    Prediction,
    PredictRequest,
    PredictResponse,
    Scheme,
    SplitFrame,
)
from models.twolvlImp.year_caches import imputed_year, predictor_columns

MEMO = model_name(__name__)  # this model's namespace in the store's memo

# Seconds a request of each scheme takes on the reference machine with 10 trees and the KNN imputer
# (see the README's benchmark); `estimate_seconds` scales them.
BASE_SECONDS = {
    Method.history: {Scheme.MANUAL: 0.2, Scheme.PCA: 0.3, Scheme.AFS: 0.5},
    Method.cross_section: {Scheme.MANUAL: 0.5, Scheme.PCA: 0.6, Scheme.AFS: 22.0},
}
# The iterative imputer: per request for the year-by-year method; for the history method, once
# per year (the whole year's matrix, reused by later requests): the figure is that first request,
# which may also impute the neighbouring years it learns from (`history_method.NEIGHBOURING_YEARS`;
# only when some SIDS has no usable history, but an estimate made before training cannot know).
ITERATIVE_IMPUTER_SECONDS = {
    Method.history: 30.0 * (1 + 2 * history_method.NEIGHBOURING_YEARS),
    Method.cross_section: 15.0,
}
COMPANIONS = 3  # indicators the history correction follows through the gap


def impute(store: IndicatorStore, request: PredictRequest, n_jobs: int = 1) -> PredictResponse:
    """Estimate the SIDS gaps of the requested target (the request was checked beforehand)."""
    if request.method == Method.cross_section:
        return _impute_year_by_year(store, request, n_jobs)
    return _impute_with_history(store, request, n_jobs)


def _impute_year_by_year(
    store: IndicatorStore, request: PredictRequest, n_jobs: int
) -> PredictResponse:
    """The original method: the year's cross-section only, everything fitted per request."""
    year = request.target_year
    matrix = store.year_matrix(year)
    sids_mask = store.sids_mask
    data = cross_section.split_training_data(
        matrix, request.target, predictors_for(store, year, request.target), sids_mask
    )
    features, to_predict = cross_section.fill_predictor_gaps(
        data.features, data.to_predict, request.interpolator
    )
    chosen = cross_section.select_features(
        features,
        data.target,
        request.scheme,
        request.number_predictor,
        request.manual_predictors,
        n_jobs,
        fast=False,
    )
    training_sids = sids_mask[matrix.index.get_indexer(features.index)]
    estimate = cross_section.fit_and_predict(
        features[chosen],
        data.target,
        to_predict[chosen],
        cross_section.sample_weights(features.index, training_sids),
        model=request.model,
        estimators=request.estimators,
        interval=request.interval,
        n_jobs=n_jobs,
    )
    observed_sids = matrix.loc[sids_mask, request.target].dropna()
    return _response(store, year, observed_sids, estimate, features[chosen], data.target)


def _impute_with_history(
    store: IndicatorStore, request: PredictRequest, n_jobs: int
) -> PredictResponse:
    """The history method on the year's cached imputed predictors (see `history_method`)."""
    year, position = request.target_year, store.year_index(request.target_year)
    target_series = _country_series(store, [request.target])[:, :, 0]
    has_target = np.isfinite(target_series[:, position])
    filled = imputed_year(store, year, request.interpolator)
    chosen = _chosen_predictors(store, request, filled, has_target, target_series, n_jobs)
    pool = (
        chosen if request.scheme == Scheme.MANUAL else predictors_for(store, year, request.target)
    )
    companions = _companions(store, year, request.target, list(pool))
    problem = history_method.HistoryProblem(
        countries=store.countries,
        sids_mask=store.sids_mask,
        year_position=position,
        target_series=target_series,
        predictors=filled[chosen],
        predictor_series=_country_series(store, chosen),
        target=request.target,
        companions=companions,
        companion_series=_country_series(store, companions),
        neighbouring_years=partial(_neighbouring_years, store, year, request.interpolator, chosen),
    )
    estimate = history_method.estimate(
        problem,
        model=request.model,
        estimators=request.estimators,
        interval=request.interval,
        n_jobs=n_jobs,
    )
    target = pd.Series(target_series[has_target, position], index=store.countries[has_target])
    observed_sids = target[store.sids_mask[has_target]]
    return _response(store, year, observed_sids, estimate, filled.loc[has_target, chosen], target)


def _neighbouring_years(
    store: IndicatorStore, year: int, interpolator: Interpolator, chosen: list[str]
) -> tuple[tuple[int, pd.DataFrame], ...]:
    """The chosen predictors, gaps filled, in the years next to the target year that have them
    all as predictor columns (`history_method.NEIGHBOURING_YEARS` each side)."""
    position = store.year_index(year)
    reach = history_method.NEIGHBOURING_YEARS
    years = []
    for other in range(max(position - reach, 0), min(position + reach + 1, len(store.years))):
        other_year = store.years[other]
        if other != position and set(chosen) <= set(predictor_columns(store, other_year)):
            years.append((other, imputed_year(store, other_year, interpolator)[chosen]))
    return tuple(years)


def _country_series(
    store: IndicatorStore, codes: list[str], countries: np.ndarray | None = None
) -> np.ndarray:
    """countries x years x indicators: the raw values of the given indicators, of the countries
    the `countries` mask selects (all without one)."""
    indicators = store.indicators.get_indexer(pd.Index(codes))
    if countries is None:
        return store.values[:, :, indicators].transpose(1, 0, 2)
    # One gather of only the cells asked for: a pool can be hundreds of indicators.
    years = np.arange(store.values.shape[0])
    return store.values[np.ix_(years, np.flatnonzero(countries), indicators)].transpose(1, 0, 2)


def _companions(store: IndicatorStore, year: int, target: str, pool: list[str]) -> list[str]:
    """Up to COMPANIONS indicators of `pool` that, followed through a hidden year, best guide the
    target's countries from their neighbouring years to the year (`history.companion_scores`;
    memoised per year, target and pool)."""

    def compute() -> list[str]:
        position = store.year_index(year)
        series = _country_series(store, [target])[:, :, 0]
        train = np.isfinite(series[:, position])
        ones = np.ones(int(train.sum()), dtype=int)
        anchors = history.find_anchors(np.isfinite(series[train]), position, ones, ones)
        weights = cross_section.sample_weights(store.countries[train], store.sids_mask[train])
        pool_series = _country_series(store, pool, train)
        scores = history.companion_scores(series[train], pool_series, anchors, weights)
        order = [k for k in np.argsort(scores, kind="stable") if scores[k] < 1][:COMPANIONS]
        return [pool[k] for k in order]

    return store.memo((MEMO, "companions", year, target, tuple(pool)), compute)


def _chosen_predictors(
    store: IndicatorStore,
    request: PredictRequest,
    filled: pd.DataFrame,
    has_target: np.ndarray,
    target_series: np.ndarray,
    n_jobs: int,
) -> list[str]:
    """The scheme's predictors, chosen on the training countries (memoised: the choice depends on
    the data, the target, the year, the imputer, the scheme and the count only)."""
    if request.scheme == Scheme.MANUAL:
        return list(request.manual_predictors or [])
    year = request.target_year

    def compute() -> list[str]:
        scale = calibration.TargetScale.fit(target_series)
        candidates = predictors_for(store, year, request.target)
        target = scale.forward(target_series[has_target, store.year_index(year)])
        return cross_section.select_features(
            filled.loc[has_target, candidates],
            pd.Series(target, index=store.countries[has_target]),
            request.scheme,
            request.number_predictor,
            None,
            n_jobs,
        )

    key = (
        MEMO, "selection", year, request.target, request.interpolator.value,
        request.scheme.value, request.number_predictor,
    )  # fmt: skip
    return store.memo(key, compute)


def _response(
    store: IndicatorStore,
    year: int,
    observed_sids: pd.Series,
    estimate: cross_section.Estimate,
    chosen_features: pd.DataFrame,
    target: pd.Series,
) -> PredictResponse:
    """Both views of one result: the front end's top-level fields and `indicatorJson`, built
    from the same dictionaries so that they carry the same numbers."""
    key = str(year)
    importances = _floats(estimate.feature_importances)
    categories = store.indicator_meta.loc[list(importances), "Category"]
    category_importances = pd.Series(importances).groupby(categories.to_numpy()).sum()
    categories_summed = _floats(category_importances)
    predicted, lower, upper = (
        _floats(series) for series in (estimate.prediction, estimate.lower, estimate.upper)
    )
    estimated = sorted(set(predicted) & set(lower) & set(upper))
    predicted, lower, upper = (
        {code: d[code] for code in estimated} for d in (predicted, lower, upper)
    )
    correlation = _correlation(chosen_features)
    relative = cross_section.relative_rmse(estimate.rmse, target)
    return PredictResponse(
        model_feature_names=list(importances),
        model_feature_importance=list(importances.values()),
        feature_importance_pie=FeatureImportancePie(
            category=list(categories_summed), value=list(categories_summed.values())
        ),
        correlation=correlation,
        prediction=Prediction(
            country_code=estimated,
            prediction=list(predicted.values()),
            lower=list(lower.values()),
            upper=list(upper.values()),
        ),
        rmse=estimate.rmse,
        rmse_deviation=relative,
        indicatorJson=IndicatorJson(
            data={key: dict(sorted({**_floats(observed_sids), **predicted}.items()))},
            upperIntervals={key: upper},
            lowerIntervals={key: lower},
            featureImportances={key: importances},
            categoryImportances={key: categories_summed},
            correlation={key: correlation},
            rmse={key: estimate.rmse},
            rmse_deviation={key: relative},
        ),
        dataset_version=store.version,
    )


def _floats(series: pd.Series) -> dict[str, float]:
    return {str(key): float(value) for key, value in series.items() if np.isfinite(value)}


def _correlation(features: pd.DataFrame) -> SplitFrame:
    """Pearson correlations in pandas' split orient; undefined ones (constant columns) are null."""
    split = features.corr().to_dict(orient="split")
    data = [[None if math.isnan(v) else v for v in row] for row in split["data"]]
    return SplitFrame(index=split["index"], columns=split["columns"], data=data)


def estimate_seconds(request: PredictRequest) -> float:
    """A rough duration of a predict request, for the front end's progress display."""
    seconds = BASE_SECONDS[request.method][request.scheme] * max(request.estimators / 10, 1)
    if request.model == Model.all:
        seconds *= 3
    if request.interpolator == Interpolator.IterativeImputer:
        seconds += ITERATIVE_IMPUTER_SECONDS[request.method]
    return round(seconds, 1)
