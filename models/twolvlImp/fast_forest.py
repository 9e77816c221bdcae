"""Random forests and extra trees that build the same trees as scikit-learn's, without its
per-tree Python overhead.

On this service's small matrices (a few hundred countries x tens of predictors) a stock forest
spends most of its fit not building trees but preparing each one: cloning the template tree and
inspecting its signature, drawing its seed through `get_params`, re-validating the sample
weights, re-checking parameters. Here the forest's fit makes scikit-learn's checks once, draws
the same seeds from the same generator and the same bootstrap samples, and only the per-tree
steps are replaced:

- `_make_estimator` builds each tree directly from the forest's parameters and gives it the next
  seed of the forest's generator, as `sklearn.ensemble._base._set_random_states` does (one draw
  per tree: a tree has one `random_state`);
- the tree's `_fit` with `check_input=False` (only the forest calls it so) goes straight to the
  tree builder with the same criterion, splitter and limits scikit-learn would compute;
- a forest that builds its trees one after another (`n_jobs` 1, the service's case) runs
  `BaseForest.fit`'s steps itself (`_fit_one_tree_at_a_time`) with a plain loop over the trees:
  scikit-learn's loop wraps each tree in a joblib task that re-applies the caller's
  configuration and every warning filter, and its weighted bootstrap (`RandomState.choice` with
  `p`) re-checks the weights and re-sums their cumulative distribution for every tree (`_Draws`
  does that once per fit and draws the same indices). It also makes its trees' random generators
  cheaply (`_TreeSeed`): `np.random.RandomState(seed)` costs about 0.25 ms (it seeds a generator
  from the operating system's entropy first, then re-seeds it from `seed`), and scikit-learn
  makes two per tree (the bootstrap draw, the splitter), as long as building a small tree;
- such a forest's `predict` adds its trees' predictions up in a plain loop too (scikit-learn's
  makes a joblib task per tree);
- its parameter names are read from its `__init__` once (`ParamNamesOnce`), not at every clone
  and parameter check.

Anything outside the settings this service uses (monotonic constraints, `max_leaf_nodes`,
pruning, a criterion object, multiple outputs; for the whole fit also warm starts, out-of-bag
scores, `verbose`, sparse inputs, a target given as a column, the poisson criterion,
`max_samples` without bootstrap, parallel trees) takes scikit-learn's own path; weights that are
no probabilities once normalised take numpy's own weighted draw (and its error). The trees are
bit-identical to the stock estimators'; tests/models/twolvlImp/test_fast_forest.py compares
them (predictions, each tree's, importances) so a scikit-learn upgrade that changes the recipe
fails loudly rather than silently changing answers.
"""

import threading
from math import ceil
from numbers import Integral
from typing import Any

import numpy as np
from joblib import effective_n_jobs
from scipy.sparse import issparse
from sklearn.base import _fit_context
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.ensemble._bootstrap import _get_n_samples_bootstrap
from sklearn.tree import DecisionTreeRegressor, ExtraTreeRegressor
from sklearn.tree._classes import CRITERIA_REG, DENSE_SPLITTERS
from sklearn.tree._tree import DepthFirstTreeBuilder, Tree
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    check_random_state,
    validate_data,
)

MAX_SEED = np.iinfo(np.int32).max  # scikit-learn's bound for the seeds it gives sub-estimators
_ONE_OUTPUT = np.array([1], dtype=np.intp)


class _TreeSeed(np.random.RandomState):
    """A tree's random state while its forest fits it: `seed` on a generator shared by the
    forest's trees, re-seeded from `seed` before each use (`fresh`), so every draw is the one a
    fresh `RandomState(seed)` would make. Only for a forest that builds one tree at a time (the
    generator is shared); `_build` puts the plain `seed` back as the tree's `random_state`."""

    def __init__(self, generator: np.random.MT19937, seed: int) -> None:
        super().__init__(generator)
        self.tree_seed = seed

    def fresh(self) -> "_TreeSeed":
        """Itself, as if just made from its seed."""
        self.seed(self.tree_seed)
        return self


class _Generators(threading.local):
    """Each thread's two bit generators for the forests it fits one tree at a time: one for the
    forest's seed draws, one its trees share. Made once per thread, because making one seeds it
    from the operating system's entropy first (about 0.17 ms, a few small trees' worth);
    re-seeding an existing one costs microseconds."""

    def __init__(self) -> None:
        self.forest = np.random.MT19937()
        self.trees = np.random.MT19937()


_GENERATORS = _Generators()


def _forest_random_state(random_state: Any) -> np.random.RandomState:
    """`check_random_state(random_state)`; a seed on this thread's forest generator."""
    if not isinstance(random_state, Integral):
        return check_random_state(random_state)
    state = np.random.RandomState(_GENERATORS.forest)
    state.seed(int(random_state))
    return state


class _Draws:
    """Each tree's bootstrap sample as counts per row, the indices those of
    `sklearn.ensemble._forest._generate_sample_indices`: uniform integers, or with sample
    weights `RandomState.choice(n_samples, size, p=weights / weights.sum())`, whose draw is a
    search of uniform numbers in the cumulative distribution of `p` as float64 (computed here
    once, not once per tree)."""

    def __init__(self, n_samples: int, size: int, sample_weight: np.ndarray | None) -> None:
        self.n_samples, self.size = n_samples, size
        self.probabilities: np.ndarray | None = None
        self.distribution: np.ndarray | None = None
        if sample_weight is not None:
            self.probabilities = sample_weight / np.sum(sample_weight)  # in the weights' dtype
            if _valid_probabilities(self.probabilities):
                distribution = self.probabilities.astype(np.float64).cumsum()
                self.distribution = distribution / distribution[-1]

    def counts(self, state: np.random.RandomState) -> np.ndarray:
        if self.probabilities is None:
            indices = state.randint(0, self.n_samples, self.size)
        elif self.distribution is None:  # numpy's own call, to raise numpy's own error
            indices = state.choice(self.n_samples, self.size, p=self.probabilities)
        else:
            indices = self.distribution.searchsorted(state.random_sample(self.size), "right")
        return np.bincount(indices, minlength=self.n_samples)


def _valid_probabilities(probabilities: np.ndarray) -> bool:
    """`RandomState.choice`'s checks of `p`: not negative (nor NaN), summing to 1 within its
    tolerance. numpy adds them up compensated, here pairwise: the sums differ by far less than
    the tolerance, and a refusal only sends the draws to numpy's own call."""
    tolerance = max(np.sqrt(np.finfo(np.float64).eps), np.sqrt(np.finfo(probabilities.dtype).eps))
    as_float64 = probabilities.astype(np.float64)
    return bool(np.all(as_float64 >= 0)) and abs(np.sum(as_float64) - 1.0) <= tolerance


def _fast_path(tree: DecisionTreeRegressor, X: Any, y: np.ndarray) -> bool:  # noqa: N803
    """Whether `_build` reproduces scikit-learn's `_fit` for this tree and data."""
    return (
        not issparse(X)  # `_build` has only the dense splitters
        and isinstance(tree.criterion, str)
        and isinstance(tree.splitter, str)
        and tree.monotonic_cst is None
        and tree.max_leaf_nodes is None
        and tree.ccp_alpha == 0.0
        and (y.ndim == 1 or y.shape[1] == 1)
    )


def _build(
    tree: DecisionTreeRegressor,
    X: np.ndarray,  # noqa: N803 - scikit-learn's names
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    missing_values_in_feature_mask: np.ndarray | None,
) -> None:
    """`BaseDecisionTree._fit(check_input=False)` for one-output regression, without re-checks.

    The forest has already validated X (float32) and y (float64, contiguous, one column); the
    weights are its bootstrap counts or its checked sample weights."""
    n_samples, n_features = X.shape
    tree.n_features_in_ = n_features
    tree.n_outputs_ = 1
    y = np.ascontiguousarray(np.reshape(y, (-1, 1)), dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    random_state = tree.random_state
    splitter_state: np.random.RandomState
    if isinstance(random_state, _TreeSeed):
        splitter_state = random_state.fresh()
        tree.random_state = random_state.tree_seed
    else:
        splitter_state = np.random.RandomState(random_state)  # check_random_state of an int
    max_depth = np.iinfo(np.int32).max if tree.max_depth is None else tree.max_depth
    min_samples_leaf = _count(tree.min_samples_leaf, n_samples)
    min_samples_split = _count(tree.min_samples_split, n_samples)
    if not isinstance(tree.min_samples_split, Integral):
        min_samples_split = max(2, min_samples_split)
    min_samples_split = max(min_samples_split, 2 * min_samples_leaf)
    tree.max_features_ = _max_features(tree.max_features, n_features)
    total_weight = n_samples if sample_weight is None else np.sum(sample_weight)
    min_weight_leaf = tree.min_weight_fraction_leaf * total_weight
    criterion = CRITERIA_REG[tree.criterion](1, n_samples)
    splitter = DENSE_SPLITTERS[tree.splitter](
        criterion,
        tree.max_features_,
        min_samples_leaf,
        min_weight_leaf,
        splitter_state,
        None,
    )
    tree.tree_ = Tree(n_features, _ONE_OUTPUT, 1)
    builder = DepthFirstTreeBuilder(
        splitter,
        min_samples_split,
        min_samples_leaf,
        min_weight_leaf,
        max_depth,
        tree.min_impurity_decrease,
    )
    builder.build(tree.tree_, X, y, sample_weight, missing_values_in_feature_mask)


def _count(setting: int | float, n_samples: int) -> int:
    """An absolute sample count, or a fraction of the samples rounded up."""
    return int(setting) if isinstance(setting, Integral) else ceil(setting * n_samples)


def _max_features(setting: Any, n_features: int) -> int:
    if setting == "sqrt":
        return max(1, int(np.sqrt(n_features)))
    if setting == "log2":
        return max(1, int(np.log2(n_features)))
    if setting is None:
        return n_features
    if isinstance(setting, Integral):
        return int(setting)
    return max(1, int(setting * n_features)) if setting > 0.0 else 0


class _FastTreeFit:
    """A tree whose forest-internal fit skips the checks the forest has already made."""

    random_state: Any  # the tree's parameter: a seed, or a `_TreeSeed` while its forest fits

    def _fit(
        self,
        X: Any,  # noqa: N803
        y: Any,
        sample_weight: Any = None,
        check_input: bool = True,
        missing_values_in_feature_mask: Any = None,
    ) -> Any:
        if check_input or not _fast_path(self, X, y):
            if isinstance(self.random_state, _TreeSeed):  # scikit-learn's path, the plain seed
                self.random_state = self.random_state.tree_seed
            return super()._fit(  # type: ignore[misc]
                X, y, sample_weight, check_input, missing_values_in_feature_mask
            )
        _build(self, X, y, sample_weight, missing_values_in_feature_mask)
        return self


class FastDecisionTree(_FastTreeFit, DecisionTreeRegressor):
    """A `DecisionTreeRegressor` (a random forest's tree)."""


class FastExtraTree(_FastTreeFit, ExtraTreeRegressor):
    """An `ExtraTreeRegressor` (an extra-trees forest's tree)."""


class ParamNamesOnce:
    """scikit-learn reads an estimator's parameter names from its `__init__` signature at every
    `get_params`: twice per clone and once per fit's parameter check, about 0.1 ms each with
    `inspect.signature`. A class's names do not change, so they are read once per class."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        if cls not in _PARAM_NAMES:
            _PARAM_NAMES[cls] = tuple(super()._get_param_names())  # type: ignore[misc]
        return list(_PARAM_NAMES[cls])


_PARAM_NAMES: dict[type, tuple[str, ...]] = {}  # by class (a race only reads a signature twice)


class _FastForest:
    """The per-tree steps of a forest: trees made directly and, one at a time, fitted and
    predicting in plain loops; importances summed in a loop."""

    _tree_class: type[DecisionTreeRegressor]
    estimator_params: tuple[str, ...]
    n_jobs: int | None

    # Parameters checked first, as scikit-learn's fit does (its own fit, nested, skips them).
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:  # noqa: N803
        if not self._one_tree_at_a_time(X, y):
            return super().fit(X, y, sample_weight=sample_weight)  # type: ignore[misc]
        return self._fit_one_tree_at_a_time(X, y, sample_weight)

    def _one_tree_at_a_time(self, X: Any, y: Any) -> bool:  # noqa: N803
        """Whether `_fit_one_tree_at_a_time` is scikit-learn's fit for these settings and data."""
        forest: Any = self
        return (
            effective_n_jobs(self.n_jobs) == 1  # an outer joblib backend may make it parallel
            and not forest.warm_start
            and not forest.oob_score
            and not forest.verbose
            and (forest.bootstrap or forest.max_samples is None)  # else scikit-learn's error
            and forest.criterion != "poisson"  # checks of y
            and not issparse(X)
            and not issparse(y)
            and np.ndim(y) == 1
        )

    def _fit_one_tree_at_a_time(self, X: Any, y: Any, sample_weight: Any) -> Any:  # noqa: N803
        """`BaseForest.fit` for a one-output regression forest with the settings
        `_one_tree_at_a_time` allows: the same checks, attributes, seeds and draws, its trees
        built in a loop."""
        forest: Any = self
        X, y = validate_data(  # noqa: N806
            forest,
            X,
            y,
            multi_output=True,
            accept_sparse="csc",
            dtype=np.float32,
            ensure_all_finite=False,
        )
        missing_values_in_feature_mask = type(forest.estimator)(
            criterion=forest.criterion
        )._compute_missing_values_in_feature_mask(X, estimator_name=type(self).__name__)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        y = np.ascontiguousarray(np.reshape(y, (-1, 1)), dtype=np.float64)
        forest._n_samples, forest.n_outputs_ = y.shape
        forest._sample_weight = sample_weight
        draws = None
        forest._n_samples_bootstrap = None
        if forest.bootstrap:
            size = _get_n_samples_bootstrap(X.shape[0], forest.max_samples, sample_weight)
            forest._n_samples_bootstrap = size
            draws = _Draws(X.shape[0], size, sample_weight)
        forest._validate_estimator()
        random_state = _forest_random_state(forest.random_state)
        forest.estimators_ = []  # as scikit-learn: a fit that fails from here on leaves no trees
        trees = [
            self._make_estimator(append=False, random_state=random_state)
            for _ in range(forest.n_estimators)
        ]
        for tree in trees:
            # The tree's seed on this thread's shared generator (`_build` puts the seed back).
            tree.random_state = _TreeSeed(_GENERATORS.trees, tree.random_state)
            weights = sample_weight if draws is None else draws.counts(tree.random_state.fresh())
            tree._fit(
                X,
                y,
                sample_weight=weights,
                check_input=False,
                missing_values_in_feature_mask=missing_values_in_feature_mask,
            )
        forest.estimators_.extend(trees)
        return self

    def _make_estimator(self, append: bool = True, random_state: Any = None) -> Any:
        params = {name: getattr(self, name) for name in self.estimator_params}
        if random_state is not None:
            params["random_state"] = random_state.randint(MAX_SEED)
        tree = self._tree_class(**params)
        if append:
            self.estimators_.append(tree)  # type: ignore[attr-defined]
        return tree

    def predict(self, X: Any) -> np.ndarray:  # noqa: N803
        """As the stock forest's, its trees' predictions added up in the same order, without a
        joblib task per tree."""
        check_is_fitted(self)
        forest: Any = self
        if effective_n_jobs(self.n_jobs) != 1 or forest.n_outputs_ != 1 or forest.verbose:
            return super().predict(X)  # type: ignore[misc]
        X = forest._validate_X_predict(X)  # noqa: N806 - float32, as the trees take it
        total = np.zeros(X.shape[0], dtype=np.float64)
        for tree in forest.estimators_:
            total += tree.predict(X, check_input=False)  # which still checks the feature count
        total /= len(forest.estimators_)
        return total

    @property
    def feature_importances_(self) -> np.ndarray:
        """As the stock forest's: the mean of its non-trivial trees' importances, normalised."""
        check_is_fitted(self)
        importances = [
            tree.tree_.compute_feature_importances()
            for tree in self.estimators_  # type: ignore[attr-defined]
            if tree.tree_.node_count > 1
        ]
        if not importances:
            return np.zeros(self.n_features_in_, dtype=np.float64)  # type: ignore[attr-defined]
        mean = np.mean(importances, axis=0, dtype=np.float64)
        return mean / np.sum(mean)


class FastRandomForest(ParamNamesOnce, _FastForest, RandomForestRegressor):
    """`RandomForestRegressor` with the same trees, fitted without per-tree overhead."""

    _tree_class = FastDecisionTree


class FastExtraTrees(ParamNamesOnce, _FastForest, ExtraTreesRegressor):
    """`ExtraTreesRegressor` with the same trees, fitted without per-tree overhead."""

    _tree_class = FastExtraTree
