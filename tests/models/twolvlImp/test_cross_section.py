"""The cross-section method and the shared tools of the two-level imputation model, on small
generated frames."""

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import RFE

from models.twolvlImp import cross_section
from models.twolvlImp.fast_forest import FastRandomForest
from models.twolvlImp.schemas import Interpolator, Interval, Model, Scheme


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.Series]:
    """y depends on x0 (strongly) and x1; x2..x5 are noise."""
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        rng.normal(size=(120, 6)),
        columns=[f"x{i}" for i in range(6)],
        index=[f"C{i}" for i in range(120)],
    )
    target = 3 * features["x0"] + features["x1"] + rng.normal(scale=0.1, size=120)
    return features, target


def test_feature_selection_finds_the_informative_features(frames) -> None:
    features, target = frames
    chosen = cross_section.select_features(features, target, Scheme.AFS, 2, None, n_jobs=1)
    assert set(chosen) == {"x0", "x1"}


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "reference"])
def test_selection_among_many_candidates_finds_the_informative_ones(fast: bool) -> None:
    """Past the prefilter's size, the fast selection eliminates from the best-correlated
    candidates only; both it and the original selection find the two drivers among 60."""
    rng = np.random.default_rng(4)
    features = pd.DataFrame(rng.normal(size=(150, 120)), columns=[f"x{i:03d}" for i in range(120)])
    target = 3 * features["x007"] + 2 * np.sign(features["x051"]) + rng.normal(scale=0.1, size=150)
    chosen = cross_section.select_features(features, target, Scheme.AFS, 2, None, 1, fast=fast)
    assert set(chosen) == {"x007", "x051"}


@pytest.mark.parametrize(
    ("columns", "count", "trees", "step"),
    [(40, 10, 30, 0.2), (33, 7, 12, 0.3), (25, 10, 20, 10), (12, 11, 5, 3)],
)
def test_elimination_chooses_what_scikit_learns_rfe_chooses(
    columns: int, count: int, trees: int, step: float
) -> None:
    """The elimination skips RFE's last fit but must keep its choice: the same columns for
    shares and counts of columns dropped a round, a last round smaller than a step included."""
    rng = np.random.default_rng(columns)
    features = pd.DataFrame(
        rng.normal(size=(90, columns)), columns=[f"c{i}" for i in range(columns)]
    )
    # Every column matters a little: which ones stay depends on each round's forest.
    weights = rng.normal(size=columns)
    target = pd.Series(features.to_numpy() @ weights + rng.normal(scale=2.0, size=90))
    ranker = FastRandomForest(n_estimators=trees, random_state=cross_section.SEED)
    expected = RFE(ranker, n_features_to_select=count, step=step).fit(features, target)
    chosen = cross_section._eliminate(features, target, count, trees, step, n_jobs=1)
    assert chosen == list(features.columns[expected.support_])


def test_prefilter_keeps_the_most_correlated_in_column_order() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(size=200)
    features = pd.DataFrame(
        {
            "noise": rng.normal(size=200),
            "strong": base + rng.normal(scale=0.1, size=200),
            "constant": np.ones(200),
            "negative": -base + rng.normal(scale=0.5, size=200),
        }
    )
    target = pd.Series(np.exp(base))  # monotone: Spearman sees it whole
    assert cross_section._most_correlated(features, target, 2) == ["strong", "negative"]
    assert cross_section._most_correlated(features, target, 3) == ["noise", "strong", "negative"]


def test_manual_scheme_keeps_the_given_order(frames) -> None:
    features, target = frames
    assert cross_section.select_features(
        features, target, Scheme.MANUAL, None, ["x3", "x1"], 1
    ) == [
        "x3",
        "x1",
    ]


def test_pca_picks_distinct_features_led_by_the_main_component(frames) -> None:
    features, target = frames
    correlated = features.copy()
    for column in ("x1", "x2"):
        correlated[column] = correlated["x0"] + np.random.default_rng(1).normal(
            scale=0.05, size=120
        )
    chosen = cross_section.select_features(correlated, target, Scheme.PCA, 4, None, n_jobs=1)
    assert len(chosen) == len(set(chosen)) == 4
    assert chosen[0] in {"x0", "x1", "x2"}


def test_count_larger_than_features_is_capped(frames) -> None:
    features, target = frames
    assert len(cross_section.select_features(features, target, Scheme.PCA, 99, None, 1)) == 6


@pytest.mark.parametrize("interpolator", list(Interpolator))
def test_gap_filling_leaves_no_gap_and_keeps_observed_values(frames, interpolator) -> None:
    features, _ = frames
    holed = features.mask(np.random.default_rng(2).random(features.shape) < 0.15)
    filled_train, filled_predict = cross_section.fill_predictor_gaps(
        holed.iloc[:100], holed.iloc[100:], interpolator
    )
    assert not filled_train.isna().any().any() and not filled_predict.isna().any().any()
    observed = holed.iloc[:100].notna().to_numpy()
    assert np.allclose(filled_train.to_numpy()[observed], holed.iloc[:100].to_numpy()[observed])


def test_sample_weights_give_each_group_equal_weight() -> None:
    mask = np.array([True, False, False, False])
    weights = cross_section.sample_weights(pd.Index(list("abcd")), mask)
    assert weights[mask].sum() == pytest.approx(1.0)
    assert weights[~mask].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("model", [Model.rfr, Model.gbr, Model.etr])
@pytest.mark.parametrize("interval", list(Interval))
def test_intervals_contain_the_prediction(frames, model, interval) -> None:
    features, target = frames
    estimate = cross_section.fit_and_predict(
        features.iloc[:100],
        target.iloc[:100],
        features.iloc[100:],
        np.ones(100),
        model=model,
        estimators=20,
        interval=interval,
        n_jobs=1,
    )
    assert (estimate.lower <= estimate.prediction).all()
    assert (estimate.prediction <= estimate.upper).all()
    assert (estimate.upper - estimate.lower).mean() > 0
    assert estimate.feature_importances.idxmax() == "x0"
    # The model learned something: far better than predicting the mean.
    assert estimate.rmse < 0.5 * target.std()


def test_the_best_of_all_models_answers_every_row(frames) -> None:
    features, target = frames
    estimate = cross_section.fit_and_predict(
        features.iloc[:100],
        target.iloc[:100],
        features.iloc[100:],
        np.ones(100),
        model=Model.all,
        estimators=10,
        interval=Interval.quantile,
        n_jobs=1,
    )
    assert list(estimate.prediction.index) == list(features.index[100:])
    assert (estimate.lower <= estimate.prediction).all()
    assert (estimate.prediction <= estimate.upper).all()


def test_nothing_to_predict_is_fine(frames) -> None:
    features, target = frames
    estimate = cross_section.fit_and_predict(
        features, target, features.iloc[:0], np.ones(120),
        model=Model.rfr, estimators=5, interval=Interval.quantile, n_jobs=1,
    )  # fmt: skip
    assert estimate.prediction.empty and estimate.lower.empty


def test_relative_rmse_uses_mean_then_range() -> None:
    assert cross_section.relative_rmse(1.0, pd.Series([4.0, 6.0])) == pytest.approx(0.2)
    # A mean near zero would blow the ratio up: the range is used instead.
    assert cross_section.relative_rmse(1.0, pd.Series([-5.0, 5.0])) == pytest.approx(0.1)


@pytest.mark.parametrize("forest", [Model.rfr, Model.etr])
def test_tree_predictions_equal_each_trees_own_predict(frames, forest) -> None:
    """The shortcut (one float32 conversion, no per-tree input checks) gives bit for bit what
    each tree's checked `predict` gives, on float64 rows in either memory order."""
    features, target = frames
    fitted = cross_section.make_regressor(forest, 20).fit(features.to_numpy(), target)
    rows = features.to_numpy()[:30] * 1.37  # values the trees never saw
    for layout in (np.ascontiguousarray(rows), np.asfortranarray(rows)):
        fast = np.stack(cross_section.tree_predictions(fitted, layout))
        checked = np.stack([tree.predict(layout) for tree in fitted.estimators_])
        assert fast.dtype == checked.dtype
        assert np.array_equal(fast, checked)
