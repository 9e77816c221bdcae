"""Country correlation and clustering: plain functions over pandas frames, no web types.

A frame is countries x indicators of one year, raw values with gaps as NaN (here the SIDS with
data in one dataset and category). Indicators are on very different scales (percentages next to
dollars and head counts), so every function standardises each indicator across the frame's
countries (z-scores) first; otherwise the largest-scale indicator would decide every result.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import kmeans_plusplus

SEED = 0
N_INIT = 10
MAX_EM_ITERATIONS = 20
LLOYD_MAX_STEPS = 300
FILL_TOLERANCE = 1e-3  # in standard deviations: the filled gaps have settled
# Fewer shared indicators than this make a correlation meaningless (two points always give ±1).
MIN_SHARED_INDICATORS = 3


@dataclass(frozen=True)
class Clustering:
    """Cluster labels of the countries and their values with the gaps filled."""

    labels: pd.Series  # country -> canonical label 0..k-1
    filled: pd.DataFrame  # the input frame, gaps filled from the centroids (original units)


def standardise(frame: pd.DataFrame) -> pd.DataFrame:
    """Z-scores of each column over the rows that have it (population sd); gaps stay NaN.

    A column without spread (a single value, or all equal) becomes 0 where observed.
    """
    spread = frame.std(ddof=0)
    return (frame - frame.mean()) / spread.where(spread > 0, 1.0)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r of two equal-length vectors; NaN when either is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    da, db = a - a.mean(), b - b.mean()
    return float(np.clip(da @ db / np.sqrt((da @ da) * (db @ db)), -1.0, 1.0))


def correlate_country(
    frame: pd.DataFrame, country: str, min_shared: int = MIN_SHARED_INDICATORS
) -> pd.Series:
    """Pearson correlation of every other country's profile with `country`'s, highest first.

    Profiles are rows of z-scores: each indicator is standardised across the frame's countries,
    so profiles are comparable across indicators of very different scales; indicators without
    spread carry no information and are dropped. Each pair uses only the indicators both countries
    have (pairwise complete). A country sharing fewer than `min_shared` indicators with `country`
    is left out, and so is a NaN correlation (a constant profile). Ties keep country-code order.
    """
    profiles = standardise(frame).loc[:, frame.nunique() > 1]
    target = profiles.loc[country].to_numpy()
    correlations: dict[str, float] = {}
    for code, row in profiles.drop(index=country).iterrows():
        values = row.to_numpy()
        shared = ~np.isnan(target) & ~np.isnan(values)
        if shared.sum() >= min_shared:
            correlations[str(code)] = pearson(target[shared], values[shared])
    ranked = pd.Series(correlations, dtype=float).dropna().sort_index()
    return ranked.sort_values(ascending=False, kind="stable")


def cluster_countries(frame: pd.DataFrame, k: int, seed: int = SEED) -> Clustering:
    """K-means clusters of the rows of `frame`, its gaps filled from the centroids (EM style).

    Columns are standardised (z-scores over the rows that have them) and gaps start at the column
    mean. After each k-means fit every gap takes the value of its row's centroid and k-means is
    fitted again, warm-started from the previous centroids, until the filled values settle (and so
    the labels stop changing), or after MAX_EM_ITERATIONS fits. `k` is capped silently at the
    number of distinct rows, hence at the number of countries. The first fit keeps the best of
    N_INIT seeded k-means++ starts, so the same frame gives the same labels; labels are renumbered
    in order of first appearance so that they are canonical.
    """
    z = standardise(frame).to_numpy(dtype=float)
    missing = np.isnan(z)
    filled = np.where(missing, 0.0, z)
    k = max(1, min(k, len(np.unique(filled, axis=0))))
    centres, labels = kmeans(filled, k, seed)
    for _ in range(MAX_EM_ITERATIONS - 1):
        centre_values = centres[labels][missing]
        settled = np.abs(centre_values - filled[missing]).max(initial=0.0) < FILL_TOLERANCE
        filled[missing] = centre_values
        if settled:
            break
        centres, labels = lloyd(filled, centres)
    return Clustering(
        labels=pd.Series(canonical_labels(labels), index=frame.index),
        filled=_original_units(frame, filled),
    )


def kmeans(points: np.ndarray, k: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Centroids and labels of the best (least inertia) of N_INIT seeded k-means++ starts."""
    random_state = np.random.RandomState(seed)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(N_INIT):
        start, _ = kmeans_plusplus(points, k, random_state=random_state)
        centres, labels = lloyd(points, start)
        inertia = float(((points - centres[labels]) ** 2).sum())
        if best is None or inertia < best[0]:
            best = (inertia, centres, labels)
    assert best is not None
    return best[1], best[2]


def lloyd(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means iterations from the given centroids until the labels stop changing."""
    labels = _nearest(points, centres)
    for _ in range(LLOYD_MAX_STEPS):
        centres = _means(points, labels, centres)
        new_labels = _nearest(points, centres)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return centres, labels


def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0, 1, ... in order of first appearance."""
    order: dict[int, int] = {}
    for label in labels:
        order.setdefault(int(label), len(order))
    return np.array([order[int(label)] for label in labels], dtype=int)


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distances = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return distances.argmin(axis=1)


def _means(points: np.ndarray, labels: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """The mean of each cluster; an emptied cluster keeps its previous centroid."""
    centres = previous.copy()
    for cluster in np.unique(labels):
        centres[cluster] = points[labels == cluster].mean(axis=0)
    return centres


def _original_units(frame: pd.DataFrame, standardised: np.ndarray) -> pd.DataFrame:
    spread = frame.std(ddof=0)
    scale = spread.where(spread > 0, 1.0).fillna(1.0).to_numpy()
    centre = frame.mean().fillna(0.0).to_numpy()
    return pd.DataFrame(standardised * scale + centre, index=frame.index, columns=frame.columns)
