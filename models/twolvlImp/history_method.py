"""The history method: the cross-country model of the year, corrected by each country's history.

Stage A (cross-section) regresses the target on the chosen predictors of the year, as the
year-by-year method does (its trees alone or on the residuals of a linear model, whichever
cross-validates better: `linear_trees`), and its cross-validated predictions are kept. Stage B
(history) starts from the country's own series: the straight line between its nearest values
before and after the year (or the nearest value when only one side has one), and learns the
correction to that line from the gap's length, the local trends, how the predictors moved over
the same years and the cross-section's estimate. It is trained on the countries that have the
target in the year, each shown with the same years hidden as a country being filled
(`history.find_anchors`), and cross-validated by country.

A SIDS with values of the target in other years gets the stage B estimate, one without gets the
stage A one. For those rows stage A may also learn from the years next to the target year
(`NEIGHBOURING_YEARS`): the same search on the year's training rows plus every country observed in
a neighbouring year (but the countries being filled), each row with its own year's predictors. It
is used when it cross-validates better on the year's training countries (same folds: a country
keeps its fold in every year), and its model is then those cross-validation forests, not a refit
on every row (`_with_neighbouring_years`). A target measured for few countries gets more rows, and
a country measured only around the year still teaches the model (the accuracy benchmark's whole
series).

Intervals are split-conformal on the cross-validated residuals of the same stage (and, for stage
B, of the same gap pattern), weighted like the training (SIDS and other countries weigh the same);
see `calibration`. Targets with a skewed distribution are modelled on an asinh scale
(`calibration.TargetScale`).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import RegressorMixin, clone
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

from common.core.cancellation import checkpoint
from models.twolvlImp import calibration, cross_section, history
from models.twolvlImp.cross_section import INTERVAL_ALPHA, SEED, Estimate
from models.twolvlImp.linear_trees import LinearPlusTrees
from models.twolvlImp.schemas import Interval, Model

# The cross-section search: each regressor with a few settings, alone and on the residuals of a
# ridge regression (`linear_trees`); a smaller grid than the year-by-year method's. The candidate
# with the lowest cross-validated median error wins: the benchmark scores the median, and one
# heavy-tailed country should not decide the model of all the others.
CROSS_SECTION_GRID: dict[Model, list[dict[str, int]]] = {
    Model.rfr: [{"min_samples_leaf": 1}, {"min_samples_leaf": 3}],
    Model.etr: [{"min_samples_leaf": 1}, {"min_samples_leaf": 3}],
    Model.gbr: [{"max_depth": 3}, {"max_depth": 5}],
}
UNDER_LINEAR: dict[Model, dict[str, int]] = {  # the trees' settings under the linear part
    Model.rfr: {"min_samples_leaf": 3},
    Model.etr: {"min_samples_leaf": 3},
    Model.gbr: {"max_depth": 3},
}
# Trees of each cross-validation fold's forest: the folds only have to rank the candidates and
# give each training row an out-of-fold estimate, and with many trees they were most of a
# request's time (5 folds per candidate). The final model keeps every tree the request asks for
# (but the pooled stage A's, which is its fold forests: `_with_neighbouring_years`); up to this
# count nothing changes. The accuracy holdouts at 100 trees show no measurable price
# (docs/benchmarks.md: pooled median errors 0.98x inner, 0.97x whole against every fold at 100).
FOLD_TREES = 10
NEIGHBOURING_YEARS = 1  # years each side of the target year whose rows stage A may add

HISTORY_MIN_LEAF = 5  # the history correction averages at least this many training rows
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # how much of the learnt correction is applied
MIN_CALIBRATION_ROWS = 20  # fewer training rows for a gap pattern: fall back to the cross-section
DIFFICULTY_FLOOR = 0.02  # in units of the target's spread: a perfectly straight series still errs
CROSS_SECTION = "cross-section estimate against the baseline"
ROUGHNESS = "roughness of the series"
GUIDED_BY = "guided by "
CHANGE_OF = "change of "


# (year position, countries x chosen predictors with gaps filled) of the years next to the target
# year: a call, made only when stage A may learn from them (rows without usable history), since
# imputing a year costs up to tens of seconds the first time (the IterativeImputer).
NeighbouringYears = Callable[[], tuple[tuple[int, pd.DataFrame], ...]]


def no_neighbouring_years() -> tuple[tuple[int, pd.DataFrame], ...]:
    return ()


@dataclass(frozen=True)
class HistoryProblem:
    """One target and year, every country as a row."""

    countries: pd.Index
    sids_mask: np.ndarray
    year_position: int  # where the target year is among the series' years
    target_series: np.ndarray  # countries x years, the target's raw values (NaN: missing)
    predictors: pd.DataFrame  # countries x chosen predictors in the year, gaps filled
    predictor_series: np.ndarray  # countries x years x chosen predictors, raw values
    target: str  # the target's code: the history features' importance is reported under it
    companions: list[str]  # indicators that move with the target over time (`history.guided`)
    companion_series: np.ndarray  # countries x years x companions, raw values
    neighbouring_years: NeighbouringYears = no_neighbouring_years


@dataclass(frozen=True)
class _Fit:
    """A cross-validated model: the one fitted on every row, then the cross-validation models
    (or only these: `refitted` False, the pooled stage A).

    Estimates average all of them: the cross-validation models are trained anyway, and averaging
    them steadies a small forest's answer."""

    members: list[RegressorMixin]
    model: Model
    out_of_fold: np.ndarray  # cross-validated predictions of the training rows
    spread: np.ndarray  # and the spread of the trees' predictions behind them
    refitted: bool = True  # members[0] is (once `estimate` refits it) fitted on every row

    @property
    def regressor(self) -> RegressorMixin:
        assert self.refitted, "a fit of cross-validation models only has no full model"
        return self.members[0]

    def importances(self) -> np.ndarray:
        """The full model's importances; without one, the mean of the cross-validation models'."""
        if self.refitted:
            return _importances(self.members[0])
        return np.mean([_importances(member) for member in self.members], axis=0)


def estimate(
    problem: HistoryProblem, *, model: Model, estimators: int, interval: Interval, n_jobs: int
) -> Estimate:
    """Estimates with 90% intervals for the SIDS lacking the target in the year."""
    scale = calibration.TargetScale.fit(problem.target_series)
    series = scale.forward(problem.target_series)
    observed = np.isfinite(series)
    train = observed[:, problem.year_position]
    to_fill = problem.sids_mask & ~train
    weights = cross_section.sample_weights(problem.countries[train], problem.sids_mask[train])
    folds = _country_folds(int(train.sum()))
    z = series[train, problem.year_position]
    features = problem.predictors.to_numpy()
    # The year's best candidate is refitted on every row only if it is stage A's model in the
    # end; the best trees alone always are: stage B reads their estimate (`_history_stage`).
    cross, trees = _best_candidates(features[train], z, weights, folds, model, estimators, n_jobs)
    trees.regressor.fit(features[train], z, sample_weight=weights)
    trees_filled, trees_spread = _predict(trees.members, features[to_fill])
    training = _Training(series, train, weights, folds, scale)
    corrected = _history_stage(
        problem, training, to_fill, trees, trees_filled,
        estimators=estimators, interval=interval, n_jobs=n_jobs,
    )  # fmt: skip
    left_to_stage_a = corrected is None or len(corrected.rows) < len(trees_filled)
    pooled = (
        _with_neighbouring_years(
            problem, training, to_fill, cross, model=model, estimators=estimators, n_jobs=n_jobs
        )
        if left_to_stage_a
        else None
    )
    if pooled is not None:
        stage_a = pooled
    elif cross is trees:
        stage_a = _StageA(trees, trees_filled, trees_spread)
    else:
        cross.regressor.fit(features[train], z, sample_weight=weights)
        stage_a = _StageA(cross, *_predict(cross.members, features[to_fill]))
    z_filled = stage_a.filled.copy()
    difficulty, filled_difficulty = _spread_difficulty(
        stage_a.fit.spread, stage_a.filled_spread, interval
    )
    half_width = filled_difficulty * calibration.conformal_multiplier(
        z - stage_a.fit.out_of_fold, difficulty, weights, INTERVAL_ALPHA
    )
    cross_mse = _mse_original(scale, z, stage_a.fit.out_of_fold, weights)
    mse_original = np.full(len(z_filled), cross_mse)
    importances = pd.Series(stage_a.fit.importances(), index=problem.predictors.columns)
    if corrected is not None:
        z_filled[corrected.rows] = corrected.estimates
        half_width[corrected.rows] = corrected.half_widths
        mse_original[corrected.rows] = corrected.mses
        share = len(corrected.rows) / max(len(z_filled), 1)
        importances = (importances * (1 - share)).add(corrected.importances * share, fill_value=0)
    index = problem.countries[to_fill]
    # Nothing beyond the values the indicator has ever taken: a volatile series or a skewed
    # scale would otherwise stretch an interval to absurd values (or below 0 for a count).
    low, high = np.nanmin(problem.target_series), np.nanmax(problem.target_series)
    prediction = np.clip(scale.inverse(z_filled), low, high)
    lower = np.clip(scale.inverse(z_filled - half_width), low, prediction)
    upper = np.clip(scale.inverse(z_filled + half_width), prediction, high)
    # The expected error of these estimates: each row's stage (and gap pattern) error.
    rmse = float(np.sqrt(mse_original.mean() if len(mse_original) else cross_mse))
    return Estimate(
        prediction=pd.Series(prediction, index=index),
        lower=pd.Series(lower, index=index),
        upper=pd.Series(upper, index=index),
        rmse=rmse,
        feature_importances=importances / importances.sum() if importances.sum() else importances,
    )


def _spread_difficulty(
    spread: np.ndarray, filled_spread: np.ndarray, interval: Interval
) -> tuple[np.ndarray, np.ndarray]:
    """Stage A's difficulty of the training rows and of the rows to fill: for `quantile`, the
    trees' spread plus its median (rows the trees agree on still err); 1 for `bootstrap`."""
    floor = float(np.median(spread)) if len(spread) else 0.0
    if interval != Interval.quantile or floor <= 0:
        return np.ones_like(spread), np.ones_like(filled_spread)
    return spread + floor, filled_spread + floor


def _country_folds(count: int) -> np.ndarray:
    """A seeded fold number for each of `count` countries."""
    folds = min(cross_section.CV_FOLDS, count)
    order = np.random.default_rng(SEED).permutation(count)
    assigned = np.empty(count, dtype=int)
    assigned[order] = np.arange(count) % folds
    return assigned


def _cross_validate(
    regressor: RegressorMixin,
    features: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray,
    folds: np.ndarray,
    n_jobs: int,
) -> tuple[np.ndarray, np.ndarray, list[RegressorMixin]]:
    """Out-of-fold predictions, their spreads (`_predict`) and the fold models (folds fitted in
    parallel with n_jobs)."""

    fold_model = _with_fold_trees(regressor)

    def fold(number: int) -> tuple[np.ndarray, RegressorMixin]:
        checkpoint()
        held_out = folds == number
        fitted = clone(fold_model).fit(
            features[~held_out], target[~held_out], sample_weight=weights[~held_out]
        )
        return held_out, fitted

    predicted, spread = np.empty(len(target)), np.empty(len(target))
    members = []
    for held_out, fitted in Parallel(n_jobs=n_jobs)(
        delayed(fold)(number) for number in np.unique(folds)
    ):
        predicted[held_out], spread[held_out] = _predict([fitted], features[held_out])
        members.append(fitted)
    return predicted, spread, members


def _with_fold_trees(regressor: RegressorMixin) -> RegressorMixin:
    """An unfitted copy of `regressor` with at most FOLD_TREES trees (forests, alone or under a
    linear part; boosting keeps its stages: fewer of them would be a different model)."""
    model = clone(regressor)
    if isinstance(model, LinearPlusTrees):
        model.set_params(trees=_with_fold_trees(model.trees))
    elif isinstance(model, RandomForestRegressor | ExtraTreesRegressor):
        model.set_params(n_estimators=min(model.n_estimators, FOLD_TREES))
    return model


def _predict(members: list[RegressorMixin], features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean prediction of the members' trees (forests) or of the members (boosting), and the
    standard deviation around it."""
    if not len(features):
        return np.empty(0), np.empty(0)
    stacked = np.stack(
        [prediction for member in members for prediction in _member_predictions(member, features)]
    )
    return stacked.mean(axis=0), stacked.std(axis=0)


def _member_predictions(member: RegressorMixin, features: np.ndarray) -> list[np.ndarray]:
    """A forest's trees' predictions, a linear part plus each of its trees', or the one
    prediction of a boosting model."""
    if isinstance(member, LinearPlusTrees):
        linear = member.linear_part(features)
        return [linear + part for part in _member_predictions(member.trees_, features)]
    if isinstance(member, RandomForestRegressor | ExtraTreesRegressor):
        return cross_section.tree_predictions(member, features)
    return [member.predict(features)]


def _best_candidates(
    features: np.ndarray,
    target: np.ndarray,
    weights: np.ndarray,
    folds: np.ndarray,
    model: Model,
    estimators: int,
    n_jobs: int,
) -> tuple[_Fit, _Fit]:
    """The candidates with the lowest weighted cross-validated median absolute error: the best
    of all and the best of the trees alone (the same fit when the trees win), not yet refitted
    on every row (`estimate` refits the ones it uses); the cross-validation models stay members
    of each ensemble."""
    best: dict[bool, tuple[float, _Fit]] = {}
    for candidate, regressor in _cross_section_candidates(model, estimators):
        checkpoint()
        predicted, spread, members = _cross_validate(
            regressor, features, target, weights, folds, n_jobs
        )
        score = calibration.weighted_quantile(np.abs(target - predicted), weights, 0.5)
        linear = isinstance(regressor, LinearPlusTrees)
        if linear not in best or score < best[linear][0]:
            best[linear] = (score, _Fit([regressor, *members], candidate, predicted, spread))
    overall = min(best.values(), key=lambda scored: scored[0])[1]  # a tie goes to the trees
    return overall, best[False][1]


def _cross_section_candidates(model: Model, estimators: int) -> list[tuple[Model, RegressorMixin]]:
    """(kind, unfitted regressor) for each setting of the request's regressor(s), alone and
    under a linear part."""
    candidates: list[tuple[Model, RegressorMixin]] = []
    for kind in cross_section.candidates(model):
        for params in CROSS_SECTION_GRID[kind]:
            candidates.append((kind, cross_section.make_regressor(kind, estimators, **params)))
        trees = cross_section.make_regressor(kind, estimators, **UNDER_LINEAR[kind])
        candidates.append((kind, LinearPlusTrees(trees)))
    return candidates


def _mse_original(
    scale: calibration.TargetScale, z: np.ndarray, predicted: np.ndarray, weights: np.ndarray
) -> float:
    errors = scale.inverse(z) - scale.inverse(predicted)
    return float(np.average(errors**2, weights=weights))


def _importances(regressor: RegressorMixin) -> np.ndarray:
    return np.asarray(regressor.feature_importances_, dtype=float)


def _spread(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return 1.0
    q1, q3 = np.quantile(values, [0.25, 0.75])
    spread = float(q3 - q1) if q3 > q1 else float(np.std(values))
    return spread if spread > 0 else 1.0


@dataclass(frozen=True)
class _Scales:
    """What history rows are measured against: the target's spread and median across the
    training countries in the year, each predictor's spread, and the roughness assumed for a
    series too short to show its own."""

    spread: float
    centre: float
    predictor_spread: np.ndarray
    roughness: float


@dataclass(frozen=True)
class _Rows:
    """Rows of stage B: their features, the baseline they correct and their difficulty."""

    features: np.ndarray
    base: np.ndarray
    difficulty: np.ndarray


@dataclass(frozen=True)
class _Block:
    """The training countries shown with one gap pattern hidden (the rows with any history)."""

    pattern: tuple[int, int]
    rows: np.ndarray  # positions among the training countries
    data: _Rows


@dataclass(frozen=True)
class _Training:
    """The target on the model scale and the training countries of stage A, which stage B
    learns from too."""

    series: np.ndarray  # countries x years, the target on the model scale (NaN: missing)
    train: np.ndarray  # the countries observed in the year
    weights: np.ndarray  # of the training countries
    folds: np.ndarray  # cross-validation fold of each training country
    scale: calibration.TargetScale


@dataclass(frozen=True)
class _Gaps:
    """The rows to fill, seen through their nearest observations: the gap pattern of each."""

    anchors: history.Anchors
    patterns: np.ndarray  # (hide_before, hide_after) of each row to fill

    def with_history(self) -> list[tuple[int, int]]:
        """The patterns of the rows that have history, each once, sorted."""
        return sorted({tuple(p) for p in self.patterns[self.anchors.has_history].tolist()})

    def members(self, pattern: tuple[int, int]) -> np.ndarray:
        """Positions (among the rows to fill) of the rows with history showing `pattern`."""
        return np.flatnonzero(self.anchors.has_history & (self.patterns == pattern).all(axis=1))


@dataclass(frozen=True)
class _Correction:
    """Stage B's learnt correction of the baseline, in target spreads, on the training blocks'
    rows (stacked block after block)."""

    models: list[RegressorMixin]  # the one fitted on every row, then the cross-validation ones
    blend: float  # how much of the correction is applied (0: the baseline alone)
    truth: np.ndarray
    fitted: np.ndarray  # the blended estimates of the training rows, cross-validated
    original_errors: np.ndarray  # their errors on the original scale
    weights: np.ndarray


@dataclass(frozen=True)
class _HistoryEstimates:
    """Stage B's answer for the rows to fill that have history."""

    rows: np.ndarray  # positions among the rows to fill
    estimates: np.ndarray  # on the model scale
    half_widths: np.ndarray  # on the model scale
    mses: np.ndarray  # expected squared errors on the original scale
    importances: pd.Series  # by indicator


@dataclass(frozen=True)
class _StageA:
    """A stage A model and its estimates of the rows to fill (model scale) with their spreads."""

    fit: _Fit  # out_of_fold and spread: of the target year's training countries
    filled: np.ndarray
    filled_spread: np.ndarray


def _with_neighbouring_years(
    problem: HistoryProblem,
    training: _Training,
    to_fill: np.ndarray,
    year_best: _Fit,
    *,
    model: Model,
    estimators: int,
    n_jobs: int,
) -> _StageA | None:
    """Stage A searched on the year and its neighbouring years, if its winner cross-validates
    better on the year's training countries than `year_best` (the year's own winner); None
    otherwise.

    Its model is the winner's cross-validation models alone, not refitted on every row: each
    leaves a fifth of the countries out (all their years), unlike one forest on every row, whose
    bootstrap draws a country's rows of several years at once. On the holdouts they are no worse
    on any whole series and lower on some (docs/benchmarks.md: paired ratios 0.98 at 10 trees,
    0.93 at 100), for a full fit on three years' rows less per request."""
    rows = _pooled_rows(problem, training, to_fill)
    if rows is None:
        return None
    features, target, weights, folds = rows
    pooled, _ = _best_candidates(features, target, weights, folds, model, estimators, n_jobs)
    # The year's training countries come first: their out-of-fold estimates are comparable.
    year_part = slice(0, int(training.train.sum()))
    truth = training.series[training.train, problem.year_position]

    def score(estimates: np.ndarray) -> float:
        return calibration.weighted_quantile(np.abs(truth - estimates), training.weights, 0.5)

    if score(pooled.out_of_fold[year_part]) >= score(year_best.out_of_fold):
        return None
    fit = _Fit(
        pooled.members[1:],  # the cross-validation models, without the unfitted full model
        pooled.model,
        pooled.out_of_fold[year_part],
        pooled.spread[year_part],
        refitted=False,
    )
    filled, filled_spread = _predict(fit.members, problem.predictors.to_numpy()[to_fill])
    return _StageA(fit, filled, filled_spread)


def _pooled_rows(
    problem: HistoryProblem, training: _Training, to_fill: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Features, target, weights and folds of the year's training countries, then of each
    neighbouring year's observed countries (None without any).

    A country's rows weigh what it weighs in the year (`_country_weights`) and keep its fold. The
    countries being filled are left out of every year: as SIDS they would weigh much, and their
    own other years are stage B's to use."""
    weights = _country_weights(problem, training)
    folds = _country_folds(len(problem.countries))
    folds[training.train] = training.folds
    year = problem.year_position
    features = [problem.predictors.to_numpy()[training.train]]
    targets = [training.series[training.train, year]]
    weight_parts, fold_parts = [training.weights], [training.folds]
    for position, predictors in problem.neighbouring_years():
        rows = np.isfinite(training.series[:, position]) & ~to_fill
        if not rows.any():
            continue
        features.append(predictors.to_numpy()[rows])
        targets.append(training.series[rows, position])
        weight_parts.append(weights[rows])
        fold_parts.append(folds[rows])
    if len(features) == 1:
        return None
    return (
        np.vstack(features),
        np.concatenate(targets),
        np.concatenate(weight_parts),
        np.concatenate(fold_parts),
    )


def _country_weights(problem: HistoryProblem, training: _Training) -> np.ndarray:
    """Every country's training weight in the year: what a SIDS or another country weighs among
    the year's training countries (each group's weight is one value: `sample_weights`)."""
    training_sids = problem.sids_mask[training.train]
    sids_weight = training.weights[training_sids].max(initial=0.0)
    other_weight = training.weights[~training_sids].max(initial=0.0)
    return np.where(problem.sids_mask, sids_weight, other_weight)


def _history_stage(
    problem: HistoryProblem,
    training: _Training,
    to_fill: np.ndarray,
    cross: _Fit,
    cross_filled: np.ndarray,
    *,
    estimators: int,
    interval: Interval,
    n_jobs: int,
) -> _HistoryEstimates | None:
    """Stage B for the rows to fill that have history; None when none has usable history."""
    gaps = _gaps(problem, training.series, to_fill)
    scales = _scales(problem, training.series, training.train)
    blocks = [
        block
        for pattern in gaps.with_history()
        if (block := _training_block(problem, training, cross, scales, pattern)) is not None
    ]
    if not blocks:
        return None
    correction = _learn_correction(problem, training, blocks, cross, scales, estimators, n_jobs)
    series, observed = training.series[to_fill], np.isfinite(training.series[to_fill])
    ones = np.ones(int(to_fill.sum()), dtype=int)
    fill = _history_rows(
        series, observed, gaps.anchors, ones, ones, cross_filled,
        problem.predictor_series[to_fill], problem.predictors.to_numpy()[to_fill],
        problem.companion_series[to_fill], scales,
    )  # fmt: skip
    return _apply_correction(problem, blocks, gaps, fill, correction, scales, interval, cross)


def _gaps(problem: HistoryProblem, series: np.ndarray, to_fill: np.ndarray) -> _Gaps:
    """The rows to fill through their nearest observations, with only the year itself hidden."""
    ones = np.ones(int(to_fill.sum()), dtype=int)
    observed = np.isfinite(series)
    anchors = history.find_anchors(observed[to_fill], problem.year_position, ones, ones)
    return _Gaps(anchors, np.stack(anchors.hidden_window(), axis=1))


def _learn_correction(
    problem: HistoryProblem,
    training: _Training,
    blocks: list[_Block],
    cross: _Fit,
    scales: _Scales,
    estimators: int,
    n_jobs: int,
) -> _Correction:
    """Cross-validate the correction of the baseline on every block's rows, and apply as much of
    it as helps the cross-validated median error."""
    rows = np.concatenate([block.rows for block in blocks])
    base = np.concatenate([block.data.base for block in blocks])
    features = np.vstack([block.data.features for block in blocks])
    truth = training.series[training.train, problem.year_position][rows]
    residual = (truth - base) / scales.spread
    row_weights = training.weights[rows] / len(blocks)
    # The correction is a forest of at most FOLD_TREES trees too: its stacked rows make its trees
    # the costliest of a request, and at 100 trees the holdouts showed no gain from more.
    model = _with_fold_trees(
        cross_section.make_regressor(cross.model, estimators, min_samples_leaf=HISTORY_MIN_LEAF)
    )
    correction, _, members = _cross_validate(
        model, features, residual, row_weights, training.folds[rows], n_jobs
    )
    blend = min(
        BLEND_WEIGHTS,
        key=lambda w: calibration.weighted_quantile(
            np.abs(residual - w * correction), row_weights, 0.5
        ),
    )
    if blend > 0:
        model.fit(features, residual, sample_weight=row_weights)
    fitted = base + blend * correction * scales.spread
    original_errors = training.scale.inverse(truth) - training.scale.inverse(fitted)
    return _Correction([model, *members], blend, truth, fitted, original_errors, row_weights)


def _apply_correction(
    problem: HistoryProblem,
    blocks: list[_Block],
    gaps: _Gaps,
    fill: _Rows,
    correction: _Correction,
    scales: _Scales,
    interval: Interval,
    cross: _Fit,
) -> _HistoryEstimates:
    """Estimates of the rows to fill, block (gap pattern) by block: the corrected baseline, an
    interval calibrated on the block's training rows, and the block's expected error."""
    positions, estimates, halves, mses = [], [], [], []
    scaled = interval == Interval.quantile
    start = 0
    for block in blocks:
        part = slice(start, start + len(block.rows))
        start += len(block.rows)
        members = gaps.members(block.pattern)
        multiplier = calibration.conformal_multiplier(
            correction.truth[part] - correction.fitted[part],
            block.data.difficulty if scaled else np.ones(len(block.rows)),
            correction.weights[part],
            INTERVAL_ALPHA,
        )
        correction_here = (
            _predict(correction.models, fill.features[members])[0] if correction.blend > 0 else 0.0
        )
        positions.append(members)
        estimates.append(fill.base[members] + correction.blend * correction_here * scales.spread)
        halves.append(multiplier * (fill.difficulty[members] if scaled else np.ones(len(members))))
        mse = np.average(correction.original_errors[part] ** 2, weights=correction.weights[part])
        mses.append(np.full(len(members), mse))
    model = correction.models[0] if correction.blend > 0 else None
    return _HistoryEstimates(
        rows=np.concatenate(positions),
        estimates=np.concatenate(estimates),
        half_widths=np.concatenate(halves),
        mses=np.concatenate(mses),
        importances=_history_importances(model, _history_columns(problem), problem, cross),
    )


def _scales(problem: HistoryProblem, series: np.ndarray, train: np.ndarray) -> _Scales:
    values = series[train, problem.year_position]
    visible = np.isfinite(series[train])
    visible[:, problem.year_position] = False
    roughness = history.roughness(series[train], visible)
    spread = _spread(values)
    return _Scales(
        spread=spread,
        centre=float(np.median(values)),
        predictor_spread=np.array([_spread(c) for c in problem.predictors.to_numpy()[train].T]),
        roughness=float(np.nanmedian(roughness)) / spread if np.isfinite(roughness).any() else 0.0,
    )


def _training_block(
    problem: HistoryProblem,
    training: _Training,
    cross: _Fit,
    scales: _Scales,
    pattern: tuple[int, int],
) -> _Block | None:
    """The training countries with the pattern's years hidden; None if too few have history."""
    series, train = training.series, training.train
    count = int(train.sum())
    before, after = np.full(count, pattern[0]), np.full(count, pattern[1])
    observed = np.isfinite(series[train])
    anchors = history.find_anchors(observed, problem.year_position, before, after)
    rows = np.flatnonzero(anchors.has_history)
    if len(rows) < MIN_CALIBRATION_ROWS:
        return None
    data = _history_rows(
        series[train], observed, anchors, before, after, cross.out_of_fold,
        problem.predictor_series[train], problem.predictors.to_numpy()[train],
        problem.companion_series[train], scales,
    )  # fmt: skip
    return _Block(pattern, rows, _Rows(data.features[rows], data.base[rows], data.difficulty[rows]))


def _history_columns(problem: HistoryProblem) -> list[str]:
    return [
        *history.HISTORY_FEATURES,
        ROUGHNESS,
        CROSS_SECTION,
        *[f"{GUIDED_BY}{code}" for code in problem.companions],
        *[f"{CHANGE_OF}{code}" for code in problem.predictors.columns],
    ]


def _history_rows(
    series: np.ndarray,
    observed: np.ndarray,
    anchors: history.Anchors,
    hide_before: np.ndarray,
    hide_after: np.ndarray,
    cross_estimate: np.ndarray,
    predictor_series: np.ndarray,
    predictors: np.ndarray,
    companion_series: np.ndarray,
    scales: _Scales,
) -> _Rows:
    """Features, baseline and difficulty of rows seen through their anchors (`_history_columns`
    names the features). The difficulty grows with the series' roughness (in target spreads,
    floored) and with the square root of the distance to the nearest value."""
    spread = scales.spread
    base = history.baseline(series, anchors)
    own = history.features(series, anchors, base, spread, scales.centre).to_numpy()
    stacked = np.nan_to_num((cross_estimate - base) / spread)[:, None]
    guided = np.nan_to_num(
        (history.guided(series, companion_series, anchors) - base[:, None]) / spread
    )
    moved = history.changes(predictor_series, predictors, anchors, scales.predictor_spread)
    visible = history.visible_mask(observed, anchors.year, hide_before, hide_after)
    rough = history.roughness(series, visible) / spread
    rough = np.where(np.isfinite(rough), rough, scales.roughness)
    nearest = np.minimum(
        np.where(anchors.previous >= 0, anchors.year - anchors.previous, history.FAR),
        np.where(anchors.following >= 0, anchors.following - anchors.year, history.FAR),
    )
    return _Rows(
        features=np.hstack([own, rough[:, None], stacked, guided, moved]),
        base=base,
        difficulty=(rough + DIFFICULTY_FLOOR) * np.sqrt(np.minimum(nearest, history.MAX_GAP)),
    )


def _history_importances(
    model: RegressorMixin | None, columns: list[str], problem: HistoryProblem, cross: _Fit
) -> pd.Series:
    """Stage B's importances by indicator: history features count for the target itself, the
    cross-section estimate is shared out like stage A's importances, a guided estimate counts for
    its companion and a change for its predictor."""
    predictors = list(problem.predictors.columns)
    result = pd.Series(0.0, index=list(dict.fromkeys([*predictors, *problem.companions])))
    result[problem.target] = 0.0 if model is not None else 1.0
    if model is None:
        return result
    raw = pd.Series(_importances(model), index=columns)
    result[problem.target] += raw[[*history.HISTORY_FEATURES, ROUGHNESS]].sum()
    cross_share = cross.importances()
    if cross_share.sum() > 0:
        result[predictors] += raw[CROSS_SECTION] * cross_share / cross_share.sum()
    for code in problem.companions:
        result[code] += raw[f"{GUIDED_BY}{code}"]
    result[predictors] += raw[[f"{CHANGE_OF}{code}" for code in predictors]].to_numpy()
    return result
