"""History features: what a country's own series of the target says about the year being filled.

Everything here works on a `rows x years` array of one indicator (NaN where unobserved) and the
index of the target year. A gap is described by how far the nearest visible observations are
before and after the year. To train on the same kind of gap as the one being filled, a training
country's series can be shown with a window of years around the target year hidden: `hide_before`
and `hide_after` years (at least 1, so the target year itself is always hidden; `ALL` hides the
whole side).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.twolvlImp.calibration import weighted_quantile

ALL = 10_000  # hide every year on that side
FAR = 50.0  # the distance coded when there is no observation on a side
MAX_GAP = 8  # longer gaps are trained on as gaps of this length

GAP_BEFORE = "years since the previous value"
GAP_AFTER = "years until the next value"
LEFT_TREND = "trend from the values before"
RIGHT_TREND = "trend from the values after"
LEVEL = "level against other countries"
HISTORY_FEATURES = (GAP_BEFORE, GAP_AFTER, LEFT_TREND, RIGHT_TREND, LEVEL)


@dataclass(frozen=True)
class Anchors:
    """The visible observations around the target year, as year positions (-1: none)."""

    year: int  # position of the target year
    previous: np.ndarray  # the last visible observation before the year
    following: np.ndarray  # the first visible observation after it
    previous2: np.ndarray  # the one before `previous`
    following2: np.ndarray  # the one after `following`

    @property
    def has_history(self) -> np.ndarray:
        return (self.previous >= 0) | (self.following >= 0)

    def hidden_window(self) -> tuple[np.ndarray, np.ndarray]:
        """(hide_before, hide_after) that reproduce these gaps, capped at MAX_GAP."""
        before = np.where(self.previous >= 0, np.minimum(self.year - self.previous, MAX_GAP), ALL)
        after = np.where(self.following >= 0, np.minimum(self.following - self.year, MAX_GAP), ALL)
        return before, after


def find_anchors(
    observed: np.ndarray, year: int, hide_before: np.ndarray, hide_after: np.ndarray
) -> Anchors:
    """Nearest observations around `year` once `year - hide_before < t < year + hide_after` is
    hidden in each row (`observed` is rows x years, the hiding per row)."""
    positions = np.arange(observed.shape[1])[None, :]
    hide_before = np.asarray(hide_before)[:, None]
    hide_after = np.asarray(hide_after)[:, None]
    before = observed & (positions <= year - hide_before)
    after = observed & (positions >= year + hide_after)
    previous = _last(before)
    following = _first(after)
    previous2 = _last(before & (positions < previous[:, None]))
    following2 = _first(after & (positions > np.where(following < 0, 10**6, following)[:, None]))
    return Anchors(year, previous, following, previous2, following2)


def _last(mask: np.ndarray) -> np.ndarray:
    positions = np.arange(mask.shape[1])
    return np.where(mask.any(axis=1), np.max(np.where(mask, positions, -1), axis=1), -1)


def _first(mask: np.ndarray) -> np.ndarray:
    return np.where(mask.any(axis=1), np.argmax(mask, axis=1), -1)


def _take(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """values[row, positions[row]], NaN where the position is -1."""
    rows = np.arange(len(positions))
    taken = values[rows, np.maximum(positions, 0)]
    return np.where(positions >= 0, taken, np.nan)


def baseline(values: np.ndarray, anchors: Anchors) -> np.ndarray:
    """Linear interpolation between the anchors; the nearest value when only one side has one."""
    left, right = _take(values, anchors.previous), _take(values, anchors.following)
    span = (anchors.following - anchors.previous).astype(float)
    share = np.divide(
        anchors.year - anchors.previous, span, out=np.zeros_like(span), where=span > 0
    )
    both = np.isfinite(left) & np.isfinite(right)
    return np.where(both, left + share * (right - left), np.where(np.isfinite(left), left, right))


def features(
    values: np.ndarray, anchors: Anchors, base: np.ndarray, scale: float, centre: float
) -> pd.DataFrame:
    """The history features of each row, in units of the target's spread across countries.

    Gaps before and after (FAR when a side has nothing), where the trend of the two values on
    each side would put the year relative to the baseline, and the baseline's level against the
    other countries (`centre`: their median in the year).
    """
    year = anchors.year
    left, left2 = _take(values, anchors.previous), _take(values, anchors.previous2)
    right, right2 = _take(values, anchors.following), _take(values, anchors.following2)
    with np.errstate(invalid="ignore", divide="ignore"):
        left_slope = (left - left2) / (anchors.previous - anchors.previous2)
        right_slope = (right2 - right) / (anchors.following2 - anchors.following)
        left_trend = left + left_slope * (year - anchors.previous) - base
        right_trend = right - right_slope * (anchors.following - year) - base
    return pd.DataFrame(
        {
            GAP_BEFORE: np.where(anchors.previous >= 0, year - anchors.previous, FAR),
            GAP_AFTER: np.where(anchors.following >= 0, anchors.following - year, FAR),
            LEFT_TREND: np.nan_to_num(left_trend / scale),
            RIGHT_TREND: np.nan_to_num(right_trend / scale),
            LEVEL: (base - centre) / scale,
        }
    )


def changes(
    values: np.ndarray, year_values: np.ndarray, anchors: Anchors, scales: np.ndarray
) -> np.ndarray:
    """How each predictor moved between the anchors and the year, against the straight line.

    `values` is rows x years x predictors (raw), `year_values` rows x predictors (the year's
    values); the result is rows x predictors in units of each predictor's spread, 0 where a value
    is missing.
    """
    rows = np.arange(values.shape[0])
    left = values[rows, np.maximum(anchors.previous, 0)]
    right = values[rows, np.maximum(anchors.following, 0)]
    left[anchors.previous < 0] = np.nan
    right[anchors.following < 0] = np.nan
    span = (anchors.following - anchors.previous).astype(float)[:, None]
    share = (anchors.year - anchors.previous)[:, None] / np.where(span > 0, span, 1.0)
    both = np.isfinite(left) & np.isfinite(right)
    line = np.where(both, left + share * (right - left), np.where(np.isfinite(left), left, right))
    with np.errstate(invalid="ignore"):
        moved = (year_values - line) / scales[None, :]
    return np.nan_to_num(moved, nan=0.0, posinf=0.0, neginf=0.0)


def roughness(values: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """How far each row's visible series strays from straight lines: the mean absolute distance
    of a value from the midpoint of its two neighbouring years. NaN without such a triple."""
    middle = visible[:, 1:-1] & visible[:, :-2] & visible[:, 2:]
    with np.errstate(invalid="ignore"):
        bend = np.abs(values[:, 1:-1] - (values[:, :-2] + values[:, 2:]) / 2)
    bend = np.where(middle, bend, 0.0)
    counts = middle.sum(axis=1)
    return np.where(counts > 0, bend.sum(axis=1) / np.maximum(counts, 1), np.nan)


def visible_mask(
    observed: np.ndarray, year: int, hide_before: np.ndarray, hide_after: np.ndarray
) -> np.ndarray:
    """`observed` with each row's hidden window removed."""
    positions = np.arange(observed.shape[1])[None, :]
    hidden = (positions > year - np.asarray(hide_before)[:, None]) & (
        positions < year + np.asarray(hide_after)[:, None]
    )
    return observed & ~hidden


GUIDED_SHARE = (-1.0, 2.0)  # how far beyond its anchors a guided estimate may go, in anchor spans


def anchor_pair(anchors: Anchors) -> tuple[np.ndarray, np.ndarray]:
    """The two values a straight line through the year is drawn from: the nearest on each side,
    or the two nearest on the one side that has values ((-1, -1): fewer than two)."""
    both = (anchors.previous >= 0) & (anchors.following >= 0)
    left = (anchors.previous2 >= 0) & (anchors.following < 0)
    right = (anchors.following2 >= 0) & (anchors.previous < 0)
    first = np.select(
        [both, left, right], [anchors.previous, anchors.previous2, anchors.following], -1
    )
    second = np.select(
        [both, left, right], [anchors.following, anchors.previous, anchors.following2], -1
    )
    return first, second


def guided(values: np.ndarray, companions: np.ndarray, anchors: Anchors) -> np.ndarray:
    """The target at the year moved along each companion indicator instead of along time.

    Between the anchor pair (a, b) the target goes from T(a) to T(b); where the companion p went
    from p(a) to p(b) and stands at p(year), the guided estimate is
    T(a) + (p(year) - p(a)) / (p(b) - p(a)) * (T(b) - T(a)). `companions` is rows x years x k;
    the result rows x k, NaN where a value is missing or p did not move.
    """
    first, second = anchor_pair(anchors)
    rows = np.arange(len(first))
    start, end = _take(values, first), _take(values, second)
    p_start = companions[rows, np.maximum(first, 0)]
    p_end = companions[rows, np.maximum(second, 0)]
    p_year = companions[:, anchors.year]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (p_year - p_start) / (p_end - p_start)
    moved = np.abs(p_end - p_start) > 1e-12 * np.maximum(np.abs(p_start), 1.0)
    share = np.where(moved & (first[:, None] >= 0), np.clip(share, *GUIDED_SHARE), np.nan)
    return start[:, None] + share * (end - start)[:, None]


def companion_scores(
    values: np.ndarray, companions: np.ndarray, anchors: Anchors, weights: np.ndarray
) -> np.ndarray:
    """How well each companion guides the target through the hidden year, against the straight
    line: the weighted median absolute error of the guided estimates (the baseline where there is
    none) over that of the baseline. Below 1: the companion helps."""
    truth = values[:, anchors.year]
    base = baseline(values, anchors)
    known = np.isfinite(truth) & np.isfinite(base)
    if not known.any():
        return np.full(companions.shape[2], np.inf)
    estimates = guided(values, companions, anchors)[known]
    base_error = np.abs(base[known] - truth[known])
    errors = np.where(
        np.isfinite(estimates), np.abs(estimates - truth[known, None]), base_error[:, None]
    )
    reference = weighted_quantile(base_error, weights[known], 0.5)
    scores = np.array(
        [weighted_quantile(errors[:, k], weights[known], 0.5) for k in range(errors.shape[1])]
    )
    return scores / reference if reference > 0 else np.where(scores > 0, np.inf, 1.0)
