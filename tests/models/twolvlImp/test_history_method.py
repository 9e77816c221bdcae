"""The history method (`history_method.estimate`) on a small synthetic panel (countries x years)."""

import dataclasses
from functools import partial

import numpy as np
import pandas as pd
import pytest

from models.twolvlImp import history_method
from models.twolvlImp.schemas import Interval, Model

COUNTRIES, YEARS, YEAR = 150, 9, 4
SIDS = 50
INNER = range(0, 20)  # SIDS missing only the target year
WHOLE = range(20, 30)  # SIDS never measured


def _panel(seed: int = 0) -> tuple[history_method.HistoryProblem, np.ndarray]:
    """Each country's target: a level set by its predictors plus its own trend over the years.

    The cross-section sees the level; only a country's history shows its own offset and trend.
    """
    rng = np.random.default_rng(seed)
    predictors = rng.normal(size=(COUNTRIES, 3))
    offset = rng.normal(scale=1.0, size=COUNTRIES)
    slope = rng.normal(scale=0.3, size=COUNTRIES)
    level = 2 * predictors[:, 0] + predictors[:, 1] + offset
    years = np.arange(YEARS)
    truth = level[:, None] + slope[:, None] * (years - YEAR)
    truth = truth + rng.normal(scale=0.02, size=truth.shape)
    drift = predictors[:, None, :] + 0.01 * years[None, :, None]
    return _problem(truth, predictors, drift), truth[:, YEAR]


def _problem(
    truth: np.ndarray, predictors: np.ndarray, predictor_series: np.ndarray
) -> history_method.HistoryProblem:
    """The problem of a panel (countries x years of the target): the INNER SIDS miss the year,
    the WHOLE SIDS every year; `predictors` are the year's."""
    series = truth.copy()
    series[list(INNER), YEAR] = np.nan
    series[list(WHOLE), :] = np.nan
    countries = pd.Index([f"C{i:03d}" for i in range(COUNTRIES)])
    return history_method.HistoryProblem(
        countries=countries,
        sids_mask=np.arange(COUNTRIES) < SIDS,
        year_position=YEAR,
        target_series=series,
        predictors=pd.DataFrame(predictors, index=countries, columns=["p0", "p1", "p2"]),
        predictor_series=predictor_series,
        target="t",
        companions=[],
        companion_series=np.empty((COUNTRIES, YEARS, 0)),
    )


def _estimate(problem: history_method.HistoryProblem, **change) -> history_method.Estimate:
    options = {"model": Model.rfr, "estimators": 20, "interval": Interval.quantile, "n_jobs": 1}
    return history_method.estimate(problem, **{**options, **change})


@pytest.fixture(scope="module")
def panel() -> tuple[history_method.HistoryProblem, np.ndarray]:
    return _panel()


@pytest.fixture(scope="module")
def result(panel) -> history_method.Estimate:
    return _estimate(panel[0])


def _errors(estimate: history_method.Estimate, truth: np.ndarray, rows: range) -> np.ndarray:
    codes = [f"C{i:03d}" for i in rows]
    return np.abs(estimate.prediction[codes].to_numpy() - truth[list(rows)])


def test_only_sids_missing_the_year_are_estimated(panel, result) -> None:
    expected = {f"C{i:03d}" for i in [*INNER, *WHOLE]}
    assert set(result.prediction.index) == expected
    assert set(result.lower.index) == set(result.upper.index) == expected


def test_history_beats_the_cross_section_inside_a_series(panel, result) -> None:
    problem, truth = panel
    hidden = problem.target_series.copy()
    hidden[list(INNER)] = np.nan  # the same countries, never measured
    without_history = _estimate(dataclasses.replace(problem, target_series=hidden))
    with_history = np.median(_errors(result, truth, INNER))
    cross_section = np.median(_errors(without_history, truth, INNER))
    assert with_history < 0.25 * cross_section
    assert with_history < 0.1  # the offset (sd 1) is recovered from the country's own values


def test_countries_without_history_get_the_cross_section_estimate(panel, result) -> None:
    problem, _ = panel
    hidden = problem.target_series.copy()
    hidden[list(INNER)] = np.nan
    cross_only = _estimate(dataclasses.replace(problem, target_series=hidden))
    whole = [f"C{i:03d}" for i in WHOLE]
    pd.testing.assert_series_equal(result.prediction[whole], cross_only.prediction[whole])
    pd.testing.assert_series_equal(result.upper[whole], cross_only.upper[whole])


@pytest.mark.parametrize("interval", list(Interval))
@pytest.mark.parametrize("model", [Model.rfr, Model.gbr, Model.all])
def test_intervals_contain_estimates_and_mostly_the_truth(panel, model, interval) -> None:
    problem, truth = panel
    estimate = _estimate(problem, model=model, interval=interval, estimators=10)
    assert (estimate.lower <= estimate.prediction).all()
    assert (estimate.prediction <= estimate.upper).all()
    rows = [int(code[1:]) for code in estimate.prediction.index]
    inside = (estimate.lower.to_numpy() <= truth[rows]) & (truth[rows] <= estimate.upper.to_numpy())
    assert inside.mean() >= 0.7
    widths = estimate.upper - estimate.lower
    inner = [f"C{i:03d}" for i in INNER]
    whole = [f"C{i:03d}" for i in WHOLE]
    # Knowing the country's own values narrows its interval.
    assert widths[inner].median() < 0.5 * widths[whole].median()


def test_importances_credit_the_target_history_and_sum_to_one(result) -> None:
    importances = result.feature_importances
    assert set(importances.index) == {"p0", "p1", "p2", "t"}
    assert importances.sum() == pytest.approx(1.0)
    assert importances["t"] > 0.05
    assert importances["p0"] > importances["p2"]


def test_same_problem_gives_the_same_estimate(panel, result) -> None:
    again = _estimate(panel[0])
    pd.testing.assert_series_equal(again.prediction, result.prediction)
    pd.testing.assert_series_equal(again.upper, result.upper)
    assert again.rmse == result.rmse


def test_estimates_stay_within_the_values_the_indicator_took(panel) -> None:
    problem, _ = panel
    counts = np.abs(problem.target_series) * 1000  # non-negative and skewed: an asinh scale
    estimate = _estimate(dataclasses.replace(problem, target_series=counts))
    assert estimate.lower.min() >= np.nanmin(counts)
    assert estimate.upper.max() <= np.nanmax(counts)


def test_nothing_to_fill_is_fine(panel) -> None:
    problem, truth = panel
    full = problem.target_series.copy()
    full[:, YEAR] = truth
    estimate = _estimate(dataclasses.replace(problem, target_series=full))
    assert estimate.prediction.empty and estimate.upper.empty
    assert estimate.rmse > 0


def _forest_sizes(fit) -> list[int]:
    """Trees of each member of a cross-validated fit (under a linear part, its trees')."""
    return [getattr(member, "trees", member).n_estimators for member in fit.members]


@pytest.mark.parametrize("model", [Model.rfr, Model.etr])
def test_cross_validation_folds_have_at_most_fold_trees_and_the_final_model_all(
    panel, model
) -> None:
    problem = panel[0]
    train = np.isfinite(problem.target_series[:, YEAR])
    folds = history_method._country_folds(int(train.sum()))
    features = problem.predictors.to_numpy()[train]
    target = problem.target_series[train, YEAR]
    weights = np.ones(len(target))
    requested = history_method.FOLD_TREES + 15
    fits = history_method._best_candidates(features, target, weights, folds, model, requested, 1)
    for fit in fits:
        assert _forest_sizes(fit) == [requested] + [history_method.FOLD_TREES] * 5
    few = history_method._best_candidates(features, target, weights, folds, model, 7, 1)
    assert _forest_sizes(few[0]) == [7] * 6


def test_the_history_correction_is_a_small_forest(panel, monkeypatch) -> None:
    """Stage B's correction and its folds have at most FOLD_TREES trees, whatever the request's
    count; stage A's candidates keep them all (their folds are capped: the test above)."""
    validated = []
    original = history_method._cross_validate

    def recording(regressor, *args, **kwargs):  # observes the real cross-validations only
        validated.append(regressor)
        return original(regressor, *args, **kwargs)

    monkeypatch.setattr(history_method, "_cross_validate", recording)
    requested = history_method.FOLD_TREES + 30
    _estimate(panel[0], estimators=requested)
    corrections = [model for model in validated if model.get_params().get("min_samples_leaf") == 5]
    assert history_method.HISTORY_MIN_LEAF == 5 and len(corrections) == 1
    assert corrections[0].n_estimators == history_method.FOLD_TREES
    stage_a = [model for model in validated if model not in corrections]
    assert [getattr(m, "trees", m).n_estimators for m in stage_a] == [requested] * len(stage_a)


def _with_neighbours(
    problem: history_method.HistoryProblem, shuffle: bool = False
) -> history_method.HistoryProblem:
    """The problem with the years next to YEAR as neighbouring years (their own predictors, or
    predictors shuffled across countries: rows that teach nothing)."""
    rng = np.random.default_rng(1)
    years = []
    for position in (YEAR - 1, YEAR + 1):
        values = problem.predictor_series[:, position, :]
        values = values[rng.permutation(len(values))] if shuffle else values
        frame = pd.DataFrame(values, index=problem.countries, columns=problem.predictors.columns)
        years.append((position, frame))
    return dataclasses.replace(problem, neighbouring_years=partial(tuple, years))


@pytest.fixture(scope="module")
def few_in_the_year() -> tuple[history_method.HistoryProblem, np.ndarray]:
    """A target set by its predictors alone (no country offsets), measured in the year for the
    SIDS and 20 other countries and in the other years for all: the year alone is a small
    training set, each neighbouring year a large one."""
    rng = np.random.default_rng(2)
    base = rng.normal(size=(COUNTRIES, 1, 3))
    predictors = base + 0.1 * rng.normal(size=(COUNTRIES, YEARS, 3))
    truth = 2 * predictors[..., 0] + np.sin(2 * predictors[..., 1])
    truth = truth + rng.normal(scale=0.05, size=truth.shape)
    problem = _problem(truth, predictors[:, YEAR], predictors)
    sparse = problem.target_series.copy()
    sparse[SIDS + 20 :, YEAR] = np.nan
    return dataclasses.replace(problem, target_series=sparse), truth[:, YEAR]


def test_neighbouring_years_teach_the_cross_section_of_a_sparse_year(few_in_the_year) -> None:
    problem, truth = few_in_the_year
    alone = np.median(_errors(_estimate(problem), truth, WHOLE))
    pooled = np.median(_errors(_estimate(_with_neighbours(problem)), truth, WHOLE))
    assert pooled < 0.8 * alone


def test_the_pooled_stage_is_its_cross_validation_forests(few_in_the_year, monkeypatch) -> None:
    """With neighbouring years, stage A's model is the winner's five fold forests (each leaving
    a fifth of the countries out), not a forest of the requested size on every pooled row; the
    whole series' estimates are their trees' mean."""
    problem, _ = few_in_the_year
    answers = []
    original = history_method._with_neighbouring_years

    def recording(*args, **kwargs):  # observes the real pooled stage
        answers.append(original(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(history_method, "_with_neighbouring_years", recording)
    requested = history_method.FOLD_TREES + 15
    neighbours = _with_neighbours(problem)
    estimate = _estimate(neighbours, estimators=requested)
    (stage_a,) = answers
    assert stage_a is not None
    assert _forest_sizes(stage_a.fit) == [history_method.FOLD_TREES] * 5
    whole = [f"C{i:03d}" for i in WHOLE]
    rows = neighbours.predictors.loc[whole].to_numpy()
    mean_of_trees, _ = history_method._predict(stage_a.fit.members, rows)
    np.testing.assert_allclose(estimate.prediction[whole].to_numpy(), mean_of_trees)
    assert stage_a.fit.importances().sum() == pytest.approx(1.0)


def test_neighbouring_years_that_do_not_cross_validate_better_are_left_out(
    few_in_the_year,
) -> None:
    problem, _ = few_in_the_year
    alone = _estimate(problem)
    useless = _estimate(_with_neighbours(problem, shuffle=True))
    pd.testing.assert_series_equal(useless.prediction, alone.prediction)
    pd.testing.assert_series_equal(useless.upper, alone.upper)


def test_neighbouring_years_are_read_only_for_rows_without_history(panel) -> None:
    """Imputing a neighbouring year can take tens of seconds: a problem whose rows to fill all
    have history never asks for them; one with whole missing series does."""
    problem, _ = panel
    asked: list[bool] = []

    def neighbouring_years() -> tuple[tuple[int, pd.DataFrame], ...]:
        asked.append(True)
        return _with_neighbours(problem).neighbouring_years()

    with_history_only = problem.target_series.copy()
    with_history_only[list(WHOLE), YEAR - 1] = 1.0  # one value in another year: history
    _estimate(
        dataclasses.replace(
            problem, target_series=with_history_only, neighbouring_years=neighbouring_years
        )
    )
    assert asked == []
    _estimate(dataclasses.replace(problem, neighbouring_years=neighbouring_years))
    assert asked == [True]


def test_countries_being_filled_are_left_out_of_the_neighbouring_years(panel) -> None:
    problem, _ = panel
    neighbours = _with_neighbours(problem)
    train = np.isfinite(problem.target_series[:, YEAR])
    to_fill = problem.sids_mask & ~train
    scale = history_method.calibration.TargetScale(None)
    weights = history_method.cross_section.sample_weights(
        problem.countries[train], problem.sids_mask[train]
    )
    folds = history_method._country_folds(int(train.sum()))
    training = history_method._Training(problem.target_series, train, weights, folds, scale)
    rows = history_method._pooled_rows(neighbours, training, to_fill)
    assert rows is not None
    features, target, row_weights, row_folds = rows
    observed_elsewhere = np.isfinite(problem.target_series[:, [YEAR - 1, YEAR + 1]])
    expected = train.sum() + (observed_elsewhere & ~to_fill[:, None]).sum()
    assert len(features) == len(target) == len(row_weights) == len(row_folds) == expected
    # A country's rows keep its weight and fold: the year's first, then each neighbouring year's.
    year_rows = int(train.sum())
    next_year = np.flatnonzero(np.isfinite(problem.target_series[:, YEAR - 1]) & ~to_fill)
    in_train = np.flatnonzero(train)
    shared = np.isin(next_year, in_train)
    assert np.array_equal(
        row_weights[year_rows : year_rows + len(next_year)][shared],
        weights[np.searchsorted(in_train, next_year[shared])],
    )
    assert np.array_equal(
        row_folds[year_rows : year_rows + len(next_year)][shared],
        folds[np.searchsorted(in_train, next_year[shared])],
    )
