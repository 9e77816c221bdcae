"""The cross-section (year-by-year) method of two-level imputation, and the tools the history
method shares: plain functions over pandas frames, no web types.

Level one fills the gaps in the predictors with a base imputer; level two trains a regressor on
the countries that have the target and predicts it, with a 90% interval, for the SIDS that lack it.
This is the year-by-year method (`method` = `cross_section`) end to end; the history method
(`history_method`) reuses its imputers, feature selection and regressors.
"""

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401 - enables the import below
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from common.core.cancellation import checkpoint
from models.twolvlImp.fast_forest import FastExtraTrees, FastRandomForest
from models.twolvlImp.schemas import Interpolator, Interval, Model, Scheme

SEED = 7
CV_FOLDS = 5
INTERVAL_ALPHA = 0.10  # a 90% prediction interval
BOOTSTRAP_ROUNDS = 200
KNN_NEIGHBOURS = 5
DEPTH_GRID: dict[Model, list[int | None]] = {
    Model.rfr: [5, 10, 20, None],
    Model.etr: [5, 10, 20, None],
    Model.gbr: [3, 5, 10],
}
# The year-by-year method's feature selection, as the original service specified it: recursive
# feature elimination with a default (100-tree) forest, dropping 10 features a round.
REFERENCE_RFE_TREES = 100
REFERENCE_RFE_STEP = 10
# The history method's: the candidates most correlated (Spearman) with the target first, then
# elimination with a small forest dropping 20% a round. The ranking only has to order features,
# and this keeps AFS interactive on ~400 candidates (the accuracy benchmark shows no loss).
RFE_TREES = 30
RFE_STEP = 0.2
PREFILTER_FACTOR = 4  # candidates kept for elimination: this many times the count asked for
PREFILTER_MIN = 30


@dataclass(frozen=True)
class TrainingData:
    """The frames of one imputation problem."""

    features: pd.DataFrame  # training countries x candidate predictors (may have gaps)
    target: pd.Series  # the target for the training countries
    to_predict: pd.DataFrame  # SIDS missing the target x candidate predictors


@dataclass(frozen=True)
class Estimate:
    """Predictions with 90% intervals and what the model learned."""

    prediction: pd.Series
    lower: pd.Series
    upper: pd.Series
    rmse: float
    feature_importances: pd.Series


def split_training_data(
    matrix: pd.DataFrame, target: str, predictors: pd.Index, sids_mask: np.ndarray
) -> TrainingData:
    """Training rows have the target; prediction rows are SIDS that lack it."""
    has_target = matrix[target].notna().to_numpy()
    return TrainingData(
        features=matrix.loc[has_target, predictors],
        target=matrix.loc[has_target, target],
        to_predict=matrix.loc[~has_target & sids_mask, predictors],
    )


def fill_predictor_gaps(
    features: pd.DataFrame, to_predict: pd.DataFrame, interpolator: Interpolator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit the base imputer on the training rows and fill the gaps of both frames."""
    if interpolator == Interpolator.KNNImputer:
        scaler = MinMaxScaler().fit(features)
        imputer = KNNImputer(n_neighbors=KNN_NEIGHBOURS).fit(scaler.transform(features))

        def fill(frame: pd.DataFrame) -> np.ndarray:
            return scaler.inverse_transform(imputer.transform(scaler.transform(frame)))
    else:
        # Writable copies: pandas' copy-on-write hands out read-only arrays, and the iterative
        # imputer writes into its input.
        imputer = _plain_imputer(interpolator).fit(features.to_numpy(copy=True))

        def fill(frame: pd.DataFrame) -> np.ndarray:
            return imputer.transform(frame.to_numpy(copy=True))

    filled = [
        pd.DataFrame(fill(frame) if len(frame) else frame, index=frame.index, columns=frame.columns)
        for frame in (features, to_predict)
    ]
    return filled[0], filled[1]


class _CheckedExtraTrees(FastExtraTrees):
    """Extra trees whose every fit passes a cancellation checkpoint first: the iterative imputer
    fits one per feature and round, so a long imputation stops soon after its clients left."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_CheckedExtraTrees":  # noqa: N803
        checkpoint()
        return super().fit(X, y, sample_weight=sample_weight)


def _plain_imputer(interpolator: Interpolator) -> SimpleImputer | IterativeImputer:
    if interpolator == Interpolator.SimpleImputer:
        return SimpleImputer(strategy="mean", keep_empty_features=True)
    return IterativeImputer(
        estimator=_CheckedExtraTrees(n_estimators=10, random_state=SEED),
        n_nearest_features=50,
        max_iter=5,
        random_state=SEED,
        keep_empty_features=True,
    )


def select_features(
    features: pd.DataFrame,
    target: pd.Series,
    scheme: Scheme,
    count: int | None,
    manual: list[str] | None,
    n_jobs: int,
    *,
    fast: bool = True,
) -> list[str]:
    """The predictors the regressor will use, chosen by the scheme.

    AFS: `fast` eliminates from the best-correlated candidates with a small forest; otherwise
    as the original service did (a 100-tree forest over every candidate, 10 dropped a round).
    """
    if scheme == Scheme.MANUAL:
        return list(manual or [])
    checkpoint()
    assert count is not None, "AFS and PCA need a predictor count"
    count = min(count, features.shape[1])
    if scheme == Scheme.PCA:
        return _pca_features(features, count)
    if not fast:
        return _eliminate(features, target, count, REFERENCE_RFE_TREES, REFERENCE_RFE_STEP, n_jobs)
    keep = max(PREFILTER_FACTOR * count, PREFILTER_MIN)
    if features.shape[1] > keep:
        features = features[_most_correlated(features, target, keep)]
    return _eliminate(features, target, count, RFE_TREES, RFE_STEP, n_jobs)


def _eliminate(
    features: pd.DataFrame, target: pd.Series, count: int, trees: int, step: float, n_jobs: int
) -> list[str]:
    """Recursive feature elimination as scikit-learn's `RFE` does it (the same forests, the same
    ranking, the same columns chosen), without its last fit: `RFE` trains a forest on the chosen
    columns once more, which the service never reads (a fifth of AFS's trees, on its fewest
    columns).

    `step` below 1 is a share of the starting columns dropped each round, otherwise a count."""
    matrix = features.to_numpy(dtype=np.float64)
    values = target.to_numpy(dtype=np.float64)
    dropped_per_round = int(max(1, step * matrix.shape[1])) if 0.0 < step < 1.0 else int(step)
    kept = np.ones(matrix.shape[1], dtype=bool)
    while kept.sum() > count:
        checkpoint()
        columns = np.flatnonzero(kept)
        ranker = FastRandomForest(n_estimators=trees, random_state=SEED, n_jobs=n_jobs)
        ranker.fit(matrix[:, columns], values)
        # RFE ranks the squared importances, stably: ties keep the column order.
        weakest_first = np.argsort(ranker.feature_importances_**2, kind="stable")
        kept[columns[weakest_first][: min(dropped_per_round, int(kept.sum()) - count)]] = False
    return list(features.columns[kept])


def _most_correlated(features: pd.DataFrame, target: pd.Series, count: int) -> list[str]:
    """The `count` columns with the largest absolute Spearman correlation with the target, in
    their original order (constant columns last)."""
    ranks = features.rank().to_numpy()
    target_ranks = target.rank().to_numpy()
    centred = ranks - ranks.mean(axis=0)
    target_centred = target_ranks - target_ranks.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = (
            centred.T
            @ target_centred
            / (np.sqrt((centred**2).sum(axis=0)) * np.sqrt((target_centred**2).sum()))
        )
    strength = np.nan_to_num(np.abs(correlation), nan=-1.0)
    chosen = np.sort(np.argsort(-strength, kind="stable")[:count])
    return list(features.columns[chosen])


def _pca_features(features: pd.DataFrame, count: int) -> list[str]:
    """Round-robin over the leading components, taking each one's largest remaining loading."""
    scaled = StandardScaler().fit_transform(features)
    components = PCA(random_state=SEED).fit(scaled).components_
    chosen: list[int] = []
    by_loading = np.argsort(-np.abs(components), axis=1)
    for rank in range(by_loading.shape[1]):
        for component in by_loading[:, rank]:
            if component not in chosen:
                chosen.append(int(component))
            if len(chosen) == count:
                return list(features.columns[chosen])
    return list(features.columns[chosen])


def sample_weights(index: pd.Index, sids_mask: np.ndarray) -> np.ndarray:
    """SIDS and other countries weighted inversely to their counts: each group weighs the same."""
    sids_count = max(int(sids_mask.sum()), 1)
    other_count = max(len(index) - int(sids_mask.sum()), 1)
    return np.where(sids_mask, 1.0 / sids_count, 1.0 / other_count)


def fit_and_predict(
    features: pd.DataFrame,
    target: pd.Series,
    to_predict: pd.DataFrame,
    weights: np.ndarray,
    *,
    model: Model,
    estimators: int,
    interval: Interval,
    n_jobs: int,
) -> Estimate:
    """Grid-search the regressor(s), predict the gaps and compute 90% intervals."""
    folds = KFold(n_splits=min(CV_FOLDS, len(target)), shuffle=True, random_state=SEED)
    searches = {}
    for candidate in candidates(model):
        checkpoint()
        searches[candidate] = _grid_search(candidate, estimators, n_jobs, folds).fit(
            features, target, sample_weight=weights
        )
    best = max(searches.values(), key=lambda search: search.best_score_)
    regressor: RegressorMixin = best.best_estimator_
    prediction = pd.Series(
        regressor.predict(to_predict) if len(to_predict) else [], index=to_predict.index
    )
    if interval == Interval.bootstrap:
        lower, upper = _bootstrap_interval(regressor, features, target, prediction, folds)
    else:
        lower, upper = _quantile_interval(regressor, best, features, target, to_predict, weights)
    return Estimate(
        prediction=prediction,
        # Quantile models may cross the point estimate; the interval always contains it.
        lower=cast(pd.Series, np.minimum(lower, prediction)),  # a ufunc of Series is a Series
        upper=cast(pd.Series, np.maximum(upper, prediction)),
        rmse=float(np.sqrt(-best.best_score_)),
        feature_importances=pd.Series(regressor.feature_importances_, index=features.columns),
    )


def candidates(model: Model) -> list[Model]:
    """The regressors a request tries: all three for `all`."""
    return [Model.rfr, Model.gbr, Model.etr] if model == Model.all else [model]


def make_regressor(model: Model, estimators: int, **params: int | None) -> RegressorMixin:
    """A seeded regressor of the given kind."""
    if model == Model.gbr:
        return GradientBoostingRegressor(n_estimators=estimators, random_state=SEED, **params)
    # The forests build scikit-learn's trees without its per-tree overhead (fast_forest).
    forest = FastRandomForest if model == Model.rfr else FastExtraTrees
    return forest(n_estimators=estimators, random_state=SEED, **params)


def _grid_search(model: Model, estimators: int, n_jobs: int, folds: KFold) -> GridSearchCV:
    return GridSearchCV(
        make_regressor(model, estimators),
        {"max_depth": DEPTH_GRID[model]},
        cv=folds,
        scoring="neg_mean_squared_error",
        n_jobs=n_jobs,
        refit=True,
    )


def _quantile_interval(
    regressor: RegressorMixin,
    search: GridSearchCV,
    features: pd.DataFrame,
    target: pd.Series,
    to_predict: pd.DataFrame,
    weights: np.ndarray,
) -> tuple[pd.Series, pd.Series]:
    """Forests: the spread of their trees; boosting: 5% and 95% quantile-loss models."""
    if not len(to_predict):
        empty = pd.Series([], index=to_predict.index, dtype=float)
        return empty, empty
    quantiles = [INTERVAL_ALPHA / 2, 1 - INTERVAL_ALPHA / 2]
    if isinstance(regressor, GradientBoostingRegressor):
        bounds = [
            GradientBoostingRegressor(
                loss="quantile", alpha=q, random_state=SEED, **_boosting_params(search)
            )
            .fit(features, target, sample_weight=weights)
            .predict(to_predict)
            for q in quantiles
        ]
    else:
        per_tree = np.stack(tree_predictions(regressor, to_predict.to_numpy()))
        bounds = list(np.quantile(per_tree, quantiles, axis=0))
    index = to_predict.index
    return pd.Series(bounds[0], index=index), pd.Series(bounds[1], index=index)


def tree_predictions(
    forest: RandomForestRegressor | ExtraTreesRegressor, features: np.ndarray
) -> list[np.ndarray]:
    """Each tree's predictions. The features are converted to the trees' float32 once and go
    straight to each fitted tree structure: `tree.predict` would otherwise validate and convert
    them again, and check that the tree is fitted, for every tree (most of its time on these
    small matrices), with the same answers (test_fast_forest pins this)."""
    rows = np.asarray(features, dtype=np.float32)
    return [tree.tree_.predict(rows)[:, 0] for tree in forest.estimators_]


def _boosting_params(search: GridSearchCV) -> dict[str, int | None]:
    return {
        "max_depth": search.best_params_["max_depth"],
        "n_estimators": search.best_estimator_.n_estimators,
    }


def _bootstrap_interval(
    regressor: RegressorMixin,
    features: pd.DataFrame,
    target: pd.Series,
    prediction: pd.Series,
    folds: KFold,
) -> tuple[pd.Series, pd.Series]:
    """Quantiles of bootstrapped cross-validated residuals, added to the prediction."""
    residuals = (target - cross_val_predict(regressor, features, target, cv=folds)).to_numpy()
    rng = np.random.default_rng(SEED)
    resamples = rng.choice(residuals, size=(BOOTSTRAP_ROUNDS, len(residuals)), replace=True)
    low, high = np.quantile(resamples, [INTERVAL_ALPHA / 2, 1 - INTERVAL_ALPHA / 2], axis=1).mean(
        axis=1
    )
    return prediction + low, prediction + high


def relative_rmse(rmse: float, target: pd.Series) -> float:
    """RMSE over the target's mean, or over its range when that ratio falls outside 0..1."""
    mean = float(target.mean())
    ratio = rmse / mean if mean else np.inf
    if 0 <= ratio <= 1:
        return ratio
    spread = float(target.max() - target.min())
    return rmse / spread if spread else 0.0
