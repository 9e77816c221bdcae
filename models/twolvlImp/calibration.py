"""Target scaling and interval calibration for the history method.

Skewed non-negative indicators (counts, money, deaths) are modelled on an asinh scale, so that
small island values are not drowned by large countries' errors. Intervals are split-conformal:
the (1 - alpha) weighted quantile of cross-validated absolute residuals, each divided by a
difficulty measure, gives the half-width as a multiple of the row's own difficulty.
"""

from dataclasses import dataclass

import numpy as np

# A non-negative indicator whose upper half spreads over 3 times its lower half is skewed.
SKEW_RATIO = 3.0
SKEW_QUANTILES = (0.1, 0.5, 0.9)
SKEW_MIN_VALUES = 10  # fewer observed values are too few to judge


@dataclass(frozen=True)
class TargetScale:
    """x -> asinh(x / unit) for skewed indicators (log-like above `unit`), identity otherwise."""

    unit: float | None  # None: identity

    @classmethod
    def fit(cls, values: np.ndarray) -> "TargetScale":
        """Chosen from every observed value of the indicator (all countries, all years)."""
        values = values[np.isfinite(values)]
        if len(values) < SKEW_MIN_VALUES or values.min() < 0:
            return cls(None)
        q10, q50, q90 = np.quantile(values, SKEW_QUANTILES)
        return cls._from_quantiles(values, q10, q50, q90)

    @classmethod
    def fit_columns(cls, matrix: np.ndarray) -> list["TargetScale"]:
        """`fit` of each column, the same scales; for a finite matrix, the columns' quantiles in
        one call (a model fits a scale per predictor in each cross-validation fold)."""
        if len(matrix) < SKEW_MIN_VALUES or not np.isfinite(matrix).all():
            return [cls.fit(column) for column in matrix.T]
        quantiles = np.quantile(matrix, SKEW_QUANTILES, axis=0)
        negative = matrix.min(axis=0) < 0
        return [
            cls(None) if negative[k] else cls._from_quantiles(matrix[:, k], *quantiles[:, k])
            for k in range(matrix.shape[1])
        ]

    @classmethod
    def _from_quantiles(
        cls, values: np.ndarray, q10: float, q50: float, q90: float
    ) -> "TargetScale":
        """Of finite non-negative values with these quantiles: a unit if they are skewed."""
        if q90 - q50 <= SKEW_RATIO * (q50 - q10):
            return cls(None)
        positive = values[values > 0]
        unit = float(np.quantile(positive, 0.25)) if len(positive) else 0.0
        return cls(unit if unit > 0 else None)

    def forward(self, values: np.ndarray) -> np.ndarray:
        return values if self.unit is None else np.arcsinh(values / self.unit)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values if self.unit is None else np.sinh(values) * self.unit


def weighted_quantile(values: np.ndarray, weights: np.ndarray, level: float) -> float:
    """The smallest value whose weighted cumulative share reaches `level` (the largest if none)."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    position = min(int(np.searchsorted(cumulative, level, side="left")), len(values) - 1)
    return float(values[order][position])


def conformal_multiplier(
    residuals: np.ndarray, difficulty: np.ndarray, weights: np.ndarray, alpha: float
) -> float:
    """The multiple of a row's difficulty that covers (1 - alpha) of the calibration rows.

    Split-conformal with the finite-sample correction: the quantile level is (1 - alpha)(1 + 1/n).
    """
    scores = np.abs(residuals) / difficulty
    level = min((1 - alpha) * (1 + 1 / len(scores)), 1.0)
    return weighted_quantile(scores, weights, level)
