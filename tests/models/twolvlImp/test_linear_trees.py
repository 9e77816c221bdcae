"""The ridge-plus-trees regressor and the cross-section search that chooses it."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor

from models.twolvlImp import cross_section, history_method
from models.twolvlImp.linear_trees import LinearPlusTrees
from models.twolvlImp.schemas import Model

ROWS = 200


def _forest() -> RandomForestRegressor:
    return RandomForestRegressor(n_estimators=20, min_samples_leaf=3, random_state=0)


def _linear_with_a_bump(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A target linear in two predictors, plus a step in a third that no line follows."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 4))
    target = 3 * features[:, 0] - 2 * features[:, 1] + (features[:, 2] > 0.5)
    return features, target + rng.normal(scale=0.05, size=rows)


def _step(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A target that jumps with its predictor: no straight line follows it."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 3))
    target = np.where(features[:, 0] > 0, 5.0, 0.0) + np.where(features[:, 1] > 1, -3.0, 0.0)
    return features, target + rng.normal(scale=0.05, size=rows)


def test_a_linear_relation_is_followed_between_the_training_countries() -> None:
    features, target = _linear_with_a_bump(ROWS, seed=0)
    unseen, truth = _linear_with_a_bump(ROWS, seed=1)
    combined = LinearPlusTrees(_forest()).fit(features, target)
    trees = _forest().fit(features, target)
    combined_error = np.median(np.abs(combined.predict(unseen) - truth))
    trees_error = np.median(np.abs(trees.predict(unseen) - truth))
    assert combined_error < 0.5 * trees_error
    # The trees keep what the line misses: the step in the third predictor.
    linear_only = np.median(np.abs(combined.linear_part(unseen) - truth))
    assert combined_error < 0.7 * linear_only


def test_skewed_predictors_are_modelled_on_an_asinh_scale() -> None:
    rng = np.random.default_rng(2)
    rate = rng.lognormal(mean=2, sigma=1.5, size=ROWS)  # a count-like, skewed predictor
    target = np.log(rate) + rng.normal(scale=0.05, size=ROWS)
    model = LinearPlusTrees(_forest()).fit(rate[:, None], target)
    assert model.scales_[0].unit is not None
    fresh = rng.lognormal(mean=2, sigma=1.5, size=ROWS)
    error = np.median(np.abs(model.predict(fresh[:, None]) - np.log(fresh)))
    assert error < 0.2


def test_importances_sum_to_one_and_rank_the_strongest_predictor_first() -> None:
    features, target = _linear_with_a_bump(ROWS, seed=3)
    importances = LinearPlusTrees(_forest()).fit(features, target).feature_importances_
    assert importances.sum() == pytest.approx(1.0)
    assert np.argmax(importances) == 0
    assert importances[3] < 0.05  # pure noise


def test_clones_and_refits_to_the_same_answer() -> None:
    features, target = _linear_with_a_bump(ROWS, seed=4)
    first = LinearPlusTrees(_forest()).fit(features, target)
    second = clone(first).fit(features, target)
    np.testing.assert_array_equal(first.predict(features), second.predict(features))


def test_constant_predictors_and_weights_are_handled() -> None:
    features, target = _linear_with_a_bump(ROWS, seed=5)
    features[:, 3] = 7.0
    weights = np.where(np.arange(ROWS) < 50, 3.0, 1.0)
    model = LinearPlusTrees(_forest()).fit(features, target, sample_weight=weights)
    assert np.isfinite(model.predict(features)).all()


def _search(features: np.ndarray, target: np.ndarray, model: Model = Model.rfr) -> tuple:
    """The search's two winners, each refitted on every row as `estimate` does when it uses it."""
    weights = np.ones(len(target))
    folds = history_method._country_folds(len(target))
    overall, trees = history_method._best_candidates(
        features, target, weights, folds, model, 10, n_jobs=1
    )
    trees.regressor.fit(features, target, sample_weight=weights)
    if overall is not trees:
        overall.regressor.fit(features, target, sample_weight=weights)
    return overall, trees


def test_the_search_puts_a_line_under_the_trees_when_the_relation_is_linear() -> None:
    overall, trees = _search(*_linear_with_a_bump(ROWS, seed=6))
    assert isinstance(overall.regressor, LinearPlusTrees)
    assert isinstance(trees.regressor, RandomForestRegressor)
    assert overall.model == trees.model == Model.rfr
    # Both were refitted on every row and predict.
    features, _ = _linear_with_a_bump(5, seed=7)
    for fit in (overall, trees):
        assert np.isfinite(history_method._predict(fit.members, features)[0]).all()


def test_the_search_keeps_the_trees_alone_when_no_line_helps() -> None:
    overall, trees = _search(*_step(ROWS, seed=8))
    assert overall is trees
    assert isinstance(overall.regressor, RandomForestRegressor)


@pytest.mark.parametrize("model", [Model.gbr, Model.etr, Model.all])
def test_every_regressor_can_sit_under_a_line(model: Model) -> None:
    features, target = _linear_with_a_bump(ROWS, seed=9)
    overall, _ = _search(features, target, model)
    assert overall.model in cross_section.candidates(model)
    prediction, spread = history_method._predict(overall.members, features[:5])
    assert np.isfinite(prediction).all() and (spread >= 0).all()
