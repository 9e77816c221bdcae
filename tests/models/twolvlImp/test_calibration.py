"""Target scaling and interval calibration of the history method, on synthetic samples."""

import numpy as np
import pytest

from models.twolvlImp import calibration


def test_skewed_non_negative_values_get_an_asinh_scale() -> None:
    values = np.random.default_rng(0).lognormal(mean=3, sigma=2, size=500)
    scale = calibration.TargetScale.fit(values)
    assert scale.unit is not None and scale.unit > 0
    assert scale.inverse(scale.forward(values)) == pytest.approx(values)
    # Log-like above the unit: equal ratios give nearly equal steps.
    steps = np.diff(scale.forward(np.array([1e4, 1e5, 1e6]) * scale.unit))
    assert steps[0] == pytest.approx(steps[1], rel=0.01)


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(50, 10, size=500),  # symmetric
        np.random.default_rng(2).lognormal(3, 2, size=500) - 5,  # negative values
        np.array([1.0, 2.0, 3.0]),  # too few to judge
    ],
    ids=["symmetric", "negative", "few"],
)
def test_other_values_keep_their_scale(values) -> None:
    scale = calibration.TargetScale.fit(values)
    assert scale.unit is None
    assert scale.forward(values) is values


def test_a_matrix_gets_each_columns_own_scale() -> None:
    """`fit_columns` is `fit` column by column, to the bit: skewed, symmetric, negative,
    zero-heavy, rounded (tied) and constant columns; a matrix with a gap, too few rows or no
    columns is fitted column by column."""
    rng = np.random.default_rng(4)
    columns = [
        rng.lognormal(3, 2, size=200),
        rng.normal(50, 10, size=200),
        rng.lognormal(3, 2, size=200) - 5,
        np.where(rng.random(200) < 0.6, 0.0, rng.lognormal(0, 3, size=200)),
        np.round(rng.lognormal(1, 1.5, size=200)),
        np.zeros(200),
    ]
    matrix = np.column_stack(columns)
    with_gap = matrix.copy()
    with_gap[3, 0] = np.nan
    for sample in (matrix, with_gap, matrix[:9], matrix[:, :0]):
        expected = [calibration.TargetScale.fit(column) for column in sample.T]
        assert calibration.TargetScale.fit_columns(sample) == expected
    assert [scale.unit is None for scale in calibration.TargetScale.fit_columns(matrix)] == [
        False, True, True, False, False, True,
    ]  # fmt: skip


def test_weighted_quantile_follows_the_weights() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    assert calibration.weighted_quantile(values, np.ones(4), 0.5) == 2.0
    heavy_top = np.array([1.0, 1.0, 1.0, 7.0])
    assert calibration.weighted_quantile(values, heavy_top, 0.5) == 4.0
    assert calibration.weighted_quantile(values, np.ones(4), 1.0) == 4.0


def test_conformal_intervals_cover_ninety_percent_of_new_rows() -> None:
    """Heteroscedastic noise: with the right difficulty the intervals are also efficient."""
    rng = np.random.default_rng(3)
    difficulty = rng.uniform(0.1, 3.0, size=4000)
    residuals = rng.normal(size=4000) * difficulty
    calibration_rows, new_rows = slice(0, 1000), slice(1000, None)
    scaled = calibration.conformal_multiplier(
        residuals[calibration_rows], difficulty[calibration_rows], np.ones(1000), 0.1
    )
    plain = calibration.conformal_multiplier(
        residuals[calibration_rows], np.ones(1000), np.ones(1000), 0.1
    )
    covered = np.abs(residuals[new_rows]) <= scaled * difficulty[new_rows]
    assert 0.87 <= covered.mean() <= 0.93
    covered_plain = np.abs(residuals[new_rows]) <= plain
    assert 0.87 <= covered_plain.mean() <= 0.93
    # Scaling by the difficulty gives narrower intervals on average for the same coverage.
    assert (scaled * difficulty[new_rows]).mean() < plain


def test_conformal_multiplier_respects_weights() -> None:
    residuals = np.array([1.0] * 50 + [10.0] * 50)
    one_group = np.array([1.0] * 50 + [0.0001] * 50)
    assert calibration.conformal_multiplier(residuals, np.ones(100), one_group, 0.1) == 1.0
    assert calibration.conformal_multiplier(residuals, np.ones(100), np.ones(100), 0.1) == 10.0
