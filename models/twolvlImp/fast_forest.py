"""Random forests and extra trees that build the same trees as scikit-learn's, without its
per-tree Python overhead.

On this service's small matrices (a few hundred countries x tens of predictors) a stock forest
spends most of its fit not building trees but preparing each one: cloning the template tree and
inspecting its signature, drawing its seed through `get_params`, re-validating the sample
weights, re-checking parameters. Here the forest's fit is scikit-learn's own (one validation of
the inputs, the same seeds drawn from the same generator, the same bootstrap draws, the same
parallel loop), and only the per-tree steps are replaced:

- `_make_estimator` builds each tree directly from the forest's parameters and gives it the next
  seed of the forest's generator, as `sklearn.ensemble._base._set_random_states` does (one draw
  per tree: a tree has one `random_state`);
- the tree's `_fit` with `check_input=False` (only the forest calls it so) goes straight to the
  tree builder with the same criterion, splitter and limits scikit-learn would compute;
- a forest that builds its trees one after another (`n_jobs` 1) makes its trees' random
  generators cheaply (`_TreeSeed`): `np.random.RandomState(seed)` costs about 0.25 ms (it seeds
  a generator from the operating system's entropy first, then re-seeds it from `seed`), and
  scikit-learn makes two per tree (the bootstrap draw, the splitter), as long as building a
  small tree.

Anything outside the settings this service uses (monotonic constraints, `max_leaf_nodes`,
pruning, a criterion object, multiple outputs) takes scikit-learn's own path. The trees are
bit-identical to the stock estimators'; tests/models/twolvlImp/test_fast_forest.py compares
them (predictions, each tree's, importances) so a scikit-learn upgrade that changes the recipe
fails loudly rather than silently changing answers.
"""

from math import ceil
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor, ExtraTreeRegressor
from sklearn.tree._classes import CRITERIA_REG, DENSE_SPLITTERS
from sklearn.tree._tree import DepthFirstTreeBuilder, Tree
from sklearn.utils.validation import check_is_fitted

MAX_SEED = np.iinfo(np.int32).max  # scikit-learn's bound for the seeds it gives sub-estimators
_ONE_OUTPUT = np.array([1], dtype=np.intp)


class _TreeSeed(np.random.RandomState):
    """A tree's random state while its forest fits it: `seed` on a generator shared by the
    forest's trees, re-seeded from `seed` before each draw, so every draw is the one a fresh
    `RandomState(seed)` would make. Only for a forest that builds one tree at a time (the
    generator is shared); `_build` puts the plain `seed` back as the tree's `random_state`."""

    def __init__(self, generator: np.random.MT19937, seed: int) -> None:
        super().__init__(generator)
        self.tree_seed = seed

    def fresh(self) -> "_TreeSeed":
        """Itself, as if just made from its seed."""
        self.seed(self.tree_seed)
        return self

    # The bootstrap draw (`sklearn.ensemble._forest._generate_sample_indices`): with sample
    # weights a weighted choice, otherwise integers.
    def randint(self, *args: Any, **kwargs: Any) -> Any:
        return np.random.RandomState.randint(self.fresh(), *args, **kwargs)

    def choice(self, *args: Any, **kwargs: Any) -> Any:
        return np.random.RandomState.choice(self.fresh(), *args, **kwargs)


def _fast_path(tree: DecisionTreeRegressor, y: np.ndarray) -> bool:
    """Whether `_build` reproduces scikit-learn's `_fit` for this tree and target."""
    return (
        isinstance(tree.criterion, str)
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
        if check_input or not _fast_path(self, y):
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


class _FastForest:
    """The per-tree steps of a forest: trees made directly, importances summed in a loop."""

    _tree_class: type[DecisionTreeRegressor]
    estimator_params: tuple[str, ...]
    n_jobs: int | None
    _shared_generator: np.random.MT19937 | None = None

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:  # noqa: N803
        sequential = self.n_jobs in (None, 1)
        self._shared_generator = np.random.MT19937() if sequential else None
        try:
            return super().fit(X, y, sample_weight=sample_weight)  # type: ignore[misc]
        finally:
            self._shared_generator = None

    def _make_estimator(self, append: bool = True, random_state: Any = None) -> Any:
        params = {name: getattr(self, name) for name in self.estimator_params}
        if random_state is not None:
            seed = random_state.randint(MAX_SEED)
            generator = self._shared_generator
            params["random_state"] = seed if generator is None else _TreeSeed(generator, seed)
        tree = self._tree_class(**params)
        if append:
            self.estimators_.append(tree)  # type: ignore[attr-defined]
        return tree

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


class FastRandomForest(_FastForest, RandomForestRegressor):
    """`RandomForestRegressor` with the same trees, fitted without per-tree overhead."""

    _tree_class = FastDecisionTree


class FastExtraTrees(_FastForest, ExtraTreesRegressor):
    """`ExtraTreesRegressor` with the same trees, fitted without per-tree overhead."""

    _tree_class = FastExtraTree
