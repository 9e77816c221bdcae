"""Panel imputation baselines for the accuracy benchmark: methods a platform user could pick.

Both work on a plain float matrix with NaN for the gaps and return it with every gap filled
(observed cells unchanged), so the benchmark can ask them about any blanked cell:

- `iterative_trees`: scikit-learn's `IterativeImputer` with extra trees (each column in turn
  regressed on all the others, rounds repeated), on per-column standardised values;
- `low_rank_complete`: softImpute (iterative SVD soft-thresholding, Mazumder, Hastie and
  Tibshirani 2010) on per-column standardised values, its shrinkage chosen on a validation split
  of the observed cells.

`frequent_columns` picks the columns a matrix is built from.
"""

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401 (enables the import)
from sklearn.impute import IterativeImputer
from threadpoolctl import threadpool_limits

MIN_OBSERVED_SHARE = 0.5  # columns observed for at least half the rows
# Extra trees: every column tried at each split (scikit-learn's default; a smaller share weakened
# this baseline by half on whole series, benchmarks/et_baseline_probe.py), 30 trees and one round
# (more of either measured within noise): about 70 CPU s for one year's matrix (241 x ~330).
TREES = 30
TREE_FEATURES = 1.0
TREE_ROUNDS = 1
# softImpute: the shrinkage path (fractions of the largest singular value), the validation share.
SHRINKAGE_FRACTIONS = tuple(float(f) for f in np.geomspace(0.3, 0.001, 11))
VALIDATION_SHARE = 0.1
SOFT_IMPUTE_ITERATIONS = 100
SOFT_IMPUTE_TOLERANCE = 1e-5
# How values are transformed before standardising: heavy-tailed counts and money fit a low-rank
# model better as asinh (log-like for large values); the validation split chooses.
TRANSFORMS = ("linear", "asinh")


@dataclass(frozen=True)
class LowRankFit:
    """A completed matrix and how its shrinkage was chosen."""

    filled: np.ndarray
    transform: str  # of the values before standardising: one of TRANSFORMS
    shrinkage: float  # the chosen lambda, on the standardised scale
    rank: int  # singular values left above zero
    # transform -> lambda -> mean absolute error on the validation cells (original z-scores)
    validation_errors: dict[str, dict[float, float]]


def frequent_columns(
    matrix: np.ndarray, required: np.ndarray | None = None, share: float = MIN_OBSERVED_SHARE
) -> np.ndarray:
    """Indices of the columns observed in at least `share` of the rows, plus `required` ones."""
    keep = (~np.isnan(matrix)).mean(axis=0) >= share
    if required is not None:
        keep[np.asarray(required, dtype=int)] = True
    return np.flatnonzero(keep)


def standardise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z-scores, column means, column scales) over the observed cells; a constant column has
    scale 1, a column with no value mean 0."""
    observed = ~np.isnan(matrix)
    counts = observed.sum(axis=0)
    filled = np.where(observed, matrix, 0.0)
    mean = np.divide(filled.sum(axis=0), counts, out=np.zeros(matrix.shape[1]), where=counts > 0)
    centred = np.where(observed, matrix - mean, 0.0)
    variance = np.divide(
        (centred**2).sum(axis=0), counts, out=np.zeros(matrix.shape[1]), where=counts > 0
    )
    scale = np.sqrt(variance)
    scale[scale == 0] = 1.0
    return (matrix - mean) / scale, mean, scale


def iterative_trees(
    matrix: np.ndarray,
    *,
    trees: int = TREES,
    features: float = TREE_FEATURES,
    rounds: int = TREE_ROUNDS,
    seed: int = 0,
) -> np.ndarray:
    """Every gap of `matrix` filled by iterative imputation with extra trees.

    Columns are standardised first (trees don't need it, but the imputer's starting means and its
    convergence test compare columns). Each round regresses each incomplete column on all the
    others (`trees` trees, `features` of the columns tried at each split), in order of fewest
    gaps first, for at most `rounds` rounds. A column with no observed value stays NaN.
    """
    z, mean, scale = standardise(matrix)
    empty = np.isnan(matrix).all(axis=0)
    imputer = IterativeImputer(
        estimator=ExtraTreesRegressor(
            n_estimators=trees, max_features=features, random_state=seed, n_jobs=1
        ),
        max_iter=rounds,
        random_state=seed,
        skip_complete=True,
        keep_empty_features=True,
    )
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # `rounds` is a cap on purpose
        filled = imputer.fit_transform(z)
    filled[:, empty] = np.nan
    out = filled * scale + mean
    observed = ~np.isnan(matrix)
    out[observed] = matrix[observed]  # exactly the observed values, not a round trip
    return out


def soft_impute(
    z: np.ndarray,
    observed: np.ndarray,
    shrinkage: float,
    *,
    start: np.ndarray | None = None,
    iterations: int = SOFT_IMPUTE_ITERATIONS,
    tolerance: float = SOFT_IMPUTE_TOLERANCE,
) -> np.ndarray:
    """The softImpute solution for one shrinkage: the low-rank matrix fitted to `z` on `observed`.

    Each step fills the unobserved cells from the current estimate and replaces the estimate by
    the SVD of the result with every singular value lowered by `shrinkage` (floored at 0). The
    SVD comes from the eigen-decomposition of the rows' Gram matrix (rows << columns here, and two
    matrix products are much cheaper than an SVD of a wide matrix). `start` warm-starts it.
    """
    data = np.where(observed, z, 0.0)
    estimate = np.zeros_like(data) if start is None else start
    for _ in range(iterations):
        full = np.where(observed, data, estimate)
        eigenvalues, vectors = np.linalg.eigh(full @ full.T)
        singular = np.sqrt(np.clip(eigenvalues, 0.0, None))
        keep = singular > shrinkage
        factor = (singular[keep] - shrinkage) / singular[keep]
        projector = (vectors[:, keep] * factor) @ vectors[:, keep].T
        updated = projector @ full
        change = np.sum((updated - estimate) ** 2) / max(np.sum(estimate**2), 1e-12)
        estimate = updated
        if change < tolerance:
            break
    return estimate


def _rank(estimate: np.ndarray) -> int:
    singular = np.linalg.svd(estimate, compute_uv=False)
    return int((singular > 1e-8 * max(singular[0], 1e-12)).sum())


def low_rank_complete(
    matrix: np.ndarray,
    *,
    fractions: tuple[float, ...] = SHRINKAGE_FRACTIONS,
    validation_share: float = VALIDATION_SHARE,
    seed: int = 0,
) -> LowRankFit:
    """Every gap of `matrix` filled by softImpute on its per-column z-scores.

    The shrinkage lambda and the transform (`TRANSFORMS`: the values as they are, or asinh of
    them over the column's median |value|, then z-scores) are chosen on a validation split: a
    seeded `validation_share` of the observed cells is hidden, the path of lambdas (`fractions`
    of the largest singular value of the zero-filled z-scores, from strong to weak shrinkage,
    each fit warm-started from the one before) is fitted on the rest for each transform, and the
    pair with the lowest mean absolute error on the hidden cells (in z-scores of the original
    values) wins. That path is then fitted again on every observed cell down to that lambda.
    Weak shrinkage means a high rank: a path stops early once the validation error rises.
    """
    if not 0 < validation_share < 1:
        raise ValueError(f"validation_share must be in (0, 1), not {validation_share}")
    # One BLAS thread: on a shared, busy machine OpenBLAS's spinning threads made it ~10x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        return _low_rank_complete(matrix, fractions, validation_share, seed)


def _transformed(matrix: np.ndarray, transform: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, unit): `asinh` is asinh(value / unit), unit the column's median |value|."""
    unit = np.ones(matrix.shape[1])
    if transform == "linear":
        return matrix, unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty column's median
        median = np.nanmedian(np.abs(matrix), axis=0)
    unit = np.where(median > 0, median, 1.0)
    return np.arcsinh(matrix / unit), unit


def _restored(values: np.ndarray, unit: np.ndarray, transform: str) -> np.ndarray:
    return values if transform == "linear" else np.sinh(values) * unit


def _path(
    z: np.ndarray, training: np.ndarray, lambdas: list[float], until: float | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """softImpute down a path of lambdas, each fit warm-started from the one before."""
    estimate = None
    for shrinkage in lambdas:
        estimate = soft_impute(z, training, shrinkage, start=estimate)
        yield shrinkage, estimate
        if shrinkage == until:
            return


def _low_rank_complete(
    matrix: np.ndarray, fractions: tuple[float, ...], validation_share: float, seed: int
) -> LowRankFit:
    observed = ~np.isnan(matrix)
    cells = np.flatnonzero(observed)
    count = max(1, round(validation_share * len(cells)))
    hidden = np.zeros(matrix.shape, dtype=bool)
    hidden.flat[np.random.default_rng(seed).choice(cells, size=count, replace=False)] = True
    training = observed & ~hidden
    # Validation errors on one scale for both transforms: the original values' z-scores.
    error_scale = np.broadcast_to(standardise(matrix)[2], matrix.shape)[hidden]
    errors: dict[str, dict[float, float]] = {}
    fits = {}
    for transform in TRANSFORMS:
        values, unit = _transformed(matrix, transform)
        z, mean, scale = standardise(values)
        z = np.where(observed, z, 0.0)
        lambdas = [f * float(np.linalg.norm(z, 2)) for f in fractions]
        fits[transform] = (z, mean, scale, unit, lambdas)
        errors[transform] = {}
        for shrinkage, estimate in _path(z, training, lambdas):
            guess = _restored(estimate * scale + mean, unit, transform)[hidden]
            error = np.mean(np.abs(guess - matrix[hidden]) / error_scale)
            errors[transform][shrinkage] = float(error)
            if error > min(errors[transform].values()) * 1.05:
                break  # past the best: weaker shrinkage only over-fits from here
    transform, best = min(
        ((t, shrinkage) for t, path in errors.items() for shrinkage in path),
        key=lambda pair: errors[pair[0]][pair[1]],
    )
    z, mean, scale, unit, lambdas = fits[transform]
    *_, (_, estimate) = _path(z, observed, lambdas, until=best)
    filled = np.where(observed, matrix, _restored(estimate * scale + mean, unit, transform))
    return LowRankFit(filled, transform, best, _rank(estimate), errors)
