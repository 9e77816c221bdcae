"""The panel baselines on small generated matrices: they fill every gap, keep observed values,
and recover structure better than the column mean does."""

import numpy as np
import pytest

from benchmarks.panel_baselines import (
    frequent_columns,
    iterative_trees,
    low_rank_complete,
    soft_impute,
    standardise,
)


def _low_rank(rows: int, columns: int, rank: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(rows, rank))
    loadings = rng.normal(size=(rank, columns))
    # Columns on different scales and offsets, as indicators are.
    return (scores @ loadings) * rng.uniform(1, 100, columns) + rng.uniform(-50, 50, columns)


def _blank(matrix: np.ndarray, share: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    hidden = np.random.default_rng(seed).random(matrix.shape) < share
    return np.where(hidden, np.nan, matrix), hidden


def _column_mean_error(truth: np.ndarray, blanked: np.ndarray, hidden: np.ndarray) -> float:
    means = np.broadcast_to(np.nanmean(blanked, axis=0), truth.shape)
    return float(np.mean(np.abs(means[hidden] - truth[hidden])))


def test_standardise_gives_z_scores_of_the_observed_cells() -> None:
    matrix = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, np.nan], [np.nan, 5.0, np.nan]])
    z, mean, scale = standardise(matrix)
    assert mean.tolist() == [2.0, 5.0, 0.0]
    assert scale.tolist() == [1.0, 1.0, 1.0]  # a constant and an empty column get scale 1
    assert z[:2, 0].tolist() == [-1.0, 1.0]
    assert np.isnan(z[2, 0]) and np.isnan(z[:, 2]).all()


def test_frequent_columns_keep_half_observed_and_required_ones() -> None:
    matrix = np.array([[1.0, np.nan, np.nan], [2.0, 3.0, np.nan], [np.nan, np.nan, 4.0]])
    assert frequent_columns(matrix).tolist() == [0]
    assert frequent_columns(matrix, required=np.array([2])).tolist() == [0, 2]
    assert frequent_columns(matrix, share=0.3).tolist() == [0, 1, 2]


def test_full_shrinkage_gives_the_zero_matrix_and_none_gives_the_data_back() -> None:
    z = standardise(_low_rank(12, 20, 2))[0]
    observed = np.ones_like(z, dtype=bool)
    largest = float(np.linalg.svd(z, compute_uv=False)[0])
    assert np.allclose(soft_impute(z, observed, largest * 1.01), 0.0)
    assert np.allclose(soft_impute(z, observed, 0.0), z)


def test_low_rank_matrix_is_recovered_far_better_than_by_column_means() -> None:
    truth = _low_rank(60, 80, 3)
    blanked, hidden = _blank(truth, 0.2)
    fit = low_rank_complete(blanked)
    assert not np.isnan(fit.filled).any()
    assert np.array_equal(fit.filled[~hidden], truth[~hidden])
    error = float(np.mean(np.abs(fit.filled[hidden] - truth[hidden])))
    assert error < 0.1 * _column_mean_error(truth, blanked, hidden)
    chosen = fit.validation_errors[fit.transform][fit.shrinkage]
    assert chosen == min(min(path.values()) for path in fit.validation_errors.values())


def test_iterative_trees_fill_every_cell_of_a_tiny_matrix() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=40)
    truth = np.column_stack([base, 3 * base + 1, np.exp(base), rng.normal(size=40)])
    blanked, hidden = _blank(truth, 0.2, seed=3)
    filled = iterative_trees(blanked)
    assert not np.isnan(filled).any()
    assert np.array_equal(filled[~hidden], truth[~hidden])
    # The three related columns predict each other; the column mean cannot.
    related = hidden.copy()
    related[:, 3] = False
    error = float(np.mean(np.abs(filled[related] - truth[related])))
    assert error < 0.5 * _column_mean_error(truth, blanked, related)


def test_iterative_trees_leave_an_empty_column_empty_and_are_seeded() -> None:
    matrix = _blank(_low_rank(20, 5, 2), 0.2)[0]
    matrix[:, 4] = np.nan
    filled = iterative_trees(matrix, seed=5)
    assert np.isnan(filled[:, 4]).all()
    assert not np.isnan(filled[:, :4]).any()
    assert np.array_equal(filled[:, :4], iterative_trees(matrix, seed=5)[:, :4])


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_low_rank_validation_share_must_leave_cells_on_both_sides(share: float) -> None:
    with pytest.raises(ValueError, match="validation_share"):
        low_rank_complete(_blank(_low_rank(15, 10, 2), 0.2)[0], validation_share=share)


def test_low_rank_on_a_tiny_matrix_still_validates_on_a_cell() -> None:
    blanked = _blank(_low_rank(4, 3, 1), 0.2)[0]
    fit = low_rank_complete(blanked, validation_share=0.01)
    assert not np.isnan(fit.filled).any()
    assert all(np.isfinite(list(path.values())).all() for path in fit.validation_errors.values())
