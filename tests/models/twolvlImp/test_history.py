"""History features of the two-level imputation model, on small hand-made series."""

import numpy as np
import pytest

from models.twolvlImp import history

NAN = np.nan
# Three countries over 7 years; the target year is position 3.
SERIES = np.array(
    [
        [1.0, 2.0, 3.0, NAN, 5.0, 6.0, 7.0],  # a straight line with the year missing
        [NAN, NAN, 10.0, NAN, NAN, NAN, NAN],  # one value, before the year
        [NAN, NAN, NAN, NAN, NAN, NAN, NAN],  # never measured
    ]
)
YEAR = 3


def _anchors(series: np.ndarray, before: int = 1, after: int = 1) -> history.Anchors:
    rows = len(series)
    return history.find_anchors(
        np.isfinite(series), YEAR, np.full(rows, before), np.full(rows, after)
    )


def test_anchors_are_the_nearest_visible_values_around_the_year() -> None:
    anchors = _anchors(SERIES)
    assert anchors.previous.tolist() == [2, 2, -1]
    assert anchors.following.tolist() == [4, -1, -1]
    assert anchors.previous2.tolist() == [1, -1, -1]
    assert anchors.following2.tolist() == [5, -1, -1]
    assert anchors.has_history.tolist() == [True, True, False]


def test_hiding_a_window_moves_the_anchors_out_of_it() -> None:
    anchors = _anchors(SERIES[:1], before=2, after=3)
    assert (anchors.previous[0], anchors.following[0]) == (1, 6)
    everything_before = _anchors(SERIES[:1], before=history.ALL, after=1)
    assert everything_before.previous[0] == -1
    assert everything_before.following[0] == 4


def test_the_year_itself_is_hidden_even_when_observed() -> None:
    observed_year = SERIES[:1].copy()
    observed_year[0, YEAR] = 4.0
    anchors = _anchors(observed_year)
    assert (anchors.previous[0], anchors.following[0]) == (2, 4)


def test_hidden_window_reproduces_the_gaps_capped() -> None:
    series = np.full((2, 20), NAN)
    series[0, [0, 12]] = 1.0  # 10 years before the year (10), 2 after
    series[1, 11] = 1.0  # nothing before, 1 year after
    anchors = history.find_anchors(np.isfinite(series), 10, np.ones(2), np.ones(2))
    before, after = anchors.hidden_window()
    assert before.tolist() == [history.MAX_GAP, history.ALL]
    assert after.tolist() == [2, 1]


def test_baseline_interpolates_or_carries_the_nearest_value() -> None:
    anchors = _anchors(SERIES)
    base = history.baseline(SERIES, anchors)
    assert base[0] == pytest.approx(4.0)
    assert base[1] == pytest.approx(10.0)
    assert np.isnan(base[2])


def test_baseline_weights_uneven_gaps() -> None:
    series = np.array([[0.0, NAN, NAN, NAN, 8.0]])
    anchors = history.find_anchors(np.isfinite(series), 1, np.ones(1), np.ones(1))
    assert history.baseline(series, anchors)[0] == pytest.approx(2.0)


def test_features_describe_gaps_trends_and_level() -> None:
    curved = np.array([[1.0, 2.0, 4.0, NAN, 4.0, 2.0, 1.0]])
    anchors = _anchors(curved)
    base = history.baseline(curved, anchors)
    frame = history.features(curved, anchors, base, scale=2.0, centre=0.0)
    row = frame.iloc[0]
    assert row[history.GAP_BEFORE] == 1 and row[history.GAP_AFTER] == 1
    # The rise from 2 to 4 continued one year: 6, two above the flat baseline of 4; in units of 2.
    assert row[history.LEFT_TREND] == pytest.approx(1.0)
    assert row[history.RIGHT_TREND] == pytest.approx(1.0)
    assert row[history.LEVEL] == pytest.approx(2.0)
    one_sided = history.features(SERIES[1:2], _anchors(SERIES[1:2]), np.array([10.0]), 1.0, 0.0)
    assert one_sided.iloc[0][history.GAP_AFTER] == history.FAR
    assert one_sided.iloc[0][history.LEFT_TREND] == 0.0  # a single value has no trend


def test_guided_estimate_follows_a_companion_that_moved() -> None:
    target = np.array([[0.0, NAN, 10.0]])
    # The companion did 90% of its move by the hidden year: so does the target.
    companion = np.array([[[100.0], [190.0], [200.0]]])
    anchors = history.find_anchors(np.isfinite(target), 1, np.ones(1), np.ones(1))
    assert history.guided(target, companion, anchors)[0, 0] == pytest.approx(9.0)
    # A companion that did not move between the anchors gives no guidance.
    still = np.array([[[5.0], [7.0], [5.0]]])
    assert np.isnan(history.guided(target, still, anchors)[0, 0])


def test_guided_share_is_clipped() -> None:
    target = np.array([[0.0, NAN, 10.0]])
    wild = np.array([[[0.0], [1000.0], [1.0]]])
    anchors = history.find_anchors(np.isfinite(target), 1, np.ones(1), np.ones(1))
    assert history.guided(target, wild, anchors)[0, 0] == pytest.approx(
        10.0 * history.GUIDED_SHARE[1]
    )


def test_companion_scores_rank_a_co_moving_indicator_first() -> None:
    rng = np.random.default_rng(0)
    years, rows = 9, 60
    driver = np.cumsum(rng.normal(size=(rows, years)), axis=1)
    target = 3 * driver + 1
    noise = rng.normal(size=(rows, years, 1))
    companions = np.concatenate([driver[:, :, None], noise], axis=2)
    ones = np.ones(rows, dtype=int)
    anchors = history.find_anchors(np.isfinite(target), 4, ones, ones)
    scores = history.companion_scores(target, companions, anchors, np.ones(rows))
    assert scores[0] < 0.01  # the driver explains the target's path exactly
    assert scores[1] > 1  # noise guides worse than the straight line


def test_roughness_is_zero_on_a_line_and_grows_with_bends() -> None:
    line = np.arange(6.0)[None, :]
    zigzag = np.array([[0.0, 2.0, 0.0, 2.0, 0.0, 2.0]])
    visible = np.ones((1, 6), dtype=bool)
    assert history.roughness(line, visible)[0] == pytest.approx(0.0)
    assert history.roughness(zigzag, visible)[0] == pytest.approx(2.0)
    assert np.isnan(history.roughness(line, np.zeros((1, 6), dtype=bool))[0])


def test_visible_mask_hides_the_window_only() -> None:
    observed = np.ones((1, 7), dtype=bool)
    visible = history.visible_mask(observed, YEAR, np.array([2]), np.array([1]))
    assert visible[0].tolist() == [True, True, False, False, True, True, True]


def test_changes_measure_predictor_moves_off_the_line() -> None:
    anchors = _anchors(SERIES[:1])
    predictor = np.array([[[0.0], [0.0], [2.0], [9.0], [4.0], [0.0], [0.0]]])
    moved = history.changes(predictor, np.array([[9.0]]), anchors, np.array([2.0]))
    # The line from 2 (year 2) to 4 (year 4) passes 3 at the year; 9 is 6 above, 3 spreads.
    assert moved[0, 0] == pytest.approx(3.0)
    missing = history.changes(predictor * NAN, np.array([[9.0]]), anchors, np.array([2.0]))
    assert missing[0, 0] == 0.0
