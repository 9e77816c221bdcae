"""Survey clustering: plain functions over pandas frames, no web types.

Respondents are clustered on the questions of one factor: k-modes (the kmodes package) for
categorical questions only, k-means (scikit-learn, on standardised answers) for continuous ones
only, k-prototypes for a mix. The number of clusters is chosen by the elbow method over
k = 1..max_k (see `elbow_k`).

k-prototypes is implemented here (`k_prototypes`, Huang's cost, batch updates, vectorised) rather
than taken from kmodes: kmodes' KPrototypes fails to initialise whenever k exceeds the number of
distinct categorical answer combinations (a yes/no question with k = 3), and fits point by point
in Python, taking tens of seconds on a few thousand rows.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from kmodes.kmodes import KModes
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from common.core.cancellation import checkpoint

SEED = 7
KMEANS_N_INIT = 5  # seeded k-means++ starts per k; the cheapest fit is kept
# k-modes starts from Cao's density-based modes: deterministic, so one start is enough.
KMODES_N_INIT = 1
PROTOTYPES_N_INIT = 5  # seeded k-means++ starts per k for k-prototypes
PROTOTYPES_MAX_ITER = 100
# Weight of one categorical mismatch against the squared distance on standardised answers:
# Huang's 0.5 x the mean standard deviation of the continuous columns, which is 1 here.
GAMMA = 0.5
# Costs closer than this (relative to the largest) count as equal: the curve is flat.
FLAT_TOLERANCE = 1e-9
# A curve whose points are all within this of the first-to-last chord (normalised) is straight.
STRAIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Clustering:
    """Labels of the clustered rows and the elbow curve they were chosen from."""

    labels: np.ndarray  # one label per row, 0..k-1 numbered in order of first appearance
    k: int
    costs: list[float]  # costs[i]: the cost of the best fit with i + 1 clusters


def is_missing(values: pd.Series) -> pd.Series:
    """Null, NaN and blank strings are missing answers."""
    blank = values.map(lambda value: isinstance(value, str) and not value.strip())
    return values.isna() | blank.astype(bool)


def as_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The answers as floats (NaN where missing or invalid), and which answers are not numbers.

    Numbers and numeric strings are numbers; booleans, other strings, objects, lists and
    non-finite values are not.
    """
    numbers = values.map(_finite_number).astype(float)
    invalid = ~is_missing(values) & numbers.isna()
    return numbers, invalid


def gps_rows(table: pd.DataFrame, gps_questions: Sequence[str]) -> np.ndarray:
    """Which rows have a finite number for every GPS question (all rows when there are none)."""
    keep = np.ones(len(table), dtype=bool)
    for name in gps_questions:
        keep &= as_numbers(table[name])[0].notna().to_numpy()
    return keep


def prepare_features(
    table: pd.DataFrame, categorical: Sequence[str], continuous: Sequence[str]
) -> pd.DataFrame:
    """The factor's answers ready to cluster: categorical columns first, then continuous ones.

    Missing categorical answers get the question's most frequent answer (the first in sort order
    on a tie) and answers are compared as strings; missing continuous answers get the question's
    mean, then continuous columns are standardised. A question nobody answered becomes a constant
    column, which does not affect the clustering.
    """
    columns: dict[str, pd.Series] = {}
    for name in categorical:
        answers = table[name].where(~is_missing(table[name])).map(str, na_action="ignore")
        modes = answers.mode()
        columns[name] = answers.astype(object).fillna(modes.iloc[0] if len(modes) else "")
    if continuous:
        numbers = pd.DataFrame({name: as_numbers(table[name])[0] for name in continuous})
        numbers = numbers.fillna(numbers.mean()).fillna(0.0)
        scaled = StandardScaler().fit_transform(numbers.to_numpy())
        for position, name in enumerate(continuous):
            columns[name] = pd.Series(scaled[:, position], index=table.index)
    return pd.DataFrame(columns, index=table.index)


def elbow_k(costs: Sequence[float]) -> int:
    """The number of clusters at the elbow of a cost curve, costs[i] being the cost of i + 1.

    How k is chosen ("kneedle"): the curve is made non-increasing (a k whose fit came out costlier
    than a smaller k's gets that smaller cost, since more clusters can always do as well) and
    normalised to the unit square, k = 1..K mapped to x = 0..1 and the cost to y = 1..0. The
    elbow is the k whose point lies furthest below the straight line from the first point to the
    last; ties go to the smaller k. A flat curve (equal costs), or a straight one (no point below
    that line), has no elbow: k = 1. A curve of two points has no interior point: k = 2 when the
    cost drops, else 1. The answer is always in 1..len(costs), never 0.
    """
    if len(costs) == 0:
        raise ValueError("elbow_k needs at least one cost")
    curve = np.minimum.accumulate(np.asarray(costs, dtype=float))
    drop = curve[0] - curve[-1]
    if drop <= FLAT_TOLERANCE * max(abs(curve[0]), 1.0):
        return 1
    if len(curve) == 2:
        return 2
    x = np.linspace(0.0, 1.0, len(curve))
    y = (curve - curve[-1]) / drop
    below_chord = (1.0 - x) - y  # proportional to the distance from the chord
    best = int(np.argmax(below_chord))
    return best + 1 if below_chord[best] > STRAIGHT_TOLERANCE else 1


def cluster_survey(
    table: pd.DataFrame, categorical: Sequence[str], continuous: Sequence[str], max_k: int
) -> Clustering:
    """Cluster the rows of `table` on the given questions, k chosen by `elbow_k` in 1..max_k.

    With as many clusters as distinct rows, each distinct row is its own cluster at cost 0; a
    larger k cannot do better and gets that cost without a fit. Identical rows therefore give a
    flat curve and k = 1.
    """
    features = prepare_features(table, categorical, continuous)
    distinct = features.groupby(list(features.columns), sort=False).ngroup().to_numpy()
    n_distinct = int(distinct.max()) + 1
    fits = [_fit(features, len(categorical), k) for k in range(1, min(max_k + 1, n_distinct))]
    if n_distinct <= max_k:
        fits.append((distinct, 0.0))
    costs = [cost for _, cost in fits]
    costs += [costs[-1]] * (max_k - len(costs))
    k = min(elbow_k(costs), len(fits))  # padded points equal the last fitted one: never chosen
    labels = pd.factorize(fits[k - 1][0])[0]
    return Clustering(labels=labels, k=k, costs=costs)


def _finite_number(value: Any) -> float:
    """The value as a finite float, or NaN."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number | str):
        return math.nan
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def labels_per_row(kept: np.ndarray, labels: np.ndarray) -> list[int | None]:
    """One label per input row: the cluster of each kept row, None for the dropped ones."""
    result: list[int | None] = [None] * len(kept)
    for position, label in zip(np.flatnonzero(kept), labels):
        result[position] = int(label)
    return result


def k_prototypes(
    numeric: np.ndarray, codes: np.ndarray, k: int, seed: int = SEED
) -> tuple[np.ndarray, float]:
    """Huang's k-prototypes with batch updates: labels and cost of the cheapest seeded start.

    A row's cost is its squared Euclidean distance to its cluster's means on `numeric` plus GAMMA
    times its mismatches with the cluster's modes on `codes` (categorical answers as integers).
    Each start picks k distinct rows as centres, k-means++ style, so k must not exceed the number
    of distinct rows; a cluster left empty keeps its centre.
    """
    rng = np.random.default_rng(seed)
    best: tuple[np.ndarray, float] | None = None
    for _ in range(PROTOTYPES_N_INIT):
        rows = _plus_plus_rows(numeric, codes, k, rng)
        means, modes = numeric[rows].copy(), codes[rows].copy()
        labels = np.full(len(numeric), -1)
        for _ in range(PROTOTYPES_MAX_ITER):
            distances = _distances_to_centres(numeric, codes, means, modes)
            assigned = distances.argmin(axis=1)
            if np.array_equal(assigned, labels):
                break
            labels = assigned
            _update_centres(numeric, codes, labels, means, modes)
        cost = float(distances[np.arange(len(labels)), labels].sum())
        if best is None or cost < best[1]:
            best = (labels, cost)
    assert best is not None
    return best


def _distances_to_centres(
    numeric: np.ndarray, codes: np.ndarray, means: np.ndarray, modes: np.ndarray
) -> np.ndarray:
    """Rows x centres: squared distances (expanded, one matrix product) plus weighted mismatches."""
    squared = (
        (numeric**2).sum(axis=1)[:, None] - 2.0 * numeric @ means.T + (means**2).sum(axis=1)
    ).clip(min=0.0)
    mismatches = sum(
        (column[:, None] != centre[None, :]).astype(float)
        for column, centre in zip(codes.T, modes.T)
    )
    return squared + GAMMA * mismatches


def _mixed_distance(
    numeric: np.ndarray, codes: np.ndarray, mean: np.ndarray, mode: np.ndarray
) -> np.ndarray:
    return ((numeric - mean) ** 2).sum(axis=1) + GAMMA * (codes != mode).sum(axis=1)


def _plus_plus_rows(
    numeric: np.ndarray, codes: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """k rows drawn with probability proportional to their distance from those already drawn."""
    rows = [int(rng.integers(len(numeric)))]
    closest = _mixed_distance(numeric, codes, numeric[rows[0]], codes[rows[0]])
    for _ in range(1, k):
        rows.append(int(rng.choice(len(numeric), p=closest / closest.sum())))
        closest = np.minimum(
            closest, _mixed_distance(numeric, codes, numeric[rows[-1]], codes[rows[-1]])
        )
    return np.array(rows)


def _update_centres(
    numeric: np.ndarray, codes: np.ndarray, labels: np.ndarray, means: np.ndarray, modes: np.ndarray
) -> None:
    for cluster in range(len(means)):
        members = labels == cluster
        if members.any():
            means[cluster] = numeric[members].mean(axis=0)
            modes[cluster] = [np.bincount(column).argmax() for column in codes[members].T]


def _fit(features: pd.DataFrame, n_categorical: int, k: int) -> tuple[np.ndarray, float]:
    """Labels and cost of the (best) seeded fit with k clusters (k < the distinct rows)."""
    checkpoint()
    if n_categorical == 0:
        means = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=SEED)
        # One OpenMP thread (for this thread only): survey tables are small, and on a busy host
        # k-means' spinning OpenMP workers made it 40 times slower.
        with threadpool_limits(limits=1, user_api="openmp"):
            means.fit(features.to_numpy(dtype=float))
        return means.labels_, float(means.inertia_)
    if n_categorical == features.shape[1]:
        modes = KModes(n_clusters=k, init="Cao", n_init=KMODES_N_INIT, random_state=SEED)
        modes.fit(features.to_numpy(dtype=object))
        return modes.labels_, float(modes.cost_)
    codes = np.column_stack(
        [pd.factorize(features.iloc[:, column])[0] for column in range(n_categorical)]
    )
    return k_prototypes(features.iloc[:, n_categorical:].to_numpy(dtype=float), codes, k)
