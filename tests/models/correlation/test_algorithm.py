"""The pure correlation and clustering functions, on small hand-made frames."""

from typing import cast

import numpy as np
import pandas as pd
import pytest

from models.correlation import algorithm


def _frame(rows: dict[str, list[float]], columns: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", dtype=float)
    if columns is not None:
        frame.columns = columns
    return frame


@pytest.fixture
def blobs() -> tuple[pd.DataFrame, np.ndarray]:
    """Three well separated groups of 10 countries in 4 indicators of very different scales."""
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0, 0], [10, 10, 0, 0], [0, 10, 10, 10]], dtype=float)
    groups = np.repeat(np.arange(3), 10)
    points = centres[groups] + rng.normal(scale=0.5, size=(30, 4))
    scales = np.array([1.0, 1e3, 1e6, 0.01])
    frame = pd.DataFrame(points * scales, index=[f"C{i:02d}" for i in range(30)])
    return frame, groups


def test_standardise_gives_zero_mean_unit_spread_and_keeps_gaps() -> None:
    frame = _frame({"A": [1, 500, 7], "B": [3, 100, 7], "C": [5, np.nan, 7]}, ["x", "y", "flat"])
    z = algorithm.standardise(frame)
    assert np.allclose(z[["x", "y"]].mean(), 0)
    assert np.allclose(z[["x", "y"]].std(ddof=0), 1)
    assert np.isnan(cast(float, z.loc["C", "y"]))
    assert (z["flat"] == 0).all()


def test_identical_profiles_correlate_at_one() -> None:
    frame = _frame(
        {
            "A": [1, 200, 0.3, 40],
            "B": [1, 200, 0.3, 40],
            "C": [2, 100, 0.1, 45],
            "D": [3, 50, 0.2, 41],
        }
    )
    ranked = algorithm.correlate_country(frame, "A")
    assert ranked.index[0] == "B"
    assert ranked["B"] == pytest.approx(1.0)


def test_profiles_are_standardised_so_scale_does_not_decide() -> None:
    # Raw, every row looks like (small, huge, medium) and all would correlate near +1; in
    # z-scores B follows A's pattern (above, below, above the mean) and C is its mirror image.
    frame = _frame(
        {
            "A": [2.0, 1.0e6, 2000],
            "B": [1.9, 1.1e6, 1900],
            "C": [1.0, 2.0e6, 1000],
            "D": [1.5, 1.5e6, 1500],
        }
    )
    assert np.corrcoef(frame.loc["A"], frame.loc["C"])[0, 1] > 0.9  # raw: scale decides
    ranked = algorithm.correlate_country(frame, "A")
    assert ranked.index[0] == "B"
    assert ranked["B"] > 0.9
    assert ranked["C"] < -0.9


def test_correlation_uses_shared_indicators_and_skips_meaningless_pairs() -> None:
    # Every column is symmetric around 3, so D sits at the mean everywhere: a constant z-profile.
    frame = _frame(
        {
            "A": [1, 2, 3, 4, 5],
            "E": [5, 4, 3, 2, 1],
            "B": [1, 2, 4, np.nan, np.nan],  # three shared: kept
            "G": [5, 4, 2, np.nan, np.nan],
            "C": [5, 4, np.nan, np.nan, np.nan],  # two shared: left out
            "H": [1, 2, np.nan, np.nan, np.nan],
            "D": [3, 3, 3, 3, 3],  # constant profile: NaN, left out
        }
    )
    ranked = algorithm.correlate_country(frame, "A")
    assert set(ranked.index) == {"B", "E", "G"}
    z = algorithm.standardise(frame)
    expected = np.corrcoef(z.loc["A"].iloc[:3], z.loc["B"].iloc[:3])[0, 1]
    assert ranked["B"] == pytest.approx(expected)
    assert ranked["E"] == pytest.approx(-1.0)


def test_ranking_is_descending_excludes_the_country_and_stays_in_range(blobs) -> None:
    frame, _ = blobs
    ranked = algorithm.correlate_country(frame, "C00")
    assert "C00" not in ranked.index
    assert len(ranked) == len(frame) - 1
    assert ranked.is_monotonic_decreasing
    assert ranked.between(-1, 1).all()


def test_separated_clusters_are_recovered(blobs) -> None:
    frame, groups = blobs
    labels = algorithm.cluster_countries(frame, 3).labels
    assert pd.crosstab(labels.to_numpy(), groups).gt(0).sum().eq(1).all()
    assert labels.nunique() == 3


def test_gaps_are_filled_near_their_cluster(blobs) -> None:
    frame, groups = blobs
    holed = frame.copy()
    rng = np.random.default_rng(1)
    gaps = [(row, int(rng.integers(0, 4))) for row in range(0, 30, 3)]
    for row, column in gaps:
        holed.iloc[row, column] = np.nan
    result = algorithm.cluster_countries(holed, 3)
    assert pd.crosstab(result.labels.to_numpy(), groups).gt(0).sum().eq(1).all()
    for row, column in gaps:
        group_values = frame.iloc[np.flatnonzero(groups == groups[row]), column]
        spread = frame.iloc[:, column].std()
        assert abs(result.filled.iloc[row, column] - group_values.mean()) < 0.2 * spread
    observed = holed.notna().to_numpy()
    assert np.allclose(result.filled.to_numpy()[observed], holed.to_numpy()[observed])


def test_clustering_is_deterministic_and_canonical(blobs) -> None:
    frame, _ = blobs
    first = algorithm.cluster_countries(frame, 3).labels
    second = algorithm.cluster_countries(frame, 3).labels
    assert first.equals(second)
    firsts = pd.unique(first.to_numpy())
    assert list(firsts) == list(range(len(firsts)))


def test_k_is_capped_at_the_number_of_countries() -> None:
    frame = _frame({"A": [1, 2], "B": [5, 1], "C": [9, 9]})
    labels = algorithm.cluster_countries(frame, 10).labels
    assert sorted(labels) == [0, 1, 2]


def test_canonical_labels_follow_first_appearance() -> None:
    assert algorithm.canonical_labels(np.array([2, 2, 0, 1, 0])).tolist() == [0, 0, 1, 2, 1]
