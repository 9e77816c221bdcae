"""The fast forests build exactly scikit-learn's trees: a pin check against the stock estimators
(a scikit-learn upgrade that changes how forests draw or build their trees fails here)."""

import contextlib
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numpy as np
import pytest
from fastapi.testclient import TestClient
from joblib import parallel_config
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils._param_validation import InvalidParameterError

from api_app import create_app
from common.core.settings import Settings
from common.data.datasets import demo_raw_dataset, parse_dataset
from common.serving.runtime import Runtime
from models.twolvlImp import cross_section
from models.twolvlImp.fast_forest import FastExtraTrees, FastRandomForest, ParamNamesOnce
from models.twolvlImp.schemas import Interpolator
from tests.fixtures.datasets import DEMO_YEAR

IMPUTED_COLUMNS = 30
PAIRS = [(RandomForestRegressor, FastRandomForest), (ExtraTreesRegressor, FastExtraTrees)]


def _problem(rows: int, columns: int, seed: int, gaps: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, columns))
    target = features[:, 0] * 3 + np.sin(features[:, 1]) + rng.normal(scale=0.3, size=rows)
    if gaps:
        features[rng.random(features.shape) < 0.1] = np.nan
    return features, target


def _assert_same(stock, fast, query: np.ndarray) -> None:
    assert len(stock.estimators_) == len(fast.estimators_)
    assert sorted(vars(stock)) == sorted(vars(fast))  # the same fitted attributes, no others
    np.testing.assert_array_equal(stock.predict(query), fast.predict(query))
    rows = query.astype(np.float32)
    for ours, theirs in zip(fast.estimators_, stock.estimators_, strict=True):
        assert ours.random_state == theirs.random_state
        np.testing.assert_array_equal(theirs.predict(rows), ours.predict(rows))
        np.testing.assert_array_equal(theirs.tree_.threshold, ours.tree_.threshold)
    np.testing.assert_array_equal(stock.feature_importances_, fast.feature_importances_)
    per_tree = cross_section.tree_predictions(fast, query)
    np.testing.assert_array_equal(
        np.stack(per_tree), np.stack(_stock_tree_predictions(stock, query))
    )


def _stock_tree_predictions(forest, query: np.ndarray) -> list[np.ndarray]:
    return [tree.predict(query.astype(np.float32)) for tree in forest.estimators_]


@pytest.mark.parametrize(("stock_class", "fast_class"), PAIRS)
@pytest.mark.parametrize(
    ("rows", "columns", "seed", "params"),
    [
        (200, 12, 7, {}),
        (57, 3, 0, {"max_depth": 5}),
        (150, 40, 3, {"max_features": "sqrt", "min_samples_leaf": 3}),
        (90, 8, 11, {"max_features": 0.5, "max_depth": 10, "min_samples_split": 0.1}),
        (120, 6, 5, {"bootstrap": True, "max_samples": 0.7, "min_weight_fraction_leaf": 0.01}),
        (120, 6, 5, {"bootstrap": False, "max_features": 3}),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_the_trees_are_scikit_learns(
    stock_class, fast_class, rows: int, columns: int, seed: int, params: dict, weighted: bool
) -> None:
    features, target = _problem(rows, columns, seed, gaps=False)
    weights = np.random.default_rng(seed).random(rows) + 0.1 if weighted else None
    settings = {"n_estimators": 25, "random_state": seed, **params}
    stock = stock_class(**settings).fit(features, target, sample_weight=weights)
    fast = fast_class(**settings).fit(features, target, sample_weight=weights)
    _assert_same(stock, fast, _problem(30, columns, seed + 1, gaps=False)[0])


@pytest.mark.parametrize(("stock_class", "fast_class"), PAIRS)
def test_missing_values_and_grid_search_are_scikit_learns(stock_class, fast_class) -> None:
    features, target = _problem(160, 7, 2, gaps=True)
    query = _problem(20, 7, 9, gaps=True)[0]
    searches = [
        GridSearchCV(
            forest(n_estimators=20, random_state=7),
            {"max_depth": [3, None]},
            cv=KFold(5, shuffle=True, random_state=7),
            scoring="neg_mean_squared_error",
        ).fit(features, target)
        for forest in (stock_class, fast_class)
    ]
    np.testing.assert_array_equal(
        searches[0].cv_results_["mean_test_score"], searches[1].cv_results_["mean_test_score"]
    )
    _assert_same(searches[0].best_estimator_, searches[1].best_estimator_, query)


@pytest.mark.parametrize(("stock_class", "fast_class"), PAIRS)
def test_trees_built_in_threads_refits_and_added_trees_are_scikit_learns(
    stock_class, fast_class
) -> None:
    """Threads (n_jobs 2) give each tree its own generator; one at a time the trees share one,
    re-seeded per draw: both, a second fit and trees added by `warm_start`, draw as stock."""
    features, target = _problem(80, 5, 6, gaps=False)
    weights = np.random.default_rng(6).random(80) + 0.1
    query = _problem(15, 5, 8, gaps=False)[0]
    threaded = {"n_estimators": 12, "random_state": 3, "n_jobs": 2, "bootstrap": True}
    pair = [
        forest(**threaded).fit(features, target, sample_weight=weights)
        for forest in (stock_class, fast_class)
    ]
    for forest in pair:  # threads would add the trees' predictions up in any order
        forest.set_params(n_jobs=1)
    stock, fast = pair
    _assert_same(stock, fast, query)
    forests = [
        forest(n_estimators=6, random_state=4, warm_start=True)
        for forest in (stock_class, fast_class)
    ]
    for forest in forests:
        forest.fit(features, target).fit(features, target)  # a refit keeps the same trees
        forest.set_params(n_estimators=10).fit(features, target)
    stock, fast = forests
    _assert_same(stock, fast, query)


def test_an_unsupported_setting_takes_scikit_learns_own_path() -> None:
    features, target = _problem(100, 5, 4, gaps=False)
    settings = {"n_estimators": 10, "random_state": 1, "max_leaf_nodes": 8, "ccp_alpha": 0.01}
    stock = RandomForestRegressor(**settings).fit(features, target)
    fast = FastRandomForest(**settings).fit(features, target)
    _assert_same(stock, fast, features[:10])


@pytest.mark.parametrize(("stock_class", "fast_class"), PAIRS)
def test_parameters_are_the_stock_estimators(stock_class, fast_class) -> None:
    """The names read once per class (`ParamNamesOnce`): the stock ones, each class its own."""

    class OneParameter(ParamNamesOnce, BaseEstimator):
        def __init__(self, depth: int = 1) -> None:
            self.depth = depth

    settings = {"n_estimators": 7, "max_depth": 3, "random_state": 5}
    for _ in range(2):  # the second read comes from the cache
        assert fast_class(**settings).get_params() == stock_class(**settings).get_params()
        assert OneParameter(depth=2).get_params() == {"depth": 2}
    assert clone(fast_class(**settings)).get_params() == stock_class(**settings).get_params()
    with pytest.raises(InvalidParameterError, match="max_depth"):
        fast_class(max_depth="deep").fit(*_problem(20, 2, 0, gaps=False))


def _outcome(forest_class, features, target, weights, settings: dict) -> dict[str, Any]:
    """A fit's forest, or its error, and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            forest = forest_class(**{"n_estimators": 8, "random_state": 2, **settings})
            fitted, error = forest.fit(features, target, sample_weight=weights), None
        except ValueError as raised:  # scikit-learn's InvalidParameterError is one too
            message = str(raised).replace(forest_class.__name__, "the forest")
            fitted, error = None, f"{type(raised).__name__}: {message}"
    return {"forest": fitted, "error": error, "warnings": [str(w.message) for w in caught]}


@pytest.mark.parametrize(("stock_class", "fast_class"), PAIRS)
@pytest.mark.parametrize(
    "case",
    [
        "out-of-bag score",
        "sparse features",
        "target as a column",
        "poisson",
        "max_samples without bootstrap",
        "negative weights",
        "zero weights",
        "float32 weights",
        "invalid parameter",
        "no trees, n_jobs 0",
        "outer threads backend",
    ],
)
def test_unusual_settings_and_inputs_fit_as_scikit_learn_does(
    stock_class, fast_class, case: str
) -> None:
    """Settings left to scikit-learn's fit, weights left to numpy's weighted draw, and inputs the
    plain loop takes that are easy to get wrong: the same trees, errors and warnings."""
    features, target = _problem(70, 4, 12, gaps=False)
    weights = None
    settings: dict[str, Any] = {}
    backend = contextlib.nullcontext()
    if case == "out-of-bag score":
        settings = {"oob_score": True, "bootstrap": True}
    elif case == "sparse features":
        features = sparse.csr_matrix(np.where(features > 0.5, features, 0.0))
    elif case == "target as a column":
        target = target.reshape(-1, 1)
    elif case == "poisson":
        settings = {"criterion": "poisson"}  # and a target with negative values
    elif case == "max_samples without bootstrap":
        settings = {"bootstrap": False, "max_samples": 0.5}
    elif case == "negative weights":
        weights, settings = np.linspace(-0.5, 1.0, 70), {"bootstrap": True}
    elif case == "zero weights":
        weights, settings = np.zeros(70), {"bootstrap": True}
    elif case == "float32 weights":  # numpy draws from them as float64: other trees otherwise
        features, target = _problem(2000, 3, 1, gaps=False)
        weights = (np.random.default_rng(1).random(2000) + 0.1).astype(np.float32)
        settings = {"n_estimators": 3, "max_depth": 3, "random_state": 0, "bootstrap": True}
    elif case == "invalid parameter":  # checked before anything else, as scikit-learn does
        settings = {"n_jobs": "2"}
    elif case == "no trees, n_jobs 0":
        settings = {"n_estimators": 0, "n_jobs": 0}
    else:
        backend = parallel_config("threading", n_jobs=2)
    with backend:
        stock = _outcome(stock_class, features, target, weights, settings)
        fast = _outcome(fast_class, features, target, weights, settings)
    assert (stock["error"], stock["warnings"]) == (fast["error"], fast["warnings"])
    if stock["forest"] is not None:
        assert getattr(stock["forest"], "oob_score_", None) == getattr(
            fast["forest"], "oob_score_", None
        )
        for forest in (stock["forest"], fast["forest"]):
            forest.set_params(n_jobs=1)  # threads would add the trees' predictions in any order
        query = _problem(10, features.shape[1], 13, gaps=False)[0]
        _assert_same(stock["forest"], fast["forest"], query)


@pytest.mark.parametrize(("stock_class", "fast_class"), PAIRS)
def test_predicting_after_a_failed_refit_or_a_warm_start_on_fewer_columns_fails_as_stock(
    stock_class, fast_class
) -> None:
    """A refit that fails in its draws leaves no trees; trees added by a warm start on fewer
    columns make predict refuse them (the stock forests' errors, not numbers read past a row)."""
    features, target = _problem(60, 5, 14, gaps=False)
    fewer = features[:, :2].copy()
    errors = []
    for forest_class in (stock_class, fast_class):
        forest = forest_class(n_estimators=3, random_state=0, bootstrap=True)
        forest.fit(features, target)
        with pytest.raises(ValueError, match="non-negative"):
            forest.fit(fewer, target, sample_weight=np.linspace(-1, 1, 60))
        assert forest.estimators_ == []
        with pytest.raises(IndexError):
            forest.predict(fewer)
        warm = forest_class(n_estimators=3, random_state=0, warm_start=True).fit(features, target)
        warm.set_params(n_estimators=5).fit(fewer, target)
        with pytest.raises(ValueError, match="expecting 5 features") as raised:
            warm.predict(fewer)
        errors.append(str(raised.value).replace(type(warm.estimators_[0]).__name__, "tree"))
    assert errors[0] == errors[1]


def test_forests_fitted_in_threads_at_once_are_scikit_learns() -> None:
    """Each thread's forests draw from that thread's generators: forests fitted one tree at a time
    in several threads at once still grow scikit-learn's trees."""
    features, target = _problem(150, 10, 21, gaps=False)
    weights = np.random.default_rng(21).random(150) + 0.1
    query = _problem(20, 10, 22, gaps=False)[0]
    settings = [{"n_estimators": 30, "random_state": seed} for seed in range(8)]

    def fit(forest_class, setting: dict[str, Any]):
        return forest_class(**setting).fit(features, target, sample_weight=weights)

    with ThreadPoolExecutor(4) as pool:
        fast = list(pool.map(lambda setting: fit(FastRandomForest, setting), settings))
    for setting, forest in zip(settings, fast, strict=True):
        _assert_same(fit(RandomForestRegressor, setting), forest, query)


class _CountedStockForest:
    """A stock forest that counts its fits (the stock run must really use the stock forests)."""

    fits = 0

    def fit(self, *args, **kwargs):
        _CountedStockForest.fits += 1
        # The stock forest after this mixin in the subclass's MRO (to mypy, super() is object).
        return cast(Any, super()).fit(*args, **kwargs)


class _StockRandomForest(_CountedStockForest, RandomForestRegressor):
    pass


class _StockExtraTrees(_CountedStockForest, ExtraTreesRegressor):
    pass


def _answers(settings: Settings, requests: list[dict[str, Any]]) -> list[bytes]:
    with TestClient(create_app(Runtime.create(settings))) as client:
        responses = [client.post("/twolvlImp/predict", json=request) for request in requests]
    assert all(response.status_code == 200 for response in responses)
    return [response.content for response in responses]


def _with_stock_forests[T](monkeypatch: pytest.MonkeyPatch, compute: Callable[[], T]) -> T:
    """`compute()` with the service's forests (the imputer's too) swapped for stock ones."""
    fits = _CountedStockForest.fits
    with monkeypatch.context() as patch:
        patch.setattr(cross_section, "FastRandomForest", _StockRandomForest)
        patch.setattr(cross_section, "FastExtraTrees", _StockExtraTrees)
        patch.setattr(cross_section, "_CheckedExtraTrees", _StockExtraTrees)
        result = compute()
    assert _CountedStockForest.fits > fits
    return result


def test_predict_answers_are_byte_identical_to_the_stock_forests(
    demo_settings: Settings, manual_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every forest of a predict body: feature selection, both methods, rfr, etr and `all`,
    quantile and bootstrap intervals (the iterative imputer's trees: the test below)."""
    automatic = {**manual_request, "scheme": "AFS", "number_predictor": 5, "estimators": 20}
    automatic["manual_predictors"] = None
    requests = [
        automatic,
        {**automatic, "model": "all", "interval": "bootstrap"},
        {**automatic, "method": "cross_section", "model": "etr"},
    ]
    fast = _answers(demo_settings, requests)
    stock = _with_stock_forests(monkeypatch, lambda: _answers(demo_settings, requests))
    assert fast == stock


def test_iterative_imputation_is_byte_identical_to_the_stock_forests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The iterative imputer's extra trees, on part of a demo year (the whole year, as the
    history method imputes it, costs seconds per run with the same trees)."""
    matrix = parse_dataset(demo_raw_dataset()).year_matrix(DEMO_YEAR).iloc[:, :IMPUTED_COLUMNS]
    training, to_predict = matrix.iloc[:120], matrix.iloc[120:]
    assert training.isna().any().any() and to_predict.isna().any().any()

    def impute() -> list[bytes]:
        filled = cross_section.fill_predictor_gaps(
            training, to_predict, Interpolator.IterativeImputer
        )
        return [frame.to_numpy().tobytes() for frame in filled]

    fast = impute()
    assert _with_stock_forests(monkeypatch, impute) == fast
