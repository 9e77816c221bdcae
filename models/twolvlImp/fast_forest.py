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
  tree builder with the same criterion, splitter and limits scikit-learn would compute.

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
        np.random.RandomState(tree.random_state),  # check_random_state of an int seed
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

    def _fit(
        self,
        X: Any,  # noqa: N803
        y: Any,
        sample_weight: Any = None,
        check_input: bool = True,
        missing_values_in_feature_mask: Any = None,
    ) -> Any:
        if check_input or not _fast_path(self, y):
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

    def _make_estimator(self, append: bool = True, random_state: Any = None) -> Any:
        params = {name: getattr(self, name) for name in self.estimator_params}
        if random_state is not None:
            params["random_state"] = random_state.randint(MAX_SEED)
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
