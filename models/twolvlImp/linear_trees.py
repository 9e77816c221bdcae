"""A ridge regression with trees on its residuals: a cross-section candidate of the history method.

Many indicators are close to linear functions of others on an asinh scale (a count and its rate
per person, women's and men's figures, two measures of one thing). Trees alone follow such a
relation in steps as coarse as the gaps between training countries, and a country whose whole
series is missing gets only the cross-section; the linear part follows the relation between
those steps, and the trees keep what is not linear. Whether a request uses it is decided by
cross-validation (`history_method._best_candidates`).
"""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import RidgeCV

from models.twolvlImp.calibration import TargetScale
from models.twolvlImp.fast_forest import ParamNamesOnce

RIDGE_ALPHAS = np.logspace(-3, 3, 13)


class LinearPlusTrees(ParamNamesOnce, RegressorMixin, BaseEstimator):
    """`trees` (a forest or boosting) fitted to the residuals of a ridge regression on the
    predictors, each asinh-scaled when skewed (`TargetScale`) and standardised."""

    def __init__(self, trees: RegressorMixin) -> None:
        self.trees = trees

    def fit(
        self, features: np.ndarray, target: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> "LinearPlusTrees":
        features = np.asarray(features, dtype=float)
        self.scales_ = TargetScale.fit_columns(features)
        scaled = self._scaled(features)
        self.centre_ = scaled.mean(axis=0)
        spread = scaled.std(axis=0)
        self.spread_ = np.where(spread > 0, spread, 1.0)
        standardised = (scaled - self.centre_) / self.spread_
        self.linear_ = RidgeCV(alphas=RIDGE_ALPHAS).fit(
            standardised, target, sample_weight=sample_weight
        )
        linear = self.linear_.predict(standardised)
        self.trees_ = clone(self.trees).fit(features, target - linear, sample_weight=sample_weight)
        self.feature_importances_ = self._importances(linear, self.trees_.predict(features))
        return self

    def linear_part(self, features: np.ndarray) -> np.ndarray:
        scaled = self._scaled(np.asarray(features, dtype=float))
        return self.linear_.predict((scaled - self.centre_) / self.spread_)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.linear_part(features) + self.trees_.predict(features)

    def _scaled(self, features: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [scale.forward(column) for scale, column in zip(self.scales_, features.T)]
        )

    def _importances(self, linear: np.ndarray, trees: np.ndarray) -> np.ndarray:
        """Each part's importances weighted by the variance it explains: the linear part's are
        its absolute coefficients (the predictors are standardised)."""
        coefficients = np.abs(self.linear_.coef_)
        linear_share = coefficients / coefficients.sum() if coefficients.sum() > 0 else coefficients
        tree_share = np.asarray(self.trees_.feature_importances_, dtype=float)
        linear_weight, tree_weight = float(np.var(linear)), float(np.var(trees))
        total = linear_weight + tree_weight
        if total <= 0:
            return tree_share
        return (linear_weight * linear_share + tree_weight * tree_share) / total
